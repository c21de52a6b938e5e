"""The term's path through nbgrader's own exchange, and the demo class kept apart from the real one.

JupyterHub: `nbgrader release_assignment` -> the student's `nbgrader fetch_assignment` and
`nbgrader submit` -> `nbgrader collect`, on a local exchange folder (--Exchange.root), the course
id from nbgrader_config.py; then the collected submission is autograded in the sandbox (one
submission: about a minute), with the deadline moved into the past so that it is late.
"""
import csv
import getpass
import os
import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from nbgrader.api import Gradebook

from coursekit import ROOT, demo, late
from coursekit import notebook_cells as nc
from coursekit.course import Course
from coursekit.grading import grade_all
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR, venv_env
from coursekit.solution import ANSWER_KEY, ensure_data


def course_id():
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config().CourseDirectory.course_id


def nbgrader(args, cwd, exchange, root=None):
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"]
    if root:  # the instructor: the course's nbgrader_config.py (run from ROOT), this course root
        cmd.append(f"--CourseDirectory.root={root}")
    else:     # the student: no course config on their machine
        cmd.append(f"--CourseDirectory.course_id={course_id()}")
    proc = subprocess.run(cmd, cwd=cwd, env=venv_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_demo_class_lives_in_build_demo(monkeypatch, tmp_path):
    """run_demo with no course writes and grades build/demo/, never the repository root's class."""
    seen = {}
    monkeypatch.setattr(demo, "write_class", lambda cases, submitted: seen.update(submitted=submitted))
    monkeypatch.setattr(demo, "grade_all", lambda course, **kw: seen.update(course=course, kw=kw) or [])
    for builder in ("build_attack_cases", "integrity_cases"):  # not needed to place the class
        monkeypatch.setattr(demo, builder, lambda *args, **kwargs: {})
    predictions = tmp_path / "p.csv"
    predictions.write_text("text,label\nx,1\n")
    ensure_data()
    demo.run_demo(only={"full"}, predictions=predictions)
    assert seen["course"].root == (ROOT / "build" / "demo").resolve() != Course().root
    assert seen["submitted"] == seen["course"].submitted
    assert seen["kw"]["students"] == ["demo_full"]


@pytest.mark.slow
def test_exchange_release_fetch_submit_collect_then_autograde(tmp_path, monkeypatch):
    data = ensure_data().resolve()
    exchange, course, home = tmp_path / "exchange", Course(tmp_path / "course"), tmp_path / "student"
    for folder in (exchange, home):
        folder.mkdir()
    shutil.copytree(RELEASE_DIR, course.root / "assignments" / ASSIGNMENT)
    nbgrader(["release_assignment", ASSIGNMENT], ROOT, exchange, course.root)
    nbgrader(["fetch_assignment", ASSIGNMENT], home, exchange)
    work = home / ASSIGNMENT
    assert (work / f"{ASSIGNMENT}.ipynb").is_file() and (work / "tests.py").is_file()
    # the student fills the notebook (the solution) and writes predictions (the test labels: F1 = 1)
    src = nc.read(SOURCE_DIR / f"{ASSIGNMENT}.ipynb")
    nbformat.write(demo.fill(nc.read(work / f"{ASSIGNMENT}.ipynb"), src), str(work / f"{ASSIGNMENT}.ipynb"))
    test = pd.read_csv(ANSWER_KEY, keep_default_na=False)
    pd.DataFrame({"text": test["text"], "label": test["label"].astype(int)}).to_csv(
        work / "test_predictions.csv", index=False)
    nbgrader(["submit", ASSIGNMENT], home, exchange)
    nbgrader(["collect", ASSIGNMENT], ROOT, exchange, course.root)
    login = getpass.getuser()
    collected = course.submitted / login / ASSIGNMENT
    assert {"timestamp.txt", f"{ASSIGNMENT}.ipynb", "test_predictions.csv"} <= {p.name for p in collected.iterdir()}
    from nbgrader.utils import parse_utc
    submitted_at = parse_utc(collected.joinpath("timestamp.txt").read_text().strip())

    # the deadline 30 hours before the submission: 2 started days late
    policy = late.settings()
    policy.duedate = (submitted_at - pd.Timedelta(hours=30)).strftime("%Y-%m-%d %H:%M:%S UTC")
    monkeypatch.setattr(late, "settings", lambda *a, **k: policy)
    rows = grade_all(course, workers=1, timeout=600, cell_timeout=120, data=data, answer_key=ANSWER_KEY,
                     use_sandbox=True, verbose=False)
    assert [r["student"] for r in rows] == [login]  # and no demo_* in this class
    row = rows[0]
    src_auto = sum(g["points"] for g in nc.grade_cells(src) if g["auto"])
    assert row["status"] == "ok" and row["auto_total"] == pytest.approx(src_auto), row
    share = min(policy.cap, 2 * policy.per_day)
    assert row["late_days"] == 2
    assert row["late_penalty"] == pytest.approx(round(row["total"] * share, 4))
    assert row["final"] == pytest.approx(row["total"] - row["late_penalty"])
    with open(course.grades_csv, newline="") as f:
        written = list(csv.DictReader(f))
    assert float(written[0]["late_penalty"]) == pytest.approx(row["late_penalty"])
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        assert gb.find_submission(ASSIGNMENT, login).total_seconds_late == pytest.approx(30 * 3600, abs=1)
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, login)
        assert nb.late_submission_penalty == pytest.approx(row["late_penalty"])
    assert (course.feedback / login / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    assert not any(p.name.startswith("demo_") for p in course.submitted.iterdir())
    assert os.environ.get("TASK3_KEEP_WORK") or not list(tmp_path.glob("task3_grading_*"))


@pytest.mark.slow
def test_demo_late_and_copied_cases(tmp_path, monkeypatch):
    """The demo's late case keeps its points and gets the penalty of nbgrader_config.py; its copied
    case (renamed variables, reordered helpers) keeps its points and is named similar to demo_full."""
    for builder in ("build_attack_cases", "integrity_cases"):  # other cases: not built here
        monkeypatch.setattr(demo, builder, lambda *args, **kwargs: {})
    data = ensure_data().resolve()
    test = pd.read_csv(ANSWER_KEY, keep_default_na=False)
    predictions = tmp_path / "predictions.csv"
    # quoted: byte-identical to the answer key it would be reported as a copy of the grader's file
    pd.DataFrame({"text": test["text"], "label": test["label"].astype(int)}).to_csv(
        predictions, index=False, quoting=csv.QUOTE_ALL)
    course = Course(tmp_path / "demo")
    table = demo.run_demo({"full", "late", "copied_renamed"}, workers=2, cell_timeout=120, timeout=600,
                          course=course, predictions=predictions, data=data)
    assert [r for r in table if not r["ok"]] == [], [(r["submission"], r["reason"]) for r in table if not r["ok"]]
    assert len(table) == 3
    with open(course.grades_csv, newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    policy = late.settings()
    share = min(policy.cap, 2 * policy.per_day)
    assert rows["demo_late"]["late_days"] == "2" and rows["demo_full"]["late_days"] == "0"
    assert float(rows["demo_late"]["late_penalty"]) == pytest.approx(round(float(rows["demo_late"]["total"]) * share, 4))
    assert float(rows["demo_late"]["final"]) < float(rows["demo_late"]["total"]) == float(rows["demo_full"]["total"])
    assert "demo_full" in rows["demo_copied_renamed"]["similar_to"]
    assert rows["demo_copied_renamed"]["total"] == rows["demo_full"]["total"]
