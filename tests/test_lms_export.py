"""coursekit.lms_export: grades from the gradebook (manual over auto, late penalty taken) in the CSV
each LMS imports, feedback bundled as each LMS takes it; the files written are parsed back.

Assumed formats (see the module's docstring): Moodle's offline grading worksheet (Identifier
`Participant <id>`, Full name, Email address, Status, Grade, Maximum Grade, ..., Feedback
comments) and feedback zip (`Full Name_<id>_assignsubmission_file_/<file>`); Canvas's gradebook
import (Student, ID, SIS User ID, SIS Login ID, Section, `task3_bert (<assignment id>)`)."""
import csv
import datetime as dt
import os
import warnings
import zipfile

import pytest
from nbgrader.api import Gradebook

from coursekit import lms_export
from coursekit.course import Course
from coursekit.grading import prepare
from coursekit.release import ASSIGNMENT

ROSTER = [dict(login="ivanov", lms_id="101", name="Иван Иванов", email="ivanov@example.org", section="A"),
          dict(login="petrova", lms_id="102", name="=HYPERLINK(\"http://x\")", email="+cmd@example.org",
               section="B"),
          dict(login="sidorov", lms_id="103", name="../../Пётр/Сидоров", email="s@example.org", section="A"),
          dict(login="absent", lms_id="104", name="Нет Работы", email="n@example.org", section="A")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    course = Course(tmp / "course")
    course.root.mkdir()
    prepare(tmp / "template", course.gradebook)  # the assignment, as grading records it
    due = dt.datetime(2026, 12, 20, 20, 59)     # UTC
    with Gradebook(f"sqlite:///{course.gradebook}") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(ASSIGNMENT, duedate=due)
        for login, late_hours in (("ivanov", 0), ("petrova", 30), ("sidorov", 0)):
            gb.add_student(login)
            gb.add_submission(ASSIGNMENT, login, timestamp=due + dt.timedelta(hours=late_hours) - dt.timedelta(hours=1))
            nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, login)
            for g in nb.grades:
                g.auto_score = g.max_score if g.cell.cell_type == "code" else None
                g.needs_manual_grade = g.cell.cell_type != "code"
                if login != "sidorov" and g.cell.cell_type != "code":  # written answers graded, half points
                    g.manual_score, g.needs_manual_grade = g.max_score / 2, False
        gb.db.commit()
    for login in ("ivanov", "petrova"):
        page = course.feedback / login / ASSIGNMENT / f"{ASSIGNMENT}.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<html>отзыв {login}</html>")
    link = course.feedback / "sidorov" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    link.parent.mkdir(parents=True)
    os.symlink("/etc/passwd", link)  # never followed
    roster = tmp / "roster.csv"
    with open(roster, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["login", "lms_id", "name", "email", "section"])
        writer.writeheader()
        writer.writerows(ROSTER)
    return course, roster


def expected_points(course, login):
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, login)
        return sum((g.manual_score if g.manual_score is not None else g.auto_score) or 0 for g in nb.grades)


def test_moodle_worksheet_and_feedback_zip(course):
    course, roster = course
    written, notes = lms_export.export("moodle", roster, course)
    with open(course.root / "lms_export" / "moodle_grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == lms_export.MOODLE_COLUMNS
    by = {r["Identifier"]: r for r in rows}
    assert set(by) == {f"Participant {s['lms_id']}" for s in ROSTER}
    full = expected_points(course, "ivanov")
    assert float(by["Participant 101"]["Grade"]) == pytest.approx(full, abs=0.005)
    # petrova: 30 hours late (2 started days): 20% off under the course's setting
    policy = lms_export.late.settings()
    share = min(policy.cap, 2 * policy.per_day)
    assert float(by["Participant 102"]["Grade"]) == pytest.approx(expected_points(course, "petrova") * (1 - share),
                                                                  abs=0.005)
    assert "опозданием на 2 дн." in by["Participant 102"]["Feedback comments"]
    assert by["Participant 104"]["Grade"] == "" and by["Participant 104"]["Status"] == "No submission"
    assert float(by["Participant 101"]["Maximum Grade"]) == lms_export.max_points()
    # formulas never reach a spreadsheet
    assert by["Participant 102"]["Full name"].startswith("'=") and by["Participant 102"]["Email address"].startswith("'+")
    assert any("sidorov" in n and "письменные" in n for n in notes)
    assert any("sidorov" in n and "нет отзыва" in n for n in notes)
    with zipfile.ZipFile(course.root / "lms_export" / "moodle_feedback.zip") as z:
        names = sorted(z.namelist())
        assert names == sorted([f"Иван Иванов_101_assignsubmission_file_/{ASSIGNMENT}_feedback.html",
                                f"=HYPERLINK(_http___x_)_102_assignsubmission_file_/{ASSIGNMENT}_feedback.html"])
        assert z.read(names[-1]).decode() == "<html>отзыв ivanov</html>"
    assert written


def test_canvas_gradebook_import_and_per_student_zips(course):
    course, roster = course
    written, notes = lms_export.export("canvas", roster, course, canvas_assignment_id="4711")
    with open(course.root / "lms_export" / "canvas_grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{ASSIGNMENT} (4711)"]
    by = {r["ID"]: r for r in rows}
    assert float(by["101"][f"{ASSIGNMENT} (4711)"]) == pytest.approx(expected_points(course, "ivanov"), abs=0.005)
    assert by["104"][f"{ASSIGNMENT} (4711)"] == ""
    assert by["102"]["Student"].startswith("'=")
    folder = course.root / "lms_export" / "canvas_feedback"
    assert sorted(p.name for p in folder.iterdir()) == ["ivanov.zip", "petrova.zip"]
    with zipfile.ZipFile(folder / "petrova.zip") as z:
        assert z.read(f"{ASSIGNMENT}_feedback.html").decode() == "<html>отзыв petrova</html>"
        assert "штраф" in z.read("comment.txt").decode()
    assert any("SpeedGrader" in n for n in notes)


def test_bad_input(tmp_path):
    with pytest.raises(SystemExit, match="нет журнала"):
        lms_export.export("moodle", tmp_path / "r.csv", Course(tmp_path))
    with pytest.raises(SystemExit, match="ожидается moodle или canvas"):
        lms_export.export("blackboard", tmp_path / "r.csv", Course(tmp_path))
