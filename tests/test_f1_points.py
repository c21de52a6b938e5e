"""The F1 grade (tests.f1_points / report_f1): full marks at F1 >= 0.7, linear down to 0 at 0.5,
0 with a Russian message for a missing or malformed predictions file, never an exception."""
import pandas as pd
import pytest

from coursekit.smoke import ensure_data


@pytest.fixture(scope='module')
def truth():
    data = ensure_data('smoke')
    return data, pd.read_csv(data, keep_default_na=False).query("split == 'test'")


def write(path, texts, labels):
    pd.DataFrame({'text': list(texts), 'label': list(labels)}).to_csv(path, index=False)
    return path


def with_wrong(labels, share):
    """Labels with the first `share` of them moved to another class."""
    n = int(round(share * len(labels)))
    return [(y + 1) % 96 if i < n else y for i, y in enumerate(labels)]


def test_perfect_predictions_get_full_marks(checks, truth, tmp_path, capfd):
    data, test = truth
    path = write(tmp_path / 'p.csv', test['text'], test['label'].astype(int))
    assert checks.f1_points(str(path), str(data), max_points=2.5) == 2.5
    out, err = capfd.readouterr()
    assert out.startswith('✓ Взвешенная F1 на тесте: 1.0000') and err == ''


def test_points_are_linear_between_the_thresholds(checks, truth, tmp_path, capfd):
    data, test = truth
    labels = test['label'].astype(int).tolist()
    for share in (0.1, 0.3, 0.45, 0.7):
        path = write(tmp_path / f'p{share}.csv', test['text'], with_wrong(labels, share))
        f1, missing, total = checks.score_predictions(str(path), str(data))
        assert missing == 0 and total == len(test)
        expected = 2.5 * min(max((f1 - 0.5) / 0.2, 0.0), 1.0)
        assert checks.f1_points(str(path), str(data), max_points=2.5) == pytest.approx(expected, abs=1e-3)
    capfd.readouterr()


def test_texts_without_a_prediction_count_as_errors(checks, truth, tmp_path, capfd):
    data, test = truth
    half = test.iloc[: len(test) // 2]
    path = write(tmp_path / 'half.csv', half['text'], half['label'].astype(int))
    f1, missing, total = checks.score_predictions(str(path), str(data))
    assert missing == total - len(half) and f1 < 0.7
    checks.report_f1(str(path), str(data))
    assert f'нет предсказаний для {missing} из {total}' in capfd.readouterr().out


@pytest.mark.parametrize('content, words', [
    (None, 'не найден'),
    (b'id,pred\n1,2\n', 'колонки text,label'),
    (b'text,label\nabc,xyz\n', 'номера категорий'),
    (b'\x00\xff garbage\n"unterminated,,,\n', 'не читается как CSV'),
])
def test_bad_files_score_zero_with_a_message(checks, truth, tmp_path, capfd, content, words):
    data, _ = truth
    path = tmp_path / 'p.csv'
    if content is not None:
        path.write_bytes(content)
    assert checks.f1_points(str(path), str(data), max_points=2.5) == 0.0
    out, err = capfd.readouterr()
    assert out.startswith('✗ Качество на тесте') and words in out and err == '', out
