"""The reference solution runs end to end on the smoke data and reaches the F1 bar (slow: minutes)."""
import json

import pandas as pd
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from coursekit.smoke import run_solution, ensure_data


def test_solution_notebook_runs_and_reaches_f1(tmp_path):
    run_solution(tmp_path / "out.ipynb", tmp_path / "runs", tmp_path / "test_predictions.csv")
    results = json.loads((tmp_path / "runs" / "smoke" / "results.json").read_text())
    assert results["test_f1_weighted"] >= 0.7, results
    assert results["scratch_test_f1_weighted"] > 0, results

    predictions = pd.read_csv(tmp_path / "test_predictions.csv", keep_default_na=False)
    data = pd.read_csv(ensure_data("smoke"), keep_default_na=False)
    test = data[data["split"] == "test"]
    assert list(predictions.columns) == ["text", "label"]
    assert predictions["text"].tolist() == test["text"].tolist()
    assert (tmp_path / "runs" / "smoke" / "pretrain").is_dir()  # tensorboard logs
    assert list((tmp_path / "runs" / "smoke" / "finetune").glob("events.out.tfevents.*"))
    # the fine-tuning strategies table (validation F1, time) and the figures next to the scalars
    assert len(results["strategies_val"]) == 4, results
    assert all({"weighted F1", "macro F1", "время, с"} == set(row) for row in results["strategies_val"].values())
    events = EventAccumulator(str(tmp_path / "runs" / "smoke" / "finetune"))
    events.Reload()
    assert {"eval/confusion_matrix", "eval/f1_per_class"} <= set(events.Tags()["images"])
