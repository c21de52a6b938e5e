"""The reference solution runs end to end with the smoke profile and reaches the F1 bar on the
shared test set, scored by the grader against the answer key (slow: minutes)."""
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from coursekit.solution import ensure_data, grader_scores, run_solution

pytestmark = pytest.mark.slow  # runs the whole notebook: minutes


def test_solution_notebook_runs_and_reaches_f1(tmp_path):
    run_solution(tmp_path / "out.ipynb", tmp_path / "runs", tmp_path / "test_predictions.csv")
    results = grader_scores(tmp_path / "runs", tmp_path / "test_predictions.csv", "smoke")
    assert results["test_f1_weighted"] >= 0.7 and results["test_points"] == 2.5, results
    assert results["val_f1_weighted"] >= 0.7, results
    assert 0 < results["scratch_test_f1_weighted"] < results["test_f1_weighted"], results

    predictions = pd.read_csv(tmp_path / "test_predictions.csv", keep_default_na=False)
    data = pd.read_csv(ensure_data(), keep_default_na=False)
    test = data[data["split"] == "test"]
    assert list(predictions.columns) == ["text", "label"]
    assert predictions["text"].tolist() == test["text"].tolist()  # every test text of the full data
    assert (tmp_path / "runs" / "smoke" / "pretrain").is_dir()  # tensorboard logs
    assert list((tmp_path / "runs" / "smoke" / "finetune").glob("events.out.tfevents.*"))
    # the fine-tuning strategies table (validation F1, time) and the figures next to the scalars
    assert len(results["strategies_val"]) == 4, results
    assert all({"weighted F1", "macro F1", "время, с"} == set(row) for row in results["strategies_val"].values())
    events = EventAccumulator(str(tmp_path / "runs" / "smoke" / "finetune"))
    events.Reload()
    assert {"eval/confusion_matrix", "eval/f1_per_class"} <= set(events.Tags()["images"])
