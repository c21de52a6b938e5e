"""coursekit.predict on the weights of a tiny coursekit.train run: outputs and one-line errors."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from coursekit import ROOT, predict
from coursekit.notebook import load_defs

pytestmark = pytest.mark.slow

TEXTS = ["МОЛОКО ПАСТ. 3,2% 1Л", "ШОК. МОЛОЧНЫЙ 90Г", "ПАКЕТ МАЙКА"]


@pytest.fixture
def texts_file(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join([TEXTS[0], "", *TEXTS[1:]]) + "\n", encoding="utf-8")  # blank lines skipped
    return path


def run(capsys, *args):
    predict.main([str(a) for a in args])
    return capsys.readouterr()


def error(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        predict.main([str(a) for a in args])
    message = str(exc.value)
    assert message.startswith("coursekit.predict: ") and "\n" not in message, message
    return message


def reference_probabilities(run_dir):
    """The same model through the notebook's own FinetuneTrainer.predict_proba."""
    sol = load_defs()
    card = json.loads((run_dir / "model.json").read_text())
    model = sol.BertFinetuneModel(**card["model_args"], num_classes=card["num_classes"])
    model.load_state_dict(torch.load(run_dir / "finetuned_weights.pt", weights_only=True))
    tokenizer = sol.WordpieceTokenizer(run_dir / card["vocab"])
    trainer = sol.FinetuneTrainer(model, None, None, tokenizer.pad_token_id, "cpu")
    return trainer.predict_proba(sol.make_inference_loader(TEXTS, tokenizer, card["max_len"])), card


def test_csv_has_top_k_categories_with_probabilities(tiny_run, texts_file, capsys):
    out = run(capsys, "--weights", tiny_run / "finetuned_weights.pt", "--input", texts_file, "--top-k", 3).out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["text", "rank", "label", "category", "probability"]
    assert [r["text"] for r in rows] == [t for t in TEXTS for _ in range(3)]
    proba, card = reference_probabilities(tiny_run)
    for i, text in enumerate(TEXTS):
        top = rows[3 * i:3 * i + 3]
        assert [r["rank"] for r in top] == ["1", "2", "3"]
        expected = proba[i].argsort()[::-1][:3]
        assert [int(r["label"]) for r in top] == list(expected)
        assert [float(r["probability"]) for r in top] == pytest.approx(proba[i][expected], abs=1e-5)
        assert [r["category"] for r in top] == [card["categories"][str(label)] for label in expected]


def test_json_output(tiny_run, texts_file, tmp_path, capsys):
    output = tmp_path / "predictions.json"
    run(capsys, "--weights", tiny_run / "finetuned_weights.pt", "--input", texts_file, "--top-k", 2,
        "--output", output)
    data = json.loads(output.read_text(encoding="utf-8"))
    assert [item["text"] for item in data] == TEXTS
    for item in data:
        assert len(item["top"]) == 2 and set(item["top"][0]) == {"label", "category", "probability"}
        assert item["top"][0]["probability"] >= item["top"][1]["probability"] > 0


def test_missing_and_mismatched_weights(tiny_run, texts_file, tmp_path, capsys):
    assert "нет файла весов" in error(capsys, "--weights", tmp_path / "none.pt", "--input", texts_file)
    # pretraining weights are not the fine-tuned model's
    message = error(capsys, "--weights", tiny_run / "pretrained_weights.pt", "--input", texts_file)
    assert "не подходят к model.json" in message and "лишних" in message
    broken = tmp_path / "broken" / "finetuned_weights.pt"
    broken.parent.mkdir()
    shutil.copy(tiny_run / "model.json", broken.parent)
    shutil.copytree(tiny_run / "tokenizer", broken.parent / "tokenizer")
    broken.write_bytes(b"not a torch file")
    assert "не файл весов torch.save" in error(capsys, "--weights", broken, "--input", texts_file)
    (broken.parent / "model.json").unlink()
    assert "нет model.json" in error(capsys, "--weights", broken, "--input", texts_file)


def test_empty_and_non_utf8_input(tiny_run, tmp_path, capsys):
    weights = tiny_run / "finetuned_weights.pt"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    assert "нет ни одного текста" in error(capsys, "--weights", weights, "--input", empty)
    cp1251 = tmp_path / "cp1251.txt"
    cp1251.write_bytes("МОЛОКО\n".encode("cp1251"))
    assert "не в UTF-8" in error(capsys, "--weights", weights, "--input", cp1251)
    assert "нет входного файла" in error(capsys, "--weights", weights, "--input", tmp_path / "none.txt")


def test_command_line_error_is_one_line_without_traceback(tiny_run, tmp_path):
    cp1251 = tmp_path / "cp1251.txt"
    cp1251.write_bytes("МОЛОКО\n".encode("cp1251"))
    proc = subprocess.run([sys.executable, "-m", "coursekit.predict", "--weights", str(tiny_run / "finetuned_weights.pt"),
                           "--input", str(cp1251)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "не в UTF-8" in proc.stderr, proc.stderr
