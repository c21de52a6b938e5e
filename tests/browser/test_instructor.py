"""The instructor's path: two demo submissions autograded (`python -m coursekit.grading`, the
command behind `make autograde`) in a throw-away copy of the course, a written answer graded by hand
in nbgrader's formgrader, then the export, a second autograde and the student's feedback.
"""
import csv
import subprocess
import sys

import pandas as pd
import pytest

from coursekit import demo
from coursekit import notebook_cells as nc

from .conftest import copy_course, running, smoke_data

pytestmark = pytest.mark.slow  # a real browser and Jupyter servers: minutes

ANSWER, SCORE, COMMENT = "answer_attention", 0.15, "Верно про масштаб √d, но не сказано про softmax"
STUDENT = "demo_full"


def autograde(course, *args):
    """`make autograde` on the course copy (coursekit.ROOT there is the copy)."""
    data = ["--data", str(course / "data" / "task3_data_smoke.csv"),
            "--answer-key", str(course / "data" / "answer_key" / "task3_answer_key_smoke.csv")]
    proc = subprocess.run([sys.executable, "-m", "coursekit.grading", "--workers", "1", "--cell-timeout", "60",
                           *data, *args],
                          cwd=course, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(course / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def make_class(course, tmp):
    """demo_full (the solution, predictions = true test labels) and demo_untouched (the release)."""
    data = smoke_data()
    key = pd.read_csv(course / "data" / "answer_key" / "task3_answer_key_smoke.csv", keep_default_na=False)
    predictions = tmp / "test_predictions.csv"
    key[["text", "label"]].to_csv(predictions, index=False)
    src = nc.read(course / "solutions" / "task3_bert" / "task3_bert.ipynb")
    rel = nc.read(course / "assignments" / "task3_bert" / "task3_bert.ipynb")
    cases = demo.build_cases(src, rel, predictions, data,
                             course / "data" / "answer_key" / "task3_answer_key_smoke.csv")
    cases.update(demo.build_attack_cases(src, rel, predictions, data))
    demo.write_class({k: cases[k] for k in ("full", "untouched", "partial_parts12", "attack_script_outputs")},
                     course / "submitted")


def test_manual_grade_in_formgrader_reaches_export_autograde_and_feedback(browser, shots, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("instructor")
    course = copy_course(tmp / "course")
    make_class(course, tmp)
    first = autograde(course)
    assert set(first) == {"demo_full", "demo_untouched", "demo_partial_parts12", "demo_attack_script_outputs"} \
        and first[STUDENT][ANSWER] == "", first

    with running(course, tmp / "home") as server:
        # the token as a header: formgrader's own XHRs carry no token and would be sent to /login
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      extra_http_headers={"Authorization": f"token {server.token}"})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{server.url}/formgrader/gradebook/task3_bert/task3_bert")
        row = page.locator("tr", has=page.locator("a.name-shown", has_text=STUDENT))
        row.locator(".reveal .name-hidden").click()  # the eye: show the student's id
        shots(page, "07_formgrader_submissions")
        row.locator("a.name-shown").click()

        score = page.locator(f"input.score#{ANSWER}")
        comment = page.locator(f"textarea#{ANSWER}-comment")
        # formgrader binds its save handlers once it has loaded the grades and comments: it marks
        # the score box of an ungraded answer and puts a placeholder into the comment box
        page.locator(f"input.score.needs_manual_grade#{ANSWER}").wait_for(timeout=120_000)
        page.locator(f"textarea#{ANSWER}-comment[placeholder]").wait_for(timeout=120_000)
        score.scroll_into_view_if_needed()
        with page.expect_response(lambda r: "/api/grade/" in r.url and r.request.method == "PUT") as saved:
            score.fill(str(SCORE))
            score.press("Tab")
        assert saved.value.ok, saved.value.status
        with page.expect_response(lambda r: "/api/comment/" in r.url and r.request.method == "PUT") as saved:
            comment.fill(COMMENT)
            comment.press("Tab")
        assert saved.value.ok, saved.value.status
        page.locator(f"#{ANSWER}").scroll_into_view_if_needed()
        shots(page, "08_formgrader_manual_grade_saved")

        # a submission whose outputs and markdown try to run script: none runs in formgrader
        ran = []
        page.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
        page.goto(f"{server.url}/formgrader/gradebook/task3_bert/task3_bert")
        row = page.locator("tr", has=page.locator("a.name-shown", has_text=XSS_STUDENT))
        row.locator(".reveal .name-hidden").click()
        row.locator("a.name-shown").click()
        page.locator(f"input.score#{ANSWER}").wait_for(timeout=120_000)
        page.wait_for_timeout(2000)
        assert_no_script_ran(page, ran)
        page.get_by_text("xss-demo").first.scroll_into_view_if_needed()
        shots(page, "10_formgrader_script_outputs_inert")
        context.close()

    export = tmp / "export.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={export}"], cwd=course, check=True,
                   capture_output=True, timeout=300)
    exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(export, newline=""))}
    assert abs(exported[STUDENT] - (float(first[STUDENT]["auto_total"]) + SCORE)) < 1e-3, exported

    again = autograde(course, "--students", STUDENT)  # the others' grades are not at stake
    assert float(again[STUDENT][ANSWER]) == SCORE, again[STUDENT]
    assert abs(float(again[STUDENT]["total"]) - float(again[STUDENT]["auto_total"]) - SCORE) < 1e-6
    feedback = course / "feedback" / STUDENT / "task3_bert" / "task3_bert.html"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(feedback.as_uri())
    shown = page.get_by_text(COMMENT)
    assert shown.count() == 1 and page.get_by_text(f"Score: {SCORE} / 0.2").count() >= 1, \
        f"в отзыве {feedback} нет комментария или оценки"
    shown.scroll_into_view_if_needed()
    shots(page, "09_feedback_with_comment")
    page.close()

    # the same submission's feedback, opened as the student would
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    ran = []
    page.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
    page.goto((course / "feedback" / XSS_STUDENT / "task3_bert" / "task3_bert.html").as_uri())
    page.wait_for_timeout(2000)
    assert_no_script_ran(page, ran)
    page.get_by_text("xss-demo").first.scroll_into_view_if_needed()
    shots(page, "11_feedback_script_outputs_inert")
    page.close()

    # what a student gets back: a full, a partial and a failing submission
    for login, name in (("demo_full", "12_feedback_full"), ("demo_partial_parts12", "13_feedback_partial"),
                        ("demo_untouched", "14_feedback_failing")):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto((course / "feedback" / login / "task3_bert" / "task3_bert.html").as_uri())
        text = page.inner_text("body")
        assert "Проверяющий: " in text and "Score:" in text, login  # the grader's F1 line, points per cell
        assert "HIDDEN TESTS" not in text, login
        shots(page, name)
        page.get_by_text("Проверяющий:").first.scroll_into_view_if_needed()
        shots(page, name + "_f1")
        page.close()


XSS_STUDENT = "demo_attack_script_outputs"


def assert_no_script_ran(page, dialogs):
    """The demo's payload sets document.title to 'xss-demo' (coursekit.demo, attack_script_outputs)."""
    assert page.evaluate("document.title") != "xss-demo", "скрипт студента выполнился"
    assert not dialogs, dialogs
