"""Grader-side F1 of a submitted test_predictions.csv against the hidden answer key.

    python -m coursekit.answer_key PREDICTIONS.csv [--answer-key data/answer_key/task3_answer_key.csv]

Runs in the grader's own process, never in a student's kernel; the predictions file is
attacker-controlled, so it is read defensively: regular files only (no symlinks, FIFOs, devices),
at most MAX_BYTES, UTF-8 text, parsed with the csv module.  Strict but fair:
  * columns found by name (text, label; case and spaces ignored; extra columns such as a pandas
    index are ignored); comma, semicolon or tab as the separator;
  * a label may be a class id (``37``, ``37.0``) or a category name; a missing, NaN, unknown or
    huge label makes that row wrong, not the whole file;
  * a test text with no row is wrong; rows whose text is not a test text are ignored; for a
    duplicated text the first row counts (hedging with several labels gains nothing);
  * a file that is missing, binary, not text, not a table or without text/label columns gets 0
    with the reason.
The points rule (full marks at F1 >= 0.7, linear down to 0 at 0.5) is defined here only.
"""
import argparse
import csv
import io
import json
import math
import os
import re
import stat
import sys
import unicodedata
import warnings
from pathlib import Path

from coursekit import ROOT

DEFAULT_KEY = ROOT / "data" / "answer_key" / "task3_answer_key.csv"
CATEGORIES_FILE = "task3_categories.csv"
MAX_POINTS = 2.5
F1_FULL_MARKS = 0.7   # full marks from here
F1_ZERO_MARKS = 0.5   # 0 below, linear in between
MAX_BYTES = 50 * 2 ** 20
MAX_NOTES = 8
MAX_ROWS = 1_000_000
WRONG = -1  # the predicted class of a row that has no usable label: never a true class
INTEGER = re.compile(r"[+-]?[0-9]+")


class PredictionsError(ValueError):
    """The predictions file cannot be scored at all (the reason is for the student)."""


def f1_points(f1, max_points=MAX_POINTS):
    """Points for a weighted F1: max_points at F1 >= 0.7, linear down to 0 at 0.5."""
    share = (f1 - F1_ZERO_MARKS) / (F1_FULL_MARKS - F1_ZERO_MARKS)
    return round(max_points * min(max(share, 0.0), 1.0), 3)


def norm_text(text):
    """Texts are compared after NFC normalisation and stripping (editors and Excel change both)."""
    return unicodedata.normalize("NFC", text).strip()


