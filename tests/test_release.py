"""The student release (assignments/task3_bert/) is in sync with the source and leaks nothing."""
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbgrader.validator import Validator
from traitlets.config import Config

from coursekit import notebook_cells as nc
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR, check_release, generate
from coursekit.solution import ANSWER_KEY, ensure_data

SOURCE_NB = SOURCE_DIR / f"{ASSIGNMENT}.ipynb"
RELEASE_NB = RELEASE_DIR / f"{ASSIGNMENT}.ipynb"


def files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("release") / ASSIGNMENT)


def test_release_is_committed_and_regenerates_identically(regenerated):
    assert RELEASE_NB.exists(), "нет assignments/task3_bert/: make release"
    committed, fresh = files(RELEASE_DIR), files(regenerated)
    assert sorted(committed) == sorted(fresh)
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"релиз устарел ({stale}): make release"


def test_release_has_no_solution_text_and_tests_py_is_identical():
    check_release(RELEASE_DIR)  # markers, solution/hidden lines, tests.py bytes, no student output
    assert files(RELEASE_DIR).keys() >= {f"{ASSIGNMENT}.ipynb", "tests.py"}


def test_stubs_raise_not_implemented_and_cells_compile():
    nb = nc.read(RELEASE_NB)
    stubs = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        compile(source, nc.nbg(cell).get("grade_id", "cell"), "exec")  # stubbing kept the syntax valid
        if nc.nbg(cell).get("solution"):
            assert "# ВАШ КОД ЗДЕСЬ\n" in cell.source and "raise NotImplementedError()" in cell.source
            stubs += 1
    assert stubs == len([c for c in nc.read(SOURCE_NB).cells if nc.nbg(c).get("solution") and c.cell_type == "code"])
    # a stub on its own really raises
    stub = next(c for c in nb.cells if nc.nbg(c).get("grade_id") == "min_len")
    with pytest.raises(NotImplementedError):
        exec(stub.source, {})
    answers = [c for c in nb.cells if nc.nbg(c).get("solution") and c.cell_type == "markdown"]
    assert answers and all("ВАШ ОТВЕТ ЗДЕСЬ" in c.source for c in answers)


def test_points_per_part():
    src = nc.read(SOURCE_NB)
    by_part = nc.points_by_part(src)
    assert {k: v for k, v in by_part.items() if k != "bonus"} == {1: 2.0, 2: 2.0, 3: 1.0, 4: 5.0}
    assert sum(by_part.values()) == pytest.approx(10.0)
    assert nc.points_by_part(nc.read(RELEASE_NB)) == by_part
    ids = [g["grade_id"] for g in nc.grade_cells(src)]
    assert len(ids) == len(set(ids))
    assert all(g["part"] is not None for g in nc.grade_cells(src)), "grade cell above '## Часть 1'"


def validate(notebook_dir, tmp_path, monkeypatch, predictions=True):
    data = ensure_data().resolve()
    monkeypatch.setenv("TASK3_DATA", str(data))
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")
    test = pd.read_csv(ANSWER_KEY, keep_default_na=False)  # the grader's labels: a perfect file
    work = tmp_path / "nb"
    shutil.copytree(notebook_dir, work, ignore=shutil.ignore_patterns("runs", "test_predictions*.csv"))
    if predictions:  # perfect predictions: the F1 check passes
        pd.DataFrame({"text": test["text"], "label": test["label"].astype(int)}).to_csv(
            work / "test_predictions.csv", index=False)
    config = Config({"Execute": {"timeout": 300}})
    return Validator(config=config).validate(str(work / f"{ASSIGNMENT}.ipynb"))


@pytest.mark.slow
def test_nbgrader_validate_passes_on_source(tmp_path, monkeypatch):
    results = validate(SOURCE_DIR, tmp_path, monkeypatch)
    assert results == {}, {k: [c.get("source", "")[:80] + "\n" + c.get("raw_error", "")[-400:] for c in v]
                           for k, v in results.items()}


def test_nbgrader_validate_fails_on_untouched_release(tmp_path, monkeypatch):
    results = validate(RELEASE_DIR, tmp_path, monkeypatch, predictions=False)
    failed = [c["source"] for c in results.get("failed", [])]
    failed_checks = [s for s in failed if s.startswith("# Проверка")]  # the rest: unanswered questions
    auto = [g for g in nc.grade_cells(nc.read(RELEASE_NB)) if g["auto"]]
    assert len(failed_checks) == len(auto), failed  # every autograded check fails on the stubs
