"""Grades and feedback out, in the form each LMS imports (`make lms-export`).

    python -m coursekit.lms_export --lms moodle|canvas --roster roster.csv [--course DIR]
                                   [--canvas-assignment-id N]

Run after autograding and manual grading in formgrader: the points are read from the course's
gradebook.db (manual score over auto score, plus extra credit), minus the late penalty of
coursekit.late. Students of the roster (coursekit.collect's: login, lms_id, name, email, ...)
without a submission get an empty grade. Out, in <course>/lms_export/:

- Moodle: `moodle_grades.csv`, the assignment's offline grading worksheet ("Upload grading
  worksheet"; needs "Offline grading worksheet" among the assignment's feedback types): columns
  Identifier (`Participant <id>`, the id in the submission folder names), Full name, Email address,
  Status, Grade, Maximum Grade, Grade can be changed, Last modified (submission), Last modified
  (grade), Feedback comments. `moodle_feedback.zip`: "Upload multiple feedback files in a zip":
  one folder per student, named as in the submissions download,
  `Full Name_<id>_assignsubmission_file_/task3_bert_feedback.html` (Moodle matches the id).
- Canvas: `canvas_grades.csv`, the gradebook import ("Import" in Gradebook): Student, ID, SIS User
  ID, SIS Login ID, Section, then `task3_bert (<assignment id>)` (without --canvas-assignment-id the
  column is `task3_bert`, and Canvas asks whether to create a new assignment). Canvas has no bulk
  upload of feedback files: `canvas_feedback/<login>.zip` holds one student's feedback HTML, to
  attach as a submission comment in SpeedGrader (or by the Canvas API, not done here).
Every text cell goes through coursekit.grading.csv_safe (no formula runs in a spreadsheet).
"""
import argparse
import csv
import re
import sys
import warnings
import zipfile
from pathlib import Path

from coursekit import ROOT, late, outbox
from coursekit import notebook_cells as nc
from coursekit.collect import read_roster, shown
from coursekit.course import Course
from coursekit.grading import csv_safe
from coursekit.release import ASSIGNMENT, SOURCE_DIR

MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MAX_FEEDBACK = 64 << 20


def max_points(source_dir=SOURCE_DIR):
    return round(sum(g["points"] for g in nc.grade_cells(nc.read(Path(source_dir) / f"{ASSIGNMENT}.ipynb"))), 4)


def results(course, roster):
    """{login: dict(grade, late_days, late_penalty, needs_manual, submitted, timestamp)} from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    policy = late.settings()
    out = {}
    with Gradebook(f"sqlite:///{course.gradebook}") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for student in roster.values():
            login = student["login"]
            try:
                sub = gb.find_submission(ASSIGNMENT, login)
                nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, login)
            except MissingEntry:
                out[login] = dict(submitted=False)
                continue
            assessed = late.assess(gb, login, policy)
            out[login] = dict(submitted=True, grade=assessed["final"], late_days=assessed["late_days"],
                              late_penalty=assessed["late_penalty"],
                              needs_manual=sum(1 for g in nb.grades if g.needs_manual_grade),
                              timestamp=sub.timestamp)
    return out


def comment(result, maximum):
    if not result["submitted"]:
        return "работа не сдана"
    text = f"Баллы: {result['grade']:g} из {maximum:g}."
    if result["late_days"]:
        text += f" Сдано с опозданием на {result['late_days']} дн.: штраф {result['late_penalty']:g}."
    if result["needs_manual"]:
        text += " Письменные ответы ещё не проверены."
    return text + " Подробный отзыв — в файле отзыва."


def feedback_html(course, login):
    """The student's feedback HTML (bytes) or None; read without following links."""
    path = course.feedback / login / ASSIGNMENT / f"{ASSIGNMENT}.html"
    try:
        return outbox.read_regular(path, MAX_FEEDBACK)
    except Exception:
        return None


def safe_name(text):
    """A person's name as a path part: no separators, control characters or leading dots."""
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]", "_", str(text)).strip().lstrip(".")
    return name[:100] or "student"


def write_csv(path, fields, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)


