import importlib.util
import pathlib

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


RECORD_SEED = 11  # the seed offset a grader would pick for one submission


@pytest.fixture
def recording(monkeypatch, tmp_path, checks):
    """Checks called in the test record their record, as in the kernel at grading;
    `recording(name)` then judges it as the grader does: (passed, message)."""
    record_dir = tmp_path / 'records'
    monkeypatch.setenv(checks._RECORD_DIR_ENV, str(record_dir))
    monkeypatch.setenv(checks._RECORD_SEED_ENV, str(RECORD_SEED))
    return lambda name: checks.judge(name, str(record_dir / f'{name}.npz'), RECORD_SEED)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One single-process coursekit.train run on the tiny data: its run folder."""
    from coursekit import train
    folder = tmp_path_factory.mktemp("tiny")
    data = train.write_tiny_data(folder)
    train.main(["--data", str(data), "--run-dir", str(folder / "run"), "--set", *train.TINY])
    return folder / "run"


def scalars(logdir, tag):
    """Values of a tensorboard scalar, in step order, over all event files of a folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(logdir))
    events.Reload()
    return [e.value for e in sorted(events.Scalars(tag), key=lambda e: e.step)]
