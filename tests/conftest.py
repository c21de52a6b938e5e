import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import importlib.util

import pytest

_CHECKS_PATH = pathlib.Path(__file__).resolve().parent.parent / 'solutions' / 'task3_bert' / 'tests.py'


def load_student_checks(name='student_checks'):
    """The student-facing check module (solutions/task3_bert/tests.py), loaded by path."""
    spec = importlib.util.spec_from_file_location(name, _CHECKS_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def checks():
    return load_student_checks()


def write_tiny_data(folder, seed=0):
    """A small slice of the smoke dataset (and the category names next to it): seconds to train on."""
    import pandas as pd
    from coursekit.smoke import ensure_data
    smoke = ensure_data("smoke")
    data = pd.read_csv(smoke, keep_default_na=False)
    sizes = {"unsupervised": 600, "train": 320, "val": 120, "test": 60}
    tiny = pd.concat([data[data["split"] == split].sample(n, random_state=seed) for split, n in sizes.items()])
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tiny.to_csv(folder / "tiny.csv", index=False)
    (folder / "task3_categories.csv").write_bytes(smoke.with_name("task3_categories.csv").read_bytes())
    return folder / "tiny.csv"


# a tiny BERT (seconds on 2 CPU cores); dropout 0 so runs on 1 and 2 processes can be compared
TINY = ["vocab_size=400", "hidden_size=16", "num_hidden_layers=2", "num_attention_heads=2",
        "pretrain_batch_size=32", "pretrain_epochs=2", "pretrain_peak_lr=3e-3",
        "finetune_batch_size=32", "finetune_epochs=2", "finetune_peak_lr=3e-3",
        "pretrain_dropout=0.0", "finetune_dropout=0.0"]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One single-process coursekit.train run on the tiny data: its run folder."""
    from coursekit import train
    folder = tmp_path_factory.mktemp("tiny")
    data = write_tiny_data(folder)
    train.main(["--data", str(data), "--run-dir", str(folder / "run"), "--set", *TINY])
    return folder / "run"


def scalars(logdir, tag):
    """Values of a tensorboard scalar, in step order, over all event files of a folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(logdir))
    events.Reload()
    return [e.value for e in sorted(events.Scalars(tag), key=lambda e: e.step)]