def export(lms, roster_path, course=None, canvas_assignment_id=None, source_dir=SOURCE_DIR):
    """Write the LMS's files into course.root/lms_export/; returns (paths written, warnings)."""
    course = course or Course()
    if lms not in ("moodle", "canvas"):
        raise SystemExit(f"неизвестная LMS {shown(lms)}: ожидается moodle или canvas")
    if not course.gradebook.is_file():
        raise SystemExit(f"нет журнала {course.gradebook}: сначала make autograde")
    roster = read_roster(roster_path)
    maximum = max_points(source_dir)
    found = results(course, roster)
    out = course.root / "lms_export"
    out.mkdir(parents=True, exist_ok=True)
    notes = [f"{shown(login)}: письменные ответы не проверены (formgrader)"
             for login, r in found.items() if r.get("needs_manual")]
    notes += [f"{shown(login)}: нет отзыва в feedback/ (make autograde)" for login, r in found.items()
              if r["submitted"] and feedback_html(course, login) is None]
    written = []
    if lms == "moodle":
        rows = []
        for s in roster.values():
            r = found[s["login"]]
            stamp = r.get("timestamp")
            rows.append({"Identifier": f"Participant {s['lms_id']}", "Full name": s.get("name", ""),
                         "Email address": s.get("email", ""),
                         "Status": "Submitted for grading" if r["submitted"] else "No submission",
                         "Grade": f"{r['grade']:.2f}" if r["submitted"] else "", "Maximum Grade": f"{maximum:.2f}",
                         "Grade can be changed": "Yes",
                         "Last modified (submission)": stamp.strftime("%A, %d %B %Y, %I:%M %p") if stamp else "-",
                         "Last modified (grade)": "-", "Feedback comments": comment(r, maximum)})
        write_csv(out / "moodle_grades.csv", MOODLE_COLUMNS, rows)
        written.append(out / "moodle_grades.csv")
        with zipfile.ZipFile(out / "moodle_feedback.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for s in roster.values():
                html = feedback_html(course, s["login"]) if found[s["login"]]["submitted"] else None
                if html is not None:
                    folder = f"{safe_name(s.get('name') or s['login'])}_{s['lms_id']}_assignsubmission_file_"
                    z.writestr(f"{folder}/{ASSIGNMENT}_feedback.html", html)
        written.append(out / "moodle_feedback.zip")
    else:
        column = f"{ASSIGNMENT} ({canvas_assignment_id})" if canvas_assignment_id else ASSIGNMENT
        rows = []
        for s in roster.values():
            r = found[s["login"]]
            rows.append({"Student": s.get("name", ""), "ID": s["lms_id"], "SIS User ID": s.get("sis_user_id", ""),
                         "SIS Login ID": s.get("sis_login_id", ""), "Section": s.get("section", ""),
                         column: f"{r['grade']:.2f}" if r["submitted"] else ""})
        write_csv(out / "canvas_grades.csv", CANVAS_COLUMNS + [column], rows)
        written.append(out / "canvas_grades.csv")
        folder = out / "canvas_feedback"
        folder.mkdir(exist_ok=True)
        for s in roster.values():
            html = feedback_html(course, s["login"]) if found[s["login"]]["submitted"] else None
            if html is not None:
                with zipfile.ZipFile(folder / f"{s['login']}.zip", "w", zipfile.ZIP_DEFLATED) as z:
                    z.writestr(f"{ASSIGNMENT}_feedback.html", html)
                    z.writestr("comment.txt", comment(found[s["login"]], maximum))
                written.append(folder / f"{s['login']}.zip")
        notes.append("Canvas не принимает отзывы файлами пачкой: прикрепите canvas_feedback/<логин>.zip "
                     "к комментарию в SpeedGrader")
    return written, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lms", required=True, choices=["moodle", "canvas"])
    parser.add_argument("--roster", required=True, type=Path)
    parser.add_argument("--course", type=Path, default=ROOT)
    parser.add_argument("--canvas-assignment-id", help="the assignment's id in Canvas (in its URL)")
    args = parser.parse_args(argv)
    written, notes = export(args.lms, args.roster, Course(args.course), args.canvas_assignment_id)
    for note in notes:
        print(f"внимание: {note}")
    print("записано: " + ", ".join(str(p) for p in written[:5]) + (f" и ещё {len(written) - 5}" if len(written) > 5 else ""))


if __name__ == "__main__":
    sys.exit(main())
