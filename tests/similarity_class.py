"""A small class for the similarity report (tests/test_similarity.py, bench/similarity_compare.py):
the reference solution, an independent implementation (tests/alt_solution.py), a disguised copy of
the reference (coursekit.disguise: renamed variables, reordered helpers) and the untouched release."""
import inspect
import re
from pathlib import Path

import nbformat

from coursekit import demo
from coursekit import notebook_cells as nc
from coursekit.disguise import disguise
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR


def alt_notebook(rel_nb, src_nb):
    """The release with every component written by tests/alt_solution.py; a cell with no component
    there (glue code such as make_tokenizer, finetune) gets the reference's code: the pessimistic
    case of two independent students who write the same short glue."""
    from tests import alt_solution as alt
    ref = demo.fill(nbformat.from_dict(rel_nb), src_nb)
    ref_src = {nc.nbg(c).get("grade_id"): c.source for c in ref.cells}
    nb = nbformat.from_dict(rel_nb)
    helpers = {n: o for n, o in vars(alt).items() if n.startswith("_") and inspect.isfunction(o)}
    for cell in nb.cells:
        gid = nc.nbg(cell).get("grade_id")
        if not nc.nbg(cell).get("solution") or cell.cell_type != "code":
            continue
        names = [n for n in re.findall(r"^(?:class|def) (\w+)", ref_src[gid], re.M) if hasattr(alt, n)]
        if not names:
            cell.source = ref_src[gid]
            continue
        parts = [inspect.getsource(getattr(alt, n)) for n in names]
        used = [inspect.getsource(f) for h, f in helpers.items() if any(h in p for p in parts)]
        cell.source = "\n\n".join(used + parts)
    return nb


def copied_notebook(rel_nb, src_nb):
    nb = demo.fill(nbformat.from_dict(rel_nb), src_nb)
    for cell in nb.cells:
        if nc.nbg(cell).get("solution") and cell.cell_type == "code":
            cell.source = disguise(cell.source)
    return nb


def build(submitted):
    """submitted/<login>/task3_bert/task3_bert.ipynb for reference, independent, copy, release."""
    src_nb = nc.read(SOURCE_DIR / f"{ASSIGNMENT}.ipynb")
    rel_nb = nc.read(RELEASE_DIR / f"{ASSIGNMENT}.ipynb")
    class_ = {"reference": demo.fill(nbformat.from_dict(rel_nb), src_nb),
              "independent": alt_notebook(rel_nb, src_nb),
              "copy": copied_notebook(rel_nb, src_nb),
              "release": nbformat.from_dict(rel_nb)}
    for login, nb in class_.items():
        dest = Path(submitted) / login / ASSIGNMENT
        dest.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(dest / f"{ASSIGNMENT}.ipynb"))
    return class_
