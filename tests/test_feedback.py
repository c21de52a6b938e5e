"""What the graded notebook shows once it leaves the grader (coursekit.grading.feedback_notebook):
the grader's verdict where it differs from the notebook, the grader's F1, no hidden tests (not in
the source, not in a traceback), no live script in the student's outputs or markdown."""
import re

import nbformat

from coursekit.grading import F1_CELL, feedback_notebook

new = nbformat.v4


def cell(source, grade_id, outputs=()):
    c = new.new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, "grade": True}})
    c.outputs = list(outputs)
    return c


def test_verdicts_f1_and_hidden_tests():
    shown_pass = new.new_output("stream", name="stdout", text="✓ FeedForward: все проверки пройдены\n")
    f1_error = new.new_output("error", ename="CheckError", evalue="нет файла",
                              traceback=["----> 4 tests.report_f1(...)", "### BEGIN HIDDEN TESTS", "secret()"])
    nb = new.new_notebook(cells=[
        cell("tests.test_feedforward(FeedForward)", "test_feedforward", [shown_pass]),
        cell("tests.test_attention(MultiHeadSelfAttention)", "test_attention"),
        cell("tests.report_f1(p)\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS", F1_CELL, [f1_error])])
    decided = {"test_feedforward": (False, "FeedForward: выход не совпал", True),
               "test_attention": (True, "✓", False)}
    out = feedback_notebook(nb, new.new_notebook(), decided, dict(points=1.25, message="взвешенная F1 0.6"))
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in out.cells]
    assert "Проверяющий: ✗ FeedForward: выход не совпал" in texts[0]
    assert "Проверяющий: ✓" in texts[1]
    assert "Проверяющий: взвешенная F1 0.6" in texts[2]
    assert "HIDDEN" not in out.cells[2].source and "secret" not in out.cells[2].source
    assert out.cells[2].outputs[0].traceback == ["CheckError: нет файла"]
    assert nb.cells[2].source.count("secret") == 1  # the grader's own copy is left as it was


def test_student_html_is_sanitized_and_the_instructor_text_kept():
    picture = '<img src="data:image/png;base64,AAAA" width="300">'
    source = new.new_notebook(cells=[new.new_markdown_cell(f"## Часть 1\n{picture}")])
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)"><svg onload="alert(3)"></svg>'
    code = new.new_code_cell("show()")
    code.outputs = [new.new_output("display_data", data={"text/html": attack, "application/javascript": "alert(4)",
                                                         "image/svg+xml": "<svg onload='alert(5)'/>",
                                                         "text/plain": "<HTML>"})]
    nb = new.new_notebook(cells=[new.new_markdown_cell(f"## Часть 1\n{picture}"), new.new_markdown_cell(attack), code])
    out = feedback_notebook(nb, source, {}, None)
    assert out.cells[0].source == f"## Часть 1\n{picture}"  # given text, images and all
    live = re.compile(r"<(script|svg)\b|<[a-zA-Z][^<>]*\son\w+\s*=", re.I)
    assert not live.search(out.cells[1].source), out.cells[1].source
    data = out.cells[2].outputs[0].data
    assert set(data) == {"text/html", "text/plain"} and not live.search(data["text/html"]), data
