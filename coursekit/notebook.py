"""Load the code of the solution notebook (the one copy of the reference) as a module."""
import types
from pathlib import Path

import nbformat

from coursekit import SOLUTION_NB

DEFS_TAG = "defs"


def defs_source(path=SOLUTION_NB, patches=()):
    """Source of the cells tagged `defs`, joined in order, with `(old, new)` patches applied."""
    nb = nbformat.read(str(path), as_version=4)
    cells = [c.source for c in nb.cells
             if c.cell_type == "code" and DEFS_TAG in c.metadata.get("tags", [])]
    if not cells:
        raise ValueError(f"{path}: no code cells tagged {DEFS_TAG!r}")
    source = "\n\n".join(cells)
    for old, new in patches:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"patch target must occur exactly once, found {count}: {old!r}")
        source = source.replace(old, new)
    return source


def load_defs(path=SOLUTION_NB, patches=(), name="solution"):
    """Execute the `defs` cells of a notebook in a fresh module and return it."""
    module = types.ModuleType(name)
    module.__file__ = str(Path(path))
    exec(compile(defs_source(path, patches), f"<{name}:{Path(path).name}>", "exec"),
         module.__dict__)
    return module
