"""The F1 grade cell at home (tests.report_f1 / check_predictions): no answer key, so it checks the
predictions file (columns, labels, one row per test text) and shows the val F1; a bad file is a
CheckError with a Russian message, nothing goes to stderr. The points: tests/test_answer_key.py."""
import pytest

from coursekit import answer_key as ak

TEXTS = [f"ТОВАР {i}" for i in range(20)]


def write(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8")
    return path


def test_good_file_prints_one_line_with_val_f1(checks, tmp_path, capfd):
    path = write(tmp_path / "p.csv", [(t, i % 96) for i, t in enumerate(TEXTS)])
    assert checks.report_f1(str(path), TEXTS, val_f1=0.8123) is None  # nbgrader reads no score here
    out, err = capfd.readouterr()
    assert err == "" and out.count("\n") == 1 and out.startswith("✓ Файл предсказаний")
    assert "20 строк" in out and "0.8123" in out and "проверяющая система" in out
    checks.report_f1(str(path), TEXTS, val_f1=0.61)
    assert "ниже 0.7" in capfd.readouterr().out
    checks.report_f1(path, iter(TEXTS))  # at grading: no val F1; any iterable of texts
    assert "валидации" not in capfd.readouterr().out


def test_threshold_matches_the_graders(checks):
    assert checks.F1_FULL_MARKS == ak.F1_FULL_MARKS


@pytest.mark.parametrize("rows, header, words", [
    (None, None, "не найден"),
    ([(1, 2)], "id,pred", "колонки text,label"),
    ([(t, "abc") for t in TEXTS], "text,label", "номера категорий"),
    ([(t, 1.0) for t in TEXTS], "text,label", "номера категорий"),
    ([(t, 1) for t in TEXTS[:15]], "text,label", "нет предсказаний для 5 из 20"),
    ([(t, 1) for t in TEXTS] + [(TEXTS[0], 2)], "text,label", "тексты повторяются"),
    ([(t, 1) for t in TEXTS] + [("ЧУЖОЙ", 2)], "text,label", "не из теста"),
])
def test_bad_files_fail_with_a_message(checks, tmp_path, capfd, rows, header, words):
    path = tmp_path / "p.csv"
    if rows is not None:
        write(path, rows, header)
    with pytest.raises(checks.CheckError) as info:
        checks.report_f1(str(path), TEXTS)
    message = str(info.value)
    assert message.startswith("Файл предсказаний") and words in message, message
    assert capfd.readouterr() == ("", "")


def test_garbage_and_huge_files(checks, tmp_path, capfd, monkeypatch):
    path = tmp_path / "p.csv"
    path.write_bytes(b'\x00\xff garbage\n"unterminated,,,\n')
    with pytest.raises(checks.CheckError, match="не читается как CSV|колонки"):
        checks.report_f1(str(path), TEXTS)
    monkeypatch.setattr(checks, "PREDICTIONS_MAX_MB", 0)
    write(path, [(t, 1) for t in TEXTS])
    with pytest.raises(checks.CheckError, match="больше 0 МБ"):
        checks.report_f1(str(path), TEXTS)
    assert capfd.readouterr().err == ""


def test_tests_py_holds_no_answer_key_and_no_points_rule():
    from tests.conftest import _CHECKS_PATH
    source = _CHECKS_PATH.read_text(encoding="utf-8")
    assert "answer_key" not in source and "GRADER_DATA" not in source
    assert "F1_ZERO_MARKS" not in source and "def f1_points" not in source  # one rule: coursekit.answer_key