def read_key(path=DEFAULT_KEY):
    """The answer key as {normalised text: label}; raises ValueError if the key itself is bad."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or [c.strip() for c in rows[0][:2]] != ["text", "label"]:
        raise ValueError(f"answer key {path}: expected columns text,label")
    key = {}
    for i, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not INTEGER.fullmatch(row[1].strip()):
            raise ValueError(f"answer key {path}, line {i}: bad row {row[:2]!r}")
        text = norm_text(row[0])
        if text in key:
            raise ValueError(f"answer key {path}: text twice: {text!r}")
        key[text] = int(row[1])
    if not key:
        raise ValueError(f"answer key {path} is empty")
    return key


def read_categories(answer_key_path):
    """{lower-cased name: label} from task3_categories.csv next to the key or one folder up."""
    for folder in (Path(answer_key_path).parent, Path(answer_key_path).parent.parent):
        path = folder / CATEGORIES_FILE
        if path.is_file():
            with open(path, encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
            return {norm_text(r["name"]).lower(): int(r["label"]) for r in rows}
    return {}


def read_bytes_safely(path, max_bytes=None):
    """Contents of a regular file (symlinks, FIFOs, devices and huge files are refused)."""
    max_bytes = max_bytes or MAX_BYTES
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise PredictionsError("файл test_predictions.csv не сдан") from None
    except OSError as exc:  # ELOOP: a symlink
        raise PredictionsError(f"файл не открывается как обычный файл ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PredictionsError("это не обычный файл")
        if info.st_size > max_bytes:
            raise PredictionsError(f"файл больше {max_bytes / 2 ** 20:g} МБ ({info.st_size} байт)")
        chunks, size = [], 0
        while size <= max_bytes and (chunk := os.read(fd, 1 << 20)):  # the file may grow meanwhile
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise PredictionsError(f"файл больше {max_bytes / 2 ** 20:g} МБ")
    return data, info


def parse_table(data):
    """bytes -> (header, iterator over rows) of a CSV; raises PredictionsError with a reason."""
    if b"\x00" in data:
        raise PredictionsError("файл двоичный (в нём нулевые байты), а нужен CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PredictionsError(f"файл не в кодировке UTF-8 (байт {exc.start})") from None
    if not text.strip():
        raise PredictionsError("файл пустой")
    first = text.splitlines()[0]
    delimiter = max(",;\t", key=first.count)  # pandas writes commas; Excel may write ; or tabs
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    return [c.strip().lower() for c in read_row(rows) or []], rows


def read_row(rows):
    """Next row of a csv reader, None at the end; a malformed row -> PredictionsError."""
    try:
        return next(rows, None)
    except csv.Error as exc:
        raise PredictionsError(f"файл не читается как CSV (строка {rows.line_num}): {exc}") from None


def parse_label(value, names, classes):
    """A cell -> (class id or WRONG, note or None)."""
    value = value.strip()
    if value == "" or value.lower() in ("nan", "none", "null", "na", "<na>"):
        return WRONG, None  # missing: counted wrong, not worth a note per row
    if INTEGER.fullmatch(value):
        if len(value.lstrip("+-").lstrip("0")) > 18:  # would overflow int64 in other readers
            return WRONG, f"метка {value[:30]}… — слишком большое число"
        label = int(value)
    else:
        try:
            number = float(value)
        except ValueError:
            name = norm_text(value).lower()
            if name in names:
                return names[name], None
            return WRONG, f"метка {value[:40]!r} — не номер и не название категории"
        if not math.isfinite(number) or number != int(number) or abs(number) > 2 ** 53:
            return WRONG, f"метка {value[:40]!r} — не целый номер категории"
        label = int(number)
    if label not in classes:
        return WRONG, f"метка {label} — нет такой категории"
    return label, None


def score(predictions_path, answer_key_path=DEFAULT_KEY, max_points=MAX_POINTS):
    """Score a predictions file against the answer key.

    Returns dict: points, f1_weighted, ok (False when the file could not be scored at all),
    reason (why 0, '' if ok), notes (list of problems found, Russian), n_test, n_rows, n_matched
    (test texts with a usable label), n_missing (test texts with no row), n_bad_labels,
    n_unknown_texts (rows not in the test), n_duplicates (extra rows of a repeated text)."""
    from sklearn.metrics import f1_score

    key = read_key(answer_key_path)
    result = dict(points=0.0, f1_weighted=0.0, ok=False, reason="", notes=[], n_test=len(key),
                  n_rows=0, n_matched=0, n_missing=len(key), n_bad_labels=0, n_unknown_texts=0,
                  n_duplicates=0)
    try:
        data, info = read_bytes_safely(predictions_path)
        if os.path.samestat(info, os.stat(answer_key_path)):
            raise PredictionsError("это файл с ответами проверяющей системы")
        header, rows = parse_table(data)
        if "text" not in header:
            raise PredictionsError(f"нет колонки text (колонки: {header[:5]}); нужны text,label")
        if "label" not in header:
            raise PredictionsError(f"нет колонки label (колонки: {header[:5]}); нужны text,label")
        predicted, notes = read_predictions(header, rows, key, result, answer_key_path)
    except PredictionsError as exc:
        result["reason"] = str(exc)
        return result
    y_true = list(key.values())
    if not predicted:
        result.update(reason="ни один текст файла не совпал с тестовыми", notes=notes)
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes never predicted: sklearn warns, F1 is still right
        f1 = float(f1_score(y_true, [predicted.get(text, WRONG) for text in key], average="weighted"))
    result.update(ok=True, f1_weighted=round(f1, 6), points=f1_points(f1, max_points), notes=notes)
    return result


def read_predictions(header, rows, key, result, answer_key_path):
    """{test text: class id or WRONG} (first row of a text counts) and notes; fills counts in result."""
    notes = []
    if len(header) > 2:
        notes.append(f"лишние колонки не учтены: {[c for c in header if c not in ('text', 'label')][:5]}")
    i_text, i_label = header.index("text"), header.index("label")
    names = read_categories(answer_key_path)
    classes = set(key.values()) | set(names.values())
    predicted = {}
    while (row := read_row(rows)) is not None:
        if not any(cell.strip() for cell in row):
            continue  # blank line
        result["n_rows"] += 1
        if result["n_rows"] > MAX_ROWS:
            raise PredictionsError(f"больше {MAX_ROWS} строк: это не файл предсказаний")
        text = norm_text(row[i_text]) if i_text < len(row) else ""
        label, note = parse_label(row[i_label] if i_label < len(row) else "", names, classes)
        if text not in key:
            result["n_unknown_texts"] += 1
            continue
        if text in predicted:
            result["n_duplicates"] += 1
            continue
        predicted[text] = label
        if label == WRONG:
            result["n_bad_labels"] += 1
            if note and len(notes) < MAX_NOTES:
                notes.append(note)
    result["n_matched"] = sum(label != WRONG for label in predicted.values())
    result["n_missing"] = len(key) - len(predicted)
    for count, what in ((result["n_missing"], "тестовых текстов без предсказания (считаются ошибками)"),
                        (result["n_bad_labels"], "строк без понятной метки (считаются ошибками)"),
                        (result["n_duplicates"], "повторов текста (учтена первая строка)"),
                        (result["n_unknown_texts"], "строк с текстами не из теста (не учтены)")):
        if count:
            notes.append(f"{count} {what}")
    return predicted, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument("--answer-key", type=Path, default=DEFAULT_KEY)
    args = parser.parse_args(argv)
    print(json.dumps(score(args.predictions, args.answer_key), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
