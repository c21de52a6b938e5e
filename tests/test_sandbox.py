"""The grading sandbox holds against hostile submissions (coursekit.sandbox, coursekit.grading).

A tiny assignment (two 1-point grade cells, no torch) is graded in one batch of attackers and
victims, so every attack class costs seconds: tampering with others and with the grader, leaks,
resource exhaustion, escapes via symlinks, killing the batch, hangs, untidy submissions, logins.
Each attacker writes what it saw and what it could do into report.json in its working copy.
"""
import csv
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from coursekit import ROOT, sandbox
from coursekit import notebook_cells as nc
from coursekit import preprocessors
from coursekit.course import Course
from coursekit.grading import copy_submission, csv_safe, grade_all, refuse_login, tree_hash
from coursekit.release import ASSIGNMENT

MiB = 1 << 20
CAPS = dict(memory=1 << 30, processes=64, file_size=16 * MiB, disk=64 * MiB, files=2000)
MARKER = f"sandbox_test_orphan_marker_{os.getpid()}"  # this run's own: another grading may run beside it


def grade_meta(grade_id, points=None, solution=False):
    meta = dict(grade=points is not None, grade_id=grade_id, locked=not solution, schema_version=3,
                solution=solution, task=False)
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    """## Часть 1; answer (solution); test_a (1 pt); extra (solution: attacks go here); test_b (1 pt:
    the submission's own test_predictions.csv holds 42)."""
    new = nbformat.v4
    nb = new.new_notebook(cells=[
        new.new_markdown_cell("## Часть 1"),
        new.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", metadata=grade_meta("answer", solution=True)),
        new.new_code_cell("import tests\nassert tests.ok() and answer == 42", metadata=grade_meta("test_a", 1)),
        new.new_code_cell("### BEGIN SOLUTION\npass\n### END SOLUTION", metadata=grade_meta("extra", solution=True)),
        new.new_code_cell("assert open('test_predictions.csv').read().strip() == '42'", metadata=grade_meta("test_b", 1)),
    ])
    nb.metadata["kernelspec"] = dict(name="python3", display_name="Python 3", language="python")
    return nb


def student(extra="pass", answer="answer = 42"):
    nb = source_notebook()
    nb.cells[1].source, nb.cells[3].source = answer, extra
    return nb


REPORT = """
import json, os
report = {}
def attempt(name, fn):
    try:
        fn()
        report[name] = 'done'
    except BaseException as exc:
        report[name] = type(exc).__name__
def save():
    json.dump(report, open('report.json', 'w'))
"""


# links in the kernel's folder to what the grader protects (answer key, instructor's source, host
# files, endless devices), some named like the files the grader takes out
LINKS = """import os
for name, target in [('key.csv', {labels!r}), ('source.ipynb', {source!r} + '/task3_bert.ipynb'),
                     ('other.ipynb', {labels!r}), ('shadow', '/etc/shadow'), ('tests_src.py', {source!r} + '/tests.py'),
                     ('zero.csv', '/dev/zero'), ('zero.ipynb', '/dev/zero'), ('course', {tmp!r})]:
    os.symlink(target, name)
"""
# a student's output that would run as script wherever its HTML is shown
XSS = "document.title = 'xss-payload'"
SCRIPTS = f"""from IPython.display import HTML, Javascript, SVG, display
display(Javascript("{XSS}"))
display(HTML("<script>{XSS}</script><img src=x onerror=\\"{XSS}\\"><a href='javascript:{XSS}'>a</a>"))
display({{'image/svg+xml': "<svg xmlns='http://www.w3.org/2000/svg' onload=\\"{XSS}\\"><script>{XSS}</script></svg>"}}, raw=True)
"""


