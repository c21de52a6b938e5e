"""Issue 10: the grader's F1 (coursekit.answer_key.score) from a submitted predictions file against
the hidden answer key: the points rule, strict-but-fair parsing, hostile files."""
import os

import pandas as pd
import pytest

from coursekit import answer_key as ak

N = 60  # test texts: 3 classes x 20


@pytest.fixture()
def key(tmp_path):
    folder = tmp_path / "answer_key"
    folder.mkdir()
    texts = [f"ТОВАР {i} ЁЖ" for i in range(N)]
    labels = [i % 3 for i in range(N)]
    pd.DataFrame({"text": texts, "label": labels}).to_csv(folder / "task3_answer_key.csv", index=False)
    pd.DataFrame({"label": [0, 1, 2], "name": ["Молоко", "Хлеб", "Сыр"]}).to_csv(
        tmp_path / "task3_categories.csv", index=False)
    return folder / "task3_answer_key.csv", texts, labels


def write(tmp_path, content, name="test_predictions.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def frame(texts, labels):
    return pd.DataFrame({"text": texts, "label": labels}).to_csv(index=False)


def test_points_rule():
    assert ak.f1_points(1.0) == ak.f1_points(0.7) == 2.5
    assert ak.f1_points(0.6) == pytest.approx(1.25)
    assert ak.f1_points(0.5) == ak.f1_points(0.1) == 0.0
    assert ak.f1_points(0.65, max_points=1) == pytest.approx(0.75)


def test_perfect_and_partial(key, tmp_path):
    path, texts, labels = key
    result = ak.score(write(tmp_path, frame(texts, labels)), path)
    assert result["ok"] and result["f1_weighted"] == 1.0 and result["points"] == 2.5
    assert result["notes"] == [] and result["reason"] == ""
    wrong = [(y + 1) % 3 if i % 5 == 0 else y for i, y in enumerate(labels)]  # 20% wrong
    result = ak.score(write(tmp_path, frame(texts, wrong)), path)
    assert 0.5 < result["f1_weighted"] < 0.9
    assert result["points"] == ak.f1_points(result["f1_weighted"])


def test_order_case_of_header_extra_index_and_separator_do_not_matter(key, tmp_path):
    path, texts, labels = key
    shuffled = pd.DataFrame({"text": texts, "label": labels}).sample(frac=1, random_state=0)
    assert ak.score(write(tmp_path, shuffled.to_csv()), path)["points"] == 2.5  # with the index column
    semicolon = "Text;Label\n" + "".join(f"{t};{y}\n" for t, y in zip(texts, labels))
    assert ak.score(write(tmp_path, semicolon), path)["points"] == 2.5
    bom = "\ufefftext,label\r\n" + "".join(f" {t} ,{y}\r\n" for t, y in zip(texts, labels))
    assert ak.score(write(tmp_path, bom), path)["points"] == 2.5


def test_labels_as_floats_and_category_names(key, tmp_path):
    path, texts, labels = key
    names = {0: "молоко", 1: "ХЛЕБ", 2: " Сыр "}
    as_text = [f"{y}.0" if i % 2 else names[y] for i, y in enumerate(labels)]
    result = ak.score(write(tmp_path, frame(texts, as_text)), path)
    assert result["points"] == 2.5 and result["n_bad_labels"] == 0, result


@pytest.mark.parametrize("bad", ["", "nan", "NaN", "abc", "37.5", "7", "-1", "1e400", "inf",
                                 "123456789012345678901234567890", "²"])
def test_a_bad_label_makes_only_its_row_wrong(key, tmp_path, bad):
    path, texts, labels = key
    given = [bad if i == 0 else y for i, y in enumerate(labels)]
    result = ak.score(write(tmp_path, frame(texts, given)), path)
    assert result["ok"] and result["n_bad_labels"] == 1 and result["n_matched"] == N - 1
    assert 0.95 < result["f1_weighted"] < 1.0 and result["points"] == 2.5
    assert any("метк" in note for note in result["notes"]), result["notes"]


def test_huge_integer_is_named(key, tmp_path):
    path, texts, labels = key
    huge = str(2 ** 64 + labels[0])  # would wrap around to the right class in an int64 reader
    result = ak.score(write(tmp_path, frame(texts, [huge] + labels[1:])), path)
    assert result["n_bad_labels"] == 1
    assert any("слишком большое число" in note for note in result["notes"]), result["notes"]


def test_missing_duplicate_and_foreign_texts_are_reported(key, tmp_path):
    path, texts, labels = key
    # first half only; text 0 again with every other label (hedging); a text not in the test
    rows = list(zip(texts[:30], labels[:30])) + [(texts[0], (labels[0] + k) % 3) for k in (1, 2)]
    rows.append(("НЕ ИЗ ТЕСТА", 0))
    result = ak.score(write(tmp_path, frame(*zip(*rows))), path)
    assert result["n_missing"] == 30 and result["n_duplicates"] == 2 and result["n_unknown_texts"] == 1
    assert result["n_rows"] == 33 and result["n_matched"] == 30
    assert result["f1_weighted"] < 0.7  # missing texts are errors
    notes = " ".join(result["notes"])
    assert "без предсказания" in notes and "повтор" in notes and "не из теста" in notes
    # hedging: a wrong first row is not rescued by a later right one
    hedged = [(texts[0], (labels[0] + 1) % 3), (texts[0], labels[0])] + list(zip(texts[1:], labels[1:]))
    assert ak.score(write(tmp_path, frame(*zip(*hedged))), path)["f1_weighted"] < 1.0


@pytest.mark.parametrize("content, reason", [
    (None, "не сдан"),
    (b"", "пустой"),
    (b"id,pred\n1,2\n", "нет колонки text"),
    (b"text\nabc\n", "нет колонки label"),
    (b"\x00\xff garbage \x13\n\"unterminated,,,\n", "двоичный"),
    ("text,label\nМОЛОКО,1\n".encode("cp1251"), "UTF-8"),
    (b'text,label\n"a"b,1\n', "CSV"),
    (b"text,label\nNOT A TEST TEXT,1\n", "ни один текст"),
])
def test_unusable_files_get_zero_with_a_reason(key, tmp_path, content, reason):
    path = key[0]
    pred = tmp_path / "test_predictions.csv"
    if content is not None:
        pred.write_bytes(content)
    result = ak.score(pred, path)
    assert result["points"] == 0.0 and not result["ok"] and reason in result["reason"], result


def test_hostile_files_are_refused(key, tmp_path, monkeypatch):
    path, texts, labels = key
    link = tmp_path / "link.csv"
    link.symlink_to(path)  # a symlink to the answer key itself
    assert "обычный файл" in ak.score(link, path)["reason"]
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # would block a naive reader forever
    assert "обычный файл" in ak.score(fifo, path)["reason"]
    assert "обычный файл" in ak.score(tmp_path, path)["reason"]  # a directory
    hard = tmp_path / "hard.csv"
    os.link(path, hard)
    assert "файл с ответами" in ak.score(hard, path)["reason"]
    monkeypatch.setattr(ak, "MAX_BYTES", 1000)
    big = write(tmp_path, frame(texts, labels) + "x" * 2000)
    assert "МБ" in ak.score(big, path)["reason"] and ak.score(big, path)["points"] == 0
    monkeypatch.undo()
    monkeypatch.setattr(ak, "MAX_ROWS", 10)
    assert "строк" in ak.score(write(tmp_path, frame(texts, labels)), path)["reason"]


def test_cli_prints_json(key, tmp_path, capsys):
    path, texts, labels = key
    ak.main([str(write(tmp_path, frame(texts, labels))), "--answer-key", str(path)])
    assert '"points": 2.5' in capsys.readouterr().out


def test_bad_answer_key_is_an_error_for_the_instructor(tmp_path):
    bad = write(tmp_path, "text,label\nA,1\nA,2\n", "key.csv")
    with pytest.raises(ValueError, match="twice"):
        ak.score(write(tmp_path, "text,label\nA,1\n"), bad)
