"""Load the code of the solution notebook (the one copy of the reference) as a module; its
profiles; the rows of the data file its `read_data` cell keeps."""
import ast
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


def _cell(path, grade_id):
    return next(c for c in nbformat.read(str(path), as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _profiles_constant(path, name):
    """The value of `name = <literal>` in the notebook's `profiles` cell."""
    for node in ast.parse(_cell(path, "profiles").source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return eval(compile(ast.Expression(node.value), "profiles", "eval"), {"__builtins__": {}, "dict": dict})
    raise ValueError(f"{path}: no {name} in the profiles cell")


def notebook_profiles(path=SOLUTION_NB):
    """PROFILES of the notebook's `profiles` cell (one copy of the hyper-parameters)."""
    return _profiles_constant(path, "PROFILES")


def grading_config(path=SOLUTION_NB):
    """CONFIG as the notebook makes it at grading (NBGRADER_EXECUTION): smoke, GRADING_SUBSAMPLE rows."""
    return dict(notebook_profiles(path)["smoke"], subsample=_profiles_constant(path, "GRADING_SUBSAMPLE"))


def read_data(data_path, profile="smoke", path=SOLUTION_NB, config=None):
    """The frame the notebook's `read_data` cell makes of `data_path` with `profile` (or `config`):
    that cell's own code, so that the notebook and the instructor's tools keep the same rows."""
    import numpy as np
    import pandas as pd
    namespace = dict(pd=pd, np=np, DATA_PATH=str(data_path),
                     CONFIG=config if config is not None else notebook_profiles(path)[profile])
    exec(compile(_cell(path, "read_data").source, f"<read_data:{Path(path).name}>", "exec"), namespace)
    return namespace["data"]


def write_kept_rows(data_path, out_path, path=SOLUTION_NB, config=None):
    """Write the rows `read_data` keeps of `data_path` at grading (or with `config`) to out_path
    (same columns, same order) and the category names beside it. The cell, run on that file,
    keeps all of it and gives the same frame (tests/test_profiles.py): what the grader gives a
    kernel instead of the whole file."""
    frame = read_data(data_path, path=path, config=config if config is not None else grading_config(path))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out_path, index=False)
    categories = Path(data_path).with_name("task3_categories.csv")
    if categories.exists():
        out_path.with_name(categories.name).write_bytes(categories.read_bytes())
    return out_path