def attacks(paths):
    """{login: (notebook source of the 'extra' cell, expected auto score, expected status)}."""
    p = {k: str(v) for k, v in paths.items()}
    spy = REPORT + f"""
import ctypes, glob, socket, signal
report['uid'] = os.getuid()
report['root'] = sorted(os.listdir('/'))
report['cwd_files'] = sorted(f for f in os.listdir('.') if not f.startswith(('.', '__')))
report['pids'] = sorted(int(x) for x in os.listdir('/proc') if x.isdigit())
report['env'] = sorted(os.environ)
report['visible'] = [x for x in {json.dumps(list(p.values()))} if os.path.exists(x)]
report['grader_tmp'] = glob.glob('/tmp/task3_grading*') + glob.glob('/tmp/pytest-of-*')
attempt('read_labels', lambda: open({p['labels']!r}).read())
attempt('write_config', lambda: open({p['config']!r}, 'a').write('#'))
attempt('write_tests', lambda: open('tests.py', 'a').write('def ok(): return False'))
attempt('write_data', lambda: open(os.environ['TASK3_DATA'], 'a').write('x'))
attempt('net', lambda: socket.create_connection(('1.1.1.1', 53), timeout=2))
libc = ctypes.CDLL(None, use_errno=True)
report['ptrace'] = (libc.ptrace(0, 0, 0, 0), ctypes.get_errno())  # PTRACE_TRACEME
fd = libc.inotify_init1(0)
report['inotify'] = (fd, libc.inotify_add_watch(fd, b'.', 2) if fd >= 0 else -1, ctypes.get_errno())
report['unshare'] = (libc.unshare(0x10000000), ctypes.get_errno())  # CLONE_NEWUSER
for pid in report['pids']:
    if pid != os.getpid():
        attempt(f'kill_{{pid}}', lambda: os.kill(pid, signal.SIGKILL))
save()
"""
    tamper = REPORT + f"""
import glob, subprocess, sys
victims = glob.glob('/tmp/task3_grading*/work/*/autograded/*/{ASSIGNMENT}/test_predictions.csv')
victims += glob.glob({p['submitted']!r} + '/*/{ASSIGNMENT}/test_predictions.csv')
report['victims_seen'] = victims
for name in ('gradebook', 'main_db', 'config', 'grading_py'):
    attempt(name, append({{'gradebook': {p['main_db']!r}, 'main_db': {p['main_db']!r},
                           'config': {p['config']!r}, 'grading_py': {p['grading_py']!r}}}[name]))
# a detached child that keeps emptying other students' predictions (outlived the kernel before)
code = "import glob, time\\nwhile True:\\n    for f in glob.glob('/tmp/task3_grading*/work/*/autograded/*/*/test_predictions.csv'): open(f, 'w').close()\\n    time.sleep(0.2)"
subprocess.Popen([sys.executable, '-c', code, '{MARKER}'], start_new_session=True)
save()
""".replace("append(", "(lambda path: lambda: open(path, 'a').write('#'))(")
    cases = {
        "victim": ("pass", 2, "ok"),
        "spy": (spy, 2, "ok"),
        "tamper": (tamper, 2, "ok"),
        "memory_big": ("x = bytearray(10 << 30)", 1, "memory"),
        "memory_children": ("import subprocess, sys\n"
                            "hog = 'import time; x = bytearray(600 << 20); time.sleep(30)'\n"
                            "ps = [subprocess.Popen([sys.executable, '-c', hog]) for _ in range(3)]\n"
                            "[p.wait() for p in ps]", 1, "memory"),
        "fork_bomb": (REPORT + "import subprocess, sys\nprocs = []\n"
                      "def spawn():\n    for _ in range(200):\n"
                      f"        procs.append(subprocess.Popen(['sh', '-c', 'sleep 60', '{MARKER}']))\n"
                      "attempt('spawn', spawn)\nreport['spawned'] = len(procs)\n[p.kill() for p in procs]\nsave()",
                      # a root grader: RLIMIT_NPROC does not bind (uid maps to root), the watchdog stops it
                      *((1, "processes") if os.geteuid() == 0 else (2, "ok"))),
        "big_file": (REPORT + "attempt('write', lambda: open('big.bin', 'wb').write(b'0' * (32 << 20)))\n"
                     "report['size'] = os.path.getsize('big.bin')\nsave()", 2, "ok"),
        # files under the file-size cap, without end: the working copy's total is capped
        "disk_fill": ("i = 0\nwhile True:\n    open(f'fill{i}.bin', 'wb').write(b'1' * (8 << 20))\n    i += 1",
                      1, "disk"),
        "many_files": ("i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1", 1, "disk"),
        "sigint_ignored": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", 1, "cell_timeout"),
        "interrupt_swallowed": ("while True:\n    try:\n        while True:\n            pass\n    except:\n        pass", 1, "cell_timeout"),
        "kill_all": ("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
                     "os.kill(0, signal.SIGKILL)", 1, "crashed"),
        "huge_display": ("from IPython.display import HTML, display\n"
                         "display(HTML('<pre>' + 'x' * 30_000_000 + '</pre>'))\n"
                         "display({'image/png': 'A' * 5_000_000}, raw=True)\n42", 2, "ok"),
        "symlinks": ("pass", 1, "ok"),  # predictions refused (symlink): test_b fails
        # the way out: links to what the grader protects, then the kernel ends by itself
        # exit() asks the front end to stop the kernel: ipykernel sometimes stops it, sometimes not
        "exit_links": (LINKS.format(**p) + "exit()", 2, "ok"),
        "os_exit_links": (LINKS.format(**p) + "os.remove('task3_bert.ipynb')\n"
                          f"os.symlink({p['labels']!r}, 'task3_bert.ipynb')\nos._exit(1)", 1, "crashed"),
        "left_behind": ("import os\nopen('big.bin', 'wb').write(b'1' * (5 << 20))\n"
                        "open('fake_grades.html', 'w').write('<h1>10 / 10</h1>')\n"
                        "open('\\n=cmd|calc!A0\\r.csv', 'w').write('=1+1')\n"
                        "os.makedirs('a/b/c')\nopen('a/b/c/deep.txt', 'w').write('deep')", 2, "ok"),
        "script_outputs": (SCRIPTS, 2, "ok"),
        "dev_fill": (REPORT + "attempt('dev', lambda: open('/dev/fill', 'wb').write(b'0' * (64 << 20)))\nsave()",
                     2, "ok"),
        "ipc_fill": ("import itertools\nfor i in itertools.count():\n"
                     "    open(f'/run/kernel/fill{i}', 'wb').write(b'1' * (8 << 20))", 1, "disk"),
        "log_fill": (REPORT + "def fill():\n    for fd in (1, 2):\n"
                     "        with open(f'/proc/self/fd/{fd}', 'wb', buffering=0) as f:\n"
                     "            for _ in range(4):\n                f.write(b'L' * (4 << 20))\n"
                     "attempt('fill', fill)\nattempt('truncate', lambda: os.truncate('/proc/self/fd/1', 0))\nsave()",
                     2, "ok"),
        "huge_cell": ("# " + "x" * 900_000 + "\npass", 2, "ok"),  # the batch refuses files over 1 MiB
        "renamed": ("pass", 2, "ok"),
        "bad_timestamp": ("pass", 2, "ok"),
        "extra_grade_cell": ("pass", 2, "ok"),
        "=2+5": ("pass", 2, "ok"),
        "-rf": ("pass", 0, "refused"),
    }
    return cases


