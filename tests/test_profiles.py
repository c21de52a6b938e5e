"""Issue 11: both notebook profiles read the same student file and predict the same test texts.

Runs the notebook's own data cells (parameters, profiles, read_data, split_data) on a small
dataset, without training."""

import pandas as pd
import pytest

from coursekit import SOLUTION_NB
from coursekit import notebook_cells as nc
from data import build_dataset as bd

DATA_CELLS = ["imports", "parameters", "profiles", "read_data", "split_data"]


def cell_sources(nb):
    by_id = {nc.nbg(c).get("grade_id") or (c.metadata.get("tags") or [""])[0]: c.source for c in nb.cells}
    return [by_id[name] for name in DATA_CELLS]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    bd.build("smoke", 0, folder / "task3_data.csv", n_labelled=3000, n_unsup=4000, min_class=8)
    return folder / "task3_data.csv"


def load(profile, data, tmp_path, monkeypatch, env=None, grading=False):
    """Namespace after the notebook's data cells for `profile` (None: the cell's own default)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TASK3_DATA", str(data))
    monkeypatch.delenv("TASK3_PROFILE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    if grading:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    sources = cell_sources(nc.read(SOLUTION_NB))
    if profile is not None:  # what papermill does: a cell right after the parameters cell
        sources.insert(DATA_CELLS.index("parameters") + 1, f"PROFILE = {profile!r}")
    ns = {"display": lambda *a, **k: None}
    for source in sources:
        exec(compile(source, "cell", "exec"), ns)
    return ns


def test_profiles_predict_the_same_test_texts(small_data, tmp_path, monkeypatch):
    smoke = load("smoke", small_data, tmp_path, monkeypatch)
    full = load("full", small_data, tmp_path, monkeypatch)
    assert smoke["PROFILE"] == "smoke" and full["PROFILE"] == "full"
    assert smoke["test"]["text"].tolist() == full["test"]["text"].tolist()
    assert smoke["val"]["text"].tolist() == full["val"]["text"].tolist()
    raw = pd.read_csv(small_data, keep_default_na=False)
    assert sorted(full["test"]["text"]) == sorted(raw.loc[raw["split"] == "test", "text"])
    assert list(full["test"].columns) == ["text"]  # the notebook never sees a test label
    # smoke trains on a subsample of the unsupervised and train texts, the same one every run
    for split in ("unsupervised", "train"):
        n_all = (raw["split"] == split).sum()
        kept = smoke["data"].loc[smoke["data"]["split"] == split, "text"]
        assert len(kept) == min(n_all, smoke["CONFIG"]["subsample"][split]), split
    again = load("smoke", small_data, tmp_path, monkeypatch)
    assert again["data"]["text"].tolist() == smoke["data"]["text"].tolist()


def test_smoke_subsample_is_a_real_subsample(small_data, tmp_path, monkeypatch):
    """With a subsample smaller than the part, smoke keeps fewer rows, full keeps all."""
    ns = load("smoke", small_data, tmp_path, monkeypatch)
    ns["CONFIG"]["subsample"].update(unsupervised=100, train=50)
    exec(compile(cell_sources(nc.read(SOLUTION_NB))[DATA_CELLS.index("read_data")], "cell", "exec"), ns)
    counts = ns["data"]["split"].value_counts()
    assert counts["unsupervised"] == 100 and counts["train"] == 50 and counts["test"] == len(ns["test"])


def test_profile_from_environment_and_grading_forces_smoke(small_data, tmp_path, monkeypatch):
    assert load(None, small_data, tmp_path, monkeypatch)["PROFILE"] == "smoke"
    assert load(None, small_data, tmp_path, monkeypatch, env={"TASK3_PROFILE": "full"})["PROFILE"] == "full"
    graded = load("full", small_data, tmp_path, monkeypatch, grading=True)
    assert graded["PROFILE"] == "smoke" and not graded["TRAIN"]
    # at grading an even smaller part: the grader gives the kernel exactly those rows
    from coursekit.notebook import grading_config, write_kept_rows
    assert graded["CONFIG"] == grading_config() and graded["CONFIG"]["subsample"] == graded["GRADING_SUBSAMPLE"]
    assert graded["CONFIG"] != graded["PROFILES"]["smoke"]
    kept = write_kept_rows(small_data, tmp_path / "kept" / "task3_data.csv")
    again = load("full", kept, tmp_path, monkeypatch, grading=True)
    pd.testing.assert_frame_equal(again["data"], graded["data"])
    with pytest.raises(ValueError, match="smoke"):
        load("ful", small_data, tmp_path, monkeypatch)


def test_parameters_cell_is_unlocked_and_papermill_tagged():
    nb = nc.read(SOLUTION_NB)
    cell = next(c for c in nb.cells if "parameters" in (c.metadata.get("tags") or []))
    assert not nc.nbg(cell).get("locked") and not nc.nbg(cell).get("grade")
    assert "TASK3_PROFILE" in cell.source


def test_the_kernels_rows_give_the_notebook_the_same_frame(small_data, tmp_path):
    """At grading each kernel gets only the rows the notebook keeps (coursekit.notebook.write_kept_rows):
    its read_data cell, run on that file, must make exactly the frame it makes of the whole file,
    also for texts a CSV round trip could change."""
    from coursekit.notebook import read_data, write_kept_rows
    raw = pd.read_csv(small_data, keep_default_na=False)
    tricky = ["NA", "", " ведущий пробел", 'кавычки "внутри", запятая', "строка\nс переносом", "null", "1e5"]
    raw = pd.concat([raw, pd.DataFrame({"text": tricky, "label": [raw["label"].iloc[-1]] * len(tricky),
                                        "split": "val"})], ignore_index=True)
    whole = tmp_path / "whole" / "task3_data.csv"
    whole.parent.mkdir()
    raw.to_csv(whole, index=False)
    (whole.parent / "task3_categories.csv").write_bytes(small_data.with_name("task3_categories.csv").read_bytes())
    config = {"subsample": {"unsupervised": 100, "train": 50}}
    kept = write_kept_rows(whole, tmp_path / "kept" / "task3_data.csv", config=config)
    kept_counts = pd.read_csv(kept, keep_default_na=False)["split"].value_counts()
    assert kept_counts["unsupervised"] == 100 and kept_counts["train"] == 50
    assert kept_counts["val"] == (raw["split"] == "val").sum() and kept_counts["test"] == (raw["split"] == "test").sum()
    assert kept.with_name("task3_categories.csv").read_bytes() == whole.with_name("task3_categories.csv").read_bytes()
    pd.testing.assert_frame_equal(read_data(kept, config=config), read_data(whole, config=config))
    assert set(tricky) <= set(read_data(kept, config=config)["text"])
    # the profile the grader uses (smoke) keeps all of a file smaller than its subsample
    pd.testing.assert_frame_equal(read_data(kept), read_data(kept, config=config))
