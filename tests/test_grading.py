"""Autograding of a demo class gives the expected scores (slow: a few minutes on 2 cores).

The test grades a representative subset of coursekit.demo's cases; `make demo` grades all of them
(the infinite loop alone costs a full cell timeout). Predictions are the test labels of the answer key
(F1 = 1), so this test does not need `make solution`.
"""
import csv

import pandas as pd
import pytest
from nbgrader.api import Gradebook

from coursekit import demo
from coursekit import notebook_cells as nc
from coursekit.course import Course
from coursekit.grading import tree_hash
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR
from coursekit.solution import ANSWER_KEY, ensure_data

SUBSET = ["full", "untouched", "partial_parts12", "grade_cells_deleted", "grade_cell_retyped",
          "tests_monkeypatched", "kernel_crash", "warnings_stderr", "predictions_partial",
          "predictions_garbage", "tamper_input_transformer", "tamper_forged_records", "tamper_checks_replaced",
          "tamper_f1_cell_silenced", "tamper_tests_file_and_torch", "tamper_counter_rewind", "honest_data_idioms",
          "attack_links_then_os_exit", "broken_notebook"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    data = ensure_data().resolve()
    test = pd.read_csv(ANSWER_KEY, keep_default_na=False)
    predictions = tmp / "predictions.csv"
    pd.DataFrame({"text": test["text"], "label": test["label"].astype(int)}).to_csv(predictions, index=False)
    submitted = tmp / "out" / "submitted"
    table = demo.run_demo(set(SUBSET), workers=2, cell_timeout=60, timeout=600, course=Course(tmp / "out"),
                          predictions=predictions, data=data)
    return dict(table=table, tmp=tmp, submitted=submitted, before=tree_hash(submitted))


@pytest.mark.slow
def test_demo_subset_grades_to_expected(graded):
    table = graded["table"]
    assert sorted(r["submission"] for r in table) == sorted(f"demo_{c}" for c in SUBSET)
    wrong = [r for r in table if not r["ok"]]
    assert not wrong, "\n".join(f"{r['submission']}: ожидалось {r['expected']}, получено {r['actual']} "
                                f"({r['status']}: {r['reason']})" for r in wrong)


@pytest.mark.slow
def test_expected_scores_follow_the_notebook(graded):
    src = nc.read(SOURCE_DIR / f"{ASSIGNMENT}.ipynb")
    auto = sum(g["points"] for g in nc.grade_cells(src) if g["auto"])
    rows = {r["submission"]: r for r in graded["table"]}
    assert rows["demo_full"]["expected"] == pytest.approx(auto)
    assert rows["demo_untouched"]["expected"] == 0
    part12 = sum(g["points"] for g in nc.grade_cells(src) if g["auto"] and g["part"] in (1, 2))
    assert rows["demo_partial_parts12"]["expected"] == pytest.approx(part12)
    # the F1 points come from the file, scored by the grader, even after the kernel died
    assert rows["demo_kernel_crash"]["expected"] == pytest.approx(part12 + 2.5)
    assert rows["demo_kernel_crash"]["status"] == "crashed"
    assert 0 < rows["demo_predictions_partial"]["expected"] < auto


@pytest.mark.slow
def test_grades_csv_gradebook_and_submitted_untouched(graded):
    tmp = graded["tmp"]
    assert tree_hash(graded["submitted"]) == graded["before"]
    with open(tmp / "out" / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert set(rows) == {f"demo_{c}" for c in SUBSET}
    for column in ("part1", "part2", "part3", "part4", "test_attention", "test_f1", "total", "status", "seconds"):
        assert column in rows["demo_full"]
    with Gradebook(f"sqlite:///{tmp / 'out' / 'gradebook.db'}") as gb:
        for student, row in rows.items():
            nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            auto = sum(g.auto_score or 0 for g in nb.grades if g.cell.cell_type == "code")
            assert auto == pytest.approx(float(row["auto_total"])), student


def test_release_used_by_demo_exists():
    assert (RELEASE_DIR / f"{ASSIGNMENT}.ipynb").exists(), "make release"


@pytest.mark.slow
def test_the_grader_s_word_reaches_the_feedback(graded):
    """Where the notebook showed ✓ and the grader's replay said no, the feedback says so, in
    Russian, with the grader's message; the F1 cell shows the grader's F1 and no hidden tests."""
    feedback = Course(graded["tmp"] / "out").feedback
    html = (feedback / "demo_tests_monkeypatched" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Проверяющий: ✗ MultiHeadSelfAttention" in html
    full = (feedback / "demo_full" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Проверяющий: взвешенная F1 на тесте" in full and "HIDDEN TESTS" not in full
    assert "Проверяющий: ✗" not in full  # nothing to correct in a correct notebook
    rows = {r["submission"]: r for r in graded["table"]}
    assert rows["demo_honest_data_idioms"]["actual"] == rows["demo_full"]["actual"]  # .data idioms: full points


@pytest.mark.slow
def test_full_solution_graded_notebook_has_no_error_output(graded):
    nb = nc.read(Course(graded["tmp"] / "out").autograded / "demo_full" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    errors = [(i, o.get("ename"), o.get("evalue", "")[:200]) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