def course(tmp, cases):
    """The tiny assignment's source, data, labels and one submission per case in tmp."""
    source = tmp / "solutions" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), str(source / f"{ASSIGNMENT}.ipynb"))
    (source / "tests.py").write_text("def ok():\n    return True\n")
    data, labels = tmp / "data.csv", tmp / "labels.csv"
    data.write_text("text,label,split\n")
    labels.write_text("text,label\nsecret answer key,1\n")
    submitted = tmp / "submitted"
    for login, (extra, _, _) in cases.items():
        sub = submitted / login / ASSIGNMENT
        sub.mkdir(parents=True)
        nbformat.write(student(extra), str(sub / f"{ASSIGNMENT}.ipynb"))
        (sub / "test_predictions.csv").write_text("42\n")
    return dict(source=source, data=data, labels=labels, main_db=tmp / "gradebook.db", submitted=submitted,
                tmp=tmp)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandbox")
    labels = tmp / "labels.csv"
    paths = dict(config=ROOT / "nbgrader_config.py", grading_py=ROOT / "coursekit" / "grading.py",
                 source=tmp / "solutions" / ASSIGNMENT, labels=labels, main_db=tmp / "gradebook.db",
                 submitted=tmp / "submitted", tmp=tmp)
    cases = attacks(paths)
    made = course(tmp, cases)
    source, data, submitted = made["source"], made["data"], made["submitted"]
    sym = submitted / "symlinks" / ASSIGNMENT
    (sym / "test_predictions.csv").unlink()
    (sym / "test_predictions.csv").symlink_to(labels)
    (sym / "runs").symlink_to(tmp)
    (sym / "zero.csv").symlink_to("/dev/zero")
    os.mkfifo(sym / "fifo")
    (sym / "huge.bin").write_bytes(b"0" * (2 * MiB))
    renamed = submitted / "renamed" / ASSIGNMENT
    (renamed / f"{ASSIGNMENT}.ipynb").rename(renamed / f"{ASSIGNMENT} (1).ipynb")
    (submitted / "bad_timestamp" / ASSIGNMENT / "timestamp.txt").write_text("вчера вечером")
    nb = student(cases["script_outputs"][0])
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"<script>{XSS}</script> <img src=x onerror=\"{XSS}\"> "
                                                     f"[ссылка](javascript:{XSS})"))
    nbformat.write(nb, str(submitted / "script_outputs" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    nb = student()
    nb.cells.insert(2, nbformat.v4.new_code_cell("print('моя проверка')", metadata=grade_meta("test_mine", 5)))
    nbformat.write(nb, str(submitted / "extra_grade_cell" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    hashes = {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in (paths["config"], paths["grading_py"])}
    before = tree_hash(submitted)
    os.environ["TASK3_KEEP_WORK"] = "1"  # keep the workers' folders: the reports are read from there
    started = time.time()
    results = {}
    try:
        rows = grade_all(Course(tmp), workers=2, timeout=300, cell_timeout=5, data=data, answer_key=labels,
                         source_dir=source, verbose=False, caps=CAPS, max_file_bytes=1 * MiB, results=results)
    finally:
        del os.environ["TASK3_KEEP_WORK"]
    reports = {}
    for login, result in results.items():
        report = Path(result.kernel_dir or "/nonexistent") / "report.json"
        reports[login] = json.loads(report.read_text()) if report.exists() else None
    print({r["student"]: r["seconds"] for r in rows})
    yield dict(rows={r["student"]: r for r in rows}, cases=cases, reports=reports, paths=paths, hashes=hashes,
               before=before, submitted=submitted, tmp=tmp, results=results, seconds=time.time() - started)
    work = {Path(r.work).parent.parent for r in results.values()}
    for w in work:
        if w.name.startswith("task3_grading_keep_"):
            shutil.rmtree(w, ignore_errors=True)


@pytest.mark.slow
def test_every_submission_gets_its_expected_score_and_status(batch):
    wrong = []
    for login, (_, score, status) in batch["cases"].items():
        row = batch["rows"][login]
        if login == "exit_links" and (float(row["auto_total"]), row["status"]) == (1.0, "crashed"):
            continue  # the kernel stopped after exit(): the cells before keep their points
        if abs(float(row["auto_total"]) - score) > 1e-9 or row["status"] != status:
            wrong.append(f"{login}: {row['auto_total']} {row['status']} ({row['reason']}), "
                         f"ожидалось {score} {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_kernel_sees_only_its_copy(batch):
    spy = batch["reports"]["spy"]
    assert spy is not None, batch["rows"]["spy"]
    assert spy["uid"] == sandbox.NOBODY
    assert spy["visible"] == [], f"видно ядру: {spy['visible']}"
    assert spy["grader_tmp"] == [], spy["grader_tmp"]
    assert "tests.py" in spy["cwd_files"], spy["cwd_files"]
    assert set(spy["cwd_files"]) <= {f"{ASSIGNMENT}.ipynb", "test_predictions.csv", "tests.py"}, spy["cwd_files"]
    assert max(spy["pids"]) < 20, f"чужие процессы видны: {spy['pids']}"
    assert set(spy["env"]) <= {"PATH", "HOME", "USER", "LOGNAME", "LANG", "MPLCONFIGDIR", "JPY_PARENT_PID",
                               "TASK3_DATA", "PYTHONWARNINGS", "NBGRADER_EXECUTION", "PWD", "CLICOLOR",
                               "CLICOLOR_FORCE", "FORCE_COLOR", "GIT_PAGER", "PAGER", "TERM", "MPLBACKEND",
                               "PYDEVD_USE_FRAME_EVAL", "TASK3_RECORD_DIR", "TASK3_RECORD_SEED"}, spy["env"]
    assert "TASK3_GRADER_DATA" not in spy["env"]


def in_private_tmp(path):
    """A course cloned under /tmp: its venv's parent folders exist in the kernel's private /tmp, so
    a file at a course path can be created there -- never on the host (the hashes are checked)."""
    return str(ROOT).startswith("/tmp/") and Path(path).is_relative_to(ROOT)


@pytest.mark.slow
def test_grader_and_course_cannot_be_read_or_written(batch):
    spy, tamper = batch["reports"]["spy"], batch["reports"]["tamper"]
    for name in ("read_labels", "write_tests", "write_data", "net"):
        assert spy[name] != "done", name
    assert spy["write_config"] != "done" or in_private_tmp(batch["paths"]["config"])
    assert spy["ptrace"][0] == -1 and spy["ptrace"][1] == 1, "ptrace должен быть запрещён (EPERM)"
    assert spy["inotify"][0] == -1 and spy["inotify"][2] == 1, "inotify должен быть запрещён (EPERM)"
    assert spy["unshare"][0] == -1
    for name in ("main_db", "config", "grading_py"):
        assert tamper[name] != "done" or in_private_tmp(batch["paths"][name]), name
    assert "worker_db" not in tamper  # no other worker's gradebook is even visible
    for path, digest in batch["hashes"].items():
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest, f"{path} изменён"


@pytest.mark.slow
def test_victims_keep_their_scores_and_submitted_is_intact(batch):
    assert batch["reports"]["tamper"]["victims_seen"] == []
    assert float(batch["rows"]["victim"]["auto_total"]) == 2
    assert tree_hash(batch["submitted"]) == batch["before"]
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{batch['paths']['main_db']}") as gb:  # readable, scores as in the csv
        for login, row in batch["rows"].items():
            if row["status"] != "refused":
                nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, login)
                assert sum(g.auto_score or 0 for g in nb.grades) == float(row["auto_total"]), login


@pytest.mark.slow
def test_nothing_but_the_graded_notebook_and_feedback_leaves(batch):
    """Whatever the kernel left (links to the answer key and the source, /dev/zero, big or oddly
    named files, nested folders) and however it ended: autograded/<login>/ holds the grader's copy
    of the submission and the graded notebook, feedback/<login>/ the HTML, all regular files."""
    course = Course(batch["tmp"])
    secret = Path(batch["paths"]["labels"]).read_text().splitlines()[1]
    for login, row in batch["rows"].items():
        if row["status"] == "refused":
            continue
        for kind, allowed in ((course.autograded, {f"{ASSIGNMENT}.ipynb", "test_predictions.csv"}),
                              (course.feedback, {f"{ASSIGNMENT}.html"})):
            files = [p for p in (kind / login).rglob("*") if not p.is_dir() or p.is_symlink()]
            names = {str(p.relative_to(kind / login / ASSIGNMENT)) for p in files}
            assert names <= allowed, (login, kind.name, names)
            for path in files:
                assert path.is_file() and not path.is_symlink(), path
                assert secret not in path.read_text(errors="replace"), f"ключ ответов в {path}"
        assert (course.autograded / login / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists(), login
        assert (course.feedback / login / ASSIGNMENT / f"{ASSIGNMENT}.html").exists(), login
    for result in batch["results"].values():  # the IPC folders (sockets, signing key) are gone
        assert not (Path(result.work) / "ipc").exists(), result.student
    assert Path(batch["paths"]["labels"]).read_text().splitlines()[1] == secret


@pytest.mark.slow
def test_student_script_never_reaches_html(batch):
    """Outputs and markdown of the student are sanitized before any HTML is made (formgrader shows
    the graded notebook; the feedback is made from it)."""
    course = Course(batch["tmp"])
    nb = nbformat.read(str(course.autograded / "script_outputs" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    kept = json.dumps([c.get("outputs", []) for c in nb.cells]) + "".join(
        c.source for c in nb.cells if c.cell_type == "markdown")
    assert "xss-payload" in kept  # the output is there, as text
    assert "application/javascript" not in kept and "image/svg+xml" not in kept
    live_tag = re.compile(r"<(script|svg)\b|<[a-zA-Z][^<>]*\son\w+\s*=", re.I)  # escaped text is harmless
    assert not live_tag.search(kept), live_tag.search(kept)
    html = (course.feedback / "script_outputs" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert f"<script>{XSS}" not in html and not re.search(r"<[a-zA-Z][^<>]*\son(error|load)\s*=", html)
    assert not re.search(r"<a\b[^<>]*href\s*=\s*[\"']?\s*javascript:", html, re.I)  # a live link, not code text


@pytest.mark.slow
def test_caps_without_holes(batch):
    rows, reports = batch["rows"], batch["reports"]
    assert reports["dev_fill"]["dev"] != "done", reports["dev_fill"]  # /dev is read-only
    assert "на диске" in rows["ipc_fill"]["reason"], rows["ipc_fill"]  # the IPC folder is measured
    assert reports["log_fill"]["fill"] == "done"  # into a pipe the grader drains ...
    log = Path(batch["results"]["log_fill"].work) / "grading.log"
    assert log.stat().st_size < 4 * MiB, log.stat().st_size  # ... and keeps 64 KiB of
    assert "не разобрана" in rows["huge_cell"]["review"], rows["huge_cell"]


@pytest.mark.slow
def test_resource_caps(batch):
    rows, reports = batch["rows"], batch["reports"]
    assert "памяти" in rows["memory_big"]["reason"] and "памяти" in rows["memory_children"]["reason"]
    if os.geteuid() == 0:
        assert "процессов" in rows["fork_bomb"]["reason"], rows["fork_bomb"]
    else:
        assert reports["fork_bomb"]["spawn"] == "BlockingIOError", reports["fork_bomb"]
        assert reports["fork_bomb"]["spawned"] < CAPS["processes"]
    assert reports["big_file"]["write"] == "OSError" and reports["big_file"]["size"] <= CAPS["file_size"]
    for login in ("sigint_ignored", "interrupt_swallowed"):
        assert "таймаут" in rows[login]["reason"], rows[login]
    assert "ГиБ на диске" in rows["disk_fill"]["reason"], rows["disk_fill"]
    assert "файлов" in rows["many_files"]["reason"], rows["many_files"]


@pytest.mark.slow
def test_submission_deadline_keeps_earned_points(tmp_path):
    """Cells each under the cell timeout, the whole submission past --timeout: status timeout, the
    points of the cells before kept, whether the last cell obeys the interrupt or ignores it."""
    endless = "import time\nwhile True:\n    time.sleep(0.01)"
    cases = {"obeys": (endless, 1, "timeout"),
             "ignores": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + endless, 1, "timeout")}
    made = course(tmp_path, cases)
    started = time.time()
    rows = grade_all(Course(tmp_path), workers=2, timeout=40, cell_timeout=200, data=made["data"],
                     answer_key=made["labels"], source_dir=made["source"], copy_results=False, verbose=False,
                     caps=CAPS)
    assert time.time() - started < 150  # the deadline, not the 200 s cell timeout, stopped them
    for row in rows:
        assert (float(row["auto_total"]), row["status"]) == cases[row["student"]][1:], row
        assert "кончилось время" in row["reason"], row


@pytest.mark.slow
def test_no_process_of_the_run_is_left(batch):
    time.sleep(1)
    ours = {str(batch["tmp"])} | {str(Path(r.work).parent.parent) for r in batch["results"].values()}
    left = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if MARKER in cmd or any(path in cmd for path in ours):
            left.append(f"{p.pid}: {cmd[:200]}")
    assert not left, "\n".join(left)


@pytest.mark.slow
def test_symlinks_devices_fifos_and_big_files_are_refused(batch):
    reason = batch["rows"]["symlinks"]["reason"]
    for name in ("test_predictions.csv", "runs", "zero.csv", "fifo", "huge.bin"):
        assert name in reason, (name, reason)
    assert "символьная ссылка" in reason and "FIFO" in reason and "МиБ" in reason


@pytest.mark.slow
def test_feedback_stays_small_whatever_is_displayed(batch):
    nb_path = Path(batch["results"]["huge_display"].kernel_dir) / f"{ASSIGNMENT}.ipynb"
    assert nb_path.stat().st_size < 500_000, nb_path.stat().st_size


@pytest.mark.slow
def test_untidy_submissions_are_graded_with_a_note(batch):
    rows = batch["rows"]
    assert "task3_bert (1).ipynb" in rows["renamed"]["reason"]
    assert "timestamp.txt" in rows["bad_timestamp"]["reason"]
    assert "test_mine" in rows["extra_grade_cell"]["reason"]


@pytest.mark.slow
def test_logins_and_csv_injection(batch):
    with open(batch["tmp"] / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert "'=2+5" in rows and "'-rf" in rows
    assert rows["'-rf"]["status"] == "refused"
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows.values() for v in r.values())


# --- fast unit checks ------------------------------------------------------------------------------

def test_seccomp_filter_checks_arch_and_denies_ptrace_and_inotify():
    for machine in ("x86_64", "aarch64"):
        prog = sandbox.seccomp_filter(machine)
        insns = [struct.unpack("=HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
        assert insns[0] == (0x20, 0, 0, 4) and insns[1][3] == sandbox.AUDIT_ARCH[machine]
        ks = {k for code, _, _, k in insns if code == 0x15}
        assert {sandbox.DENIED[machine]["ptrace"], sandbox.DENIED[machine]["inotify_add_watch"]} <= ks
        assert insns[-4:] == [(6, 0, 0, 0x7FFF0000), (6, 0, 0, 0x50001), (6, 0, 0, 0x50026), (6, 0, 0, 0x80000000)]
        for i, (code, jt, jf, _) in enumerate(insns[:-4]):  # every jump lands inside the program
            assert i + 1 + max(jt, jf) < len(insns)


def test_logins_refused():
    for bad in ("-rf", "a/b", "a\\b", "a\x1bb", "..", ".", "a\nb"):
        assert refuse_login(bad), bad
    for good in ("ivanov", "=2+5", "Пётр", "a.b"):
        assert not refuse_login(good), good
    assert csv_safe("=2+5") == "'=2+5" and csv_safe("@x") == "'@x" and csv_safe(3) == 3


def test_copy_submission_never_follows(tmp_path):
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "ok.txt").write_text("ok")
    (src / "d" / "in.txt").write_text("in")
    (src / "link").symlink_to("/etc/hostname")
    (src / "dlink").symlink_to(tmp_path)
    notes = copy_submission(src, tmp_path / "dest", 1 * MiB)
    assert sorted(p.relative_to(tmp_path / "dest").as_posix() for p in (tmp_path / "dest").rglob("*")) == \
        ["d", "d/in.txt", "ok.txt"]
    assert len(notes) == 2


def test_output_limit_covers_every_mime_type():
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("x", outputs=[
        out("display_data", data={"text/html": "x" * 300_000}),
        out("display_data", data={"image/png": "A" * 300_000}),
        out("execute_result", data={"text/plain": "1.5", "text/html": "y" * 300_000}, execution_count=1),
        out("error", ename="AssertionError", evalue="e" * 10_000, traceback=["t" * 10_000] * 50),
        out("stream", name="stdout", text="s" * 300_000),
    ])
    limiter = preprocessors.LimitOutputChars()
    limiter.max_chars = 100_000
    cell, _ = limiter.preprocess_cell(cell, {}, 0)
    assert len(json.dumps(cell.outputs)) < 150_000
    kinds = [o.output_type for o in cell.outputs]
    assert "error" in kinds and "execute_result" in kinds  # never dropped: they decide the points
    result = next(o for o in cell.outputs if o.output_type == "execute_result")
    assert result.data == {"text/plain": "1.5"}


@pytest.mark.slow
def test_no_sandbox_is_flagged_in_grades_csv(tmp_path, capsys):
    source = tmp_path / "solutions" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), str(source / f"{ASSIGNMENT}.ipynb"))
    (source / "tests.py").write_text("def ok():\n    return True\n")
    sub = tmp_path / "submitted" / "trusted" / ASSIGNMENT
    sub.mkdir(parents=True)
    nbformat.write(student(), str(sub / f"{ASSIGNMENT}.ipynb"))
    (sub / "test_predictions.csv").write_text("42\n")
    (tmp_path / "data.csv").write_text("text,label,split\n")
    (tmp_path / "key.csv").write_text("text,label\nкефир,1\n")
    rows = grade_all(Course(tmp_path), workers=1, timeout=300, cell_timeout=30, data=tmp_path / "data.csv",
                     answer_key=tmp_path / "key.csv", source_dir=source, copy_results=False, use_sandbox=False)
    assert rows[0]["auto_total"] == 2 and "БЕЗ ПЕСОЧНИЦЫ" in rows[0]["reason"]
    assert "ВНИМАНИЕ" in capsys.readouterr().err


def test_copy_back_keeps_the_submission_and_the_graded_notebook_only(tmp_path):
    """autograded/: the grader's copy of the submission and the graded notebook; feedback/: the HTML.
    Anything else in the worker's folders stays out, and a link is never followed."""
    from coursekit import grading
    work, login = tmp_path / "work", "alice"
    sub, graded = work / "submitted" / login / ASSIGNMENT, work / "autograded" / login / ASSIGNMENT
    html_dir = work / "feedback" / login / ASSIGNMENT
    for folder in (sub, graded, html_dir):
        folder.mkdir(parents=True)
    (sub / f"{ASSIGNMENT}.ipynb").write_text("submitted")
    (sub / "test_predictions.csv").write_text("42\n")
    (graded / f"{ASSIGNMENT}.ipynb").write_text("graded")
    (graded / "test_predictions.csv").write_text("rewritten by the kernel\n")
    (graded / "fill0.bin").write_bytes(b"1" * 1000)
    (html_dir / f"{ASSIGNMENT}.html").write_text("feedback")
    (html_dir / "fake_grades.html").write_text("10 / 10")
    course = Course(tmp_path / "course")
    grading.copy_back(grading.Graded(login, work, graded=True), course)
    got = course.autograded / login / ASSIGNMENT
    assert sorted(p.name for p in got.iterdir()) == [f"{ASSIGNMENT}.ipynb", "test_predictions.csv"]
    assert (got / f"{ASSIGNMENT}.ipynb").read_text() == "graded"
    assert (got / "test_predictions.csv").read_text() == "42\n"
    assert [p.name for p in (course.feedback / login / ASSIGNMENT).iterdir()] == [f"{ASSIGNMENT}.html"]
    secret = tmp_path / "answer_key.csv"
    secret.write_text("secret")
    (html_dir / f"{ASSIGNMENT}.html").unlink()
    (html_dir / f"{ASSIGNMENT}.html").symlink_to(secret)
    notes = grading.copy_back(grading.Graded(login, work, graded=True), course)
    assert notes and "отзыв не скопирован" in notes[0], notes
    assert not (course.feedback / login / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()


def test_interpreter_under_tmp_is_visible_inside(tmp_path, monkeypatch):
    """A course cloned under /tmp has its venv there: the sandbox's private /tmp must not hide it."""
    venv = Path(tempfile.mkdtemp(prefix="venv_under_tmp_", dir="/tmp"))
    try:
        (venv / "marker").write_text("interpreter here")
        real = sandbox.python_mounts
        monkeypatch.setattr(sandbox, "python_mounts", lambda: real() + ["--ro-bind", str(venv), str(venv)])
        work, ipc = tmp_path / "work", tmp_path / "ipc"
        work.mkdir()
        ipc.mkdir()
        argv = sandbox.bwrap_argv(work, ipc, sandbox.base_env("/usr/bin"), sandbox.CAPS)
        out = subprocess.run(argv + ["/bin/cat", str(venv / "marker")], capture_output=True, text=True, timeout=60)
        assert out.stdout == "interpreter here", out.stderr
    finally:
        shutil.rmtree(venv)


@pytest.mark.slow
def test_regrade_prints_old_and_new_points(tmp_path, capsys):
    """`python -m coursekit.grading regrade`: after a fix of the grader, one command grades again and
    says per student what changed (regrade.csv and the printed table); the old grades.csv is kept."""
    import coursekit.grading as grading
    made = course(tmp_path, {"alice": ("pass", 2, "ok"), "bob": ("pass", 2, "ok")})
    grade_all(Course(tmp_path), workers=1, data=made["data"], answer_key=made["labels"], source_dir=made["source"],
              verbose=False, use_sandbox=False)
    rows = list(csv.DictReader(open(tmp_path / "grades.csv", newline="")))
    for row in rows:  # as graded by an older grader that lost alice's point
        if row["student"] == "alice":
            row["total"] = row["auto_total"] = "1.0"
    with open(tmp_path / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    changes = grading.regrade(Course(tmp_path), workers=1, data=made["data"], answer_key=made["labels"],
                              source_dir=made["source"], verbose=False, use_sandbox=False)
    by = {c["student"]: c for c in changes}
    assert (by["alice"]["old_total"], float(by["alice"]["new_total"]), by["alice"]["delta"]) == ("1.0", 2.0, 1.0)
    assert by["bob"]["delta"] == 0
    out = capsys.readouterr().out
    assert "изменились баллы у 1 из 2" in out and "alice" in out
    saved = list(csv.DictReader(open(tmp_path / "regrade.csv", newline="")))
    assert [(r["student"], r["delta"]) for r in saved] == [("alice", "1.0"), ("bob", "0.0")]
    assert len(list(tmp_path.glob("grades.before-*.csv"))) == 1
