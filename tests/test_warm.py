"""coursekit.warm: the grader's steps in processes forked from a warm server keep what a fresh
`python -m ...` process gave them: exit code, timeout (the whole tree killed), memory cap, their own
environment, working directory, session and log."""
import json
import os
import time

import psutil

from coursekit import ROOT, warm


def _report(out):
    with open(out, "w") as f:
        json.dump(dict(cwd=os.getcwd(), env=dict(os.environ), sid=os.getsid(0), pid=os.getpid()), f)
    print("to the log")


def _exit(code):
    raise SystemExit(code)


def _sleep_with_child(pid_file):
    import subprocess
    child = subprocess.Popen(["sleep", "300"])
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    time.sleep(300)


def _allocate(n_bytes):
    bytearray(n_bytes)


def test_environment_cwd_session_and_log(tmp_path):
    out, log = tmp_path / "out.json", tmp_path / "step.log"
    assert warm.run(_report, (str(out),), {"ONLY_THIS": "1"}, 60, log) == 0
    seen = json.loads(out.read_text())
    assert seen["env"] == {"ONLY_THIS": "1"} and seen["cwd"] == str(ROOT)
    assert seen["sid"] == seen["pid"] != os.getsid(0)  # its own session: killed as a tree
    assert "to the log" in log.read_text()


def test_exit_code_and_exception(tmp_path):
    assert warm.run(_exit, (3,), {}, 60, tmp_path / "log") == 3
    assert warm.run(_exit, ("not a number",), {}, 60, tmp_path / "log") == 1  # a message: code 1


def test_timeout_kills_the_whole_tree(tmp_path):
    pids = tmp_path / "pids"
    started = time.monotonic()
    assert warm.run(_sleep_with_child, (str(pids),), dict(os.environ), 3, tmp_path / "log") is None
    assert time.monotonic() - started < 30
    for pid in map(int, pids.read_text().split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_memory_cap_counts_the_steps_own_allocations(tmp_path):
    log = tmp_path / "log"
    assert warm.run(_allocate, (64 << 20,), {}, 60, log, memory=512 << 20) == 0
    assert warm.run(_allocate, (1 << 30,), {}, 60, log, memory=512 << 20) != 0
    assert "MemoryError" in log.read_text()
