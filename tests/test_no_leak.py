"""Issue 10: the test labels stay with the grader: not in the student's data, not in the release, not
in the grading kernel's environment; the F1 cell's score is the grader's number."""
from pathlib import Path

import pandas as pd
import pytest

from coursekit import grading
from coursekit.course import Course
from coursekit.release import RELEASE_DIR, SOURCE_DIR
from coursekit.solution import ANSWER_KEY, DATA_FILE, ensure_data


@pytest.fixture(scope="module")
def key():
    ensure_data()
    return pd.read_csv(ANSWER_KEY, keep_default_na=False)


def test_student_file_has_no_test_label(key):
    data = pd.read_csv(DATA_FILE, keep_default_na=False, dtype=str)
    test = data[data["split"] == "test"]
    assert sorted(test["text"]) == sorted(key["text"]) and (test["label"] == "").all()
    assert not set(data.loc[data["label"] != "", "text"]) & set(key["text"])
    assert ANSWER_KEY.parent != DATA_FILE.parent and ANSWER_KEY.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("folder", [RELEASE_DIR, SOURCE_DIR])
def test_no_data_and_no_test_text_in_release_or_source(key, folder):
    """Nothing built from the data goes out with the assignment (source = what the release is made of)."""
    sample = key["text"].sample(200, random_state=0).tolist()
    for path in Path(folder).rglob("*"):
        if not path.is_file() or "runs" in path.parts:
            continue
        assert path.suffix not in (".csv", ".parquet", ".zip"), path
        content = path.read_bytes().decode("utf-8", errors="replace")
        assert not [t for t in sample if t in content], path


def test_kernel_environment_has_no_answer_key(tmp_path, monkeypatch):
    """grade_all hands the kernel the student's file only, even when the key is in our environment."""
    monkeypatch.setenv("TASK3_ANSWER_KEY", str(ANSWER_KEY))
    monkeypatch.setenv("TASK3_GRADER_DATA", str(ANSWER_KEY))
    seen = {}

    def fake_grade_one(student, submission_dir, *, work, env, kernel_env, **kw):
        seen.update(env)
        seen.update({f"kernel:{k}": str(v) for k, v in kernel_env.items()})
        return grading.Graded(student, Path(work), status="failed", reason="fake")

    monkeypatch.setattr(grading, "prepare", lambda *a, **k: None)
    monkeypatch.setattr(grading, "grade_one", fake_grade_one)
    monkeypatch.setattr(grading, "merge", lambda result, db: {})
    monkeypatch.setattr(grading.late, "set_duedate", lambda db: None)  # the stubbed gradebook is empty
    monkeypatch.setattr(grading.late, "add_columns", lambda db, rows: None)
    (tmp_path / "submitted" / "s1" / "task3_bert").mkdir(parents=True)
    (tmp_path / "gradebook.db").write_bytes(b"")
    grading.grade_all(Course(tmp_path), workers=1, data=DATA_FILE, copy_results=False, verbose=False)
    assert seen["kernel:TASK3_DATA"] == str(grading.SANDBOX_DATA_DIR / DATA_FILE.name)
    key_text = str(ANSWER_KEY.resolve())
    assert not [k for k, v in seen.items() if key_text in v], seen
    assert not {"TASK3_GRADER_DATA", "TASK3_ANSWER_KEY", "kernel:TASK3_GRADER_DATA",
                "kernel:TASK3_ANSWER_KEY"} & set(seen)


def test_sandbox_mounts_data_and_categories_only(tmp_path, monkeypatch):
    """The kernel sees the data file and the categories file next to it (the notebook reads both,
    issue 21/N11), read-only under /data; never the answer key."""
    from coursekit import sandbox
    ensure_data()
    categories = DATA_FILE.with_name("task3_categories.csv")
    assert categories.exists()
    seen = {}

    class Stop(Exception):
        pass

    def fake_write_config(path, kernel_env, caps=None, read_only=None, ipc_parent=None):
        seen.update({str(k): str(v) for k, v in (read_only or {}).items()})
        raise Stop

    monkeypatch.setattr(sandbox, "write_config", fake_write_config)
    submission = tmp_path / "submitted" / "s1" / "task3_bert"
    submission.mkdir(parents=True)
    (tmp_path / "gb.db").write_bytes(b"")
    template = tmp_path / "template"
    (template / "solutions" / "task3_bert").mkdir(parents=True)
    for name in ("task3_bert.ipynb", "tests.py"):
        (template / "solutions" / "task3_bert" / name).write_bytes((SOURCE_DIR / name).read_bytes())
    with pytest.raises(Stop):
        grading.grade_one("s1", submission, template=template, main_db=tmp_path / "gb.db", work=tmp_path / "work",
                          env={}, limits=grading.Limits(60, 30), data=DATA_FILE, answer_key=ANSWER_KEY)
    inside = {v: k for k, v in seen.items()}
    assert inside[str(grading.SANDBOX_DATA_DIR / DATA_FILE.name)] == str(DATA_FILE)
    assert inside[str(grading.SANDBOX_DATA_DIR / categories.name)] == str(categories)
    assert not [k for k in seen if "answer_key" in k], seen  # the key is never mounted
