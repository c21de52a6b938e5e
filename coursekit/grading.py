"""Autograde every submission in <course>/submitted/<student>/task3_bert/ (`make autograde`).

    python -m coursekit.grading [regrade] [--course ROOT] [--workers 2] [--students a,b] [--timeout 1200]
                                [--cell-timeout 300] [--memory-gb 6] [--max-processes 256]
                                [--max-file-mb 1024] [--max-disk-mb 2048] [--max-files 10000]
                                [--max-submission-mb 100] [--no-sandbox]
    python -m coursekit.grading --shard I/N --out DIR ...   and   python -m coursekit.grading merge DIR...
                                (coursekit.shards: a class in shards, e.g. a Slurm job array)

nbgrader cannot grade in parallel on one sqlite gradebook, so each submission is graded by its own
`nbgrader autograde` + `nbgrader generate_feedback` processes in its own temporary course root
(a copy of the source, of gradebook.db and of the submission); these processes, and the judge's,
are forked from a server with nbgrader and torch imported (coursekit.warm), so a script that calls
grade_all must do it under `if __name__ == "__main__":` (multiprocessing's rule). The workers' grades are then merged
one by one into the main gradebook.db (auto scores only: manual scores already entered are kept);
autograded/<student>/ and feedback/<student>/ are copied back; grades.csv gets one row per student:
per-part and per-cell scores, total, status, reason, seconds. submitted/ is never written to (a
hash of it is checked at the end).

Each kernel runs in the sandbox of coursekit.sandbox (bubblewrap; --no-sandbox for trusted runs
only). The submission is copied first (regular files only: symlinks, devices, FIFOs and files over
--max-submission-mb are refused with a note in `reason`); the kernel works on the autograded copy.
Kernel environment (`kernel_env`): NBGRADER_EXECUTION (nbgrader's, no training), TASK3_DATA (the
data file as the kernel sees it: only the rows the notebook keeps at grading, see rows_for_kernels),
PYTHONWARNINGS=ignore, plus grade_all(kernel_env=...) whose
values may use {kernel_dir} (the kernel's working directory as the kernel sees it; its host
path is result.kernel_dir), TASK3_RECORD_DIR/TASK3_RECORD_SEED (where and under which random seed
the checks record their run). Points are decided outside the kernel: every check cell by the
grader's replay of its record (coursekit.judge), the F1 cell by coursekit.answer_key.score() of the
submitted test_predictions.csv against the answer key (never in the kernel's reach); the
notebook's outputs are feedback only. `review` in grades.csv lists reasons for a human look.
Statuses: ok; cell_timeout (a cell hit Execute.timeout: stopped); crashed (the kernel died);
memory (over --memory-gb); processes (over --max-processes); disk (its working copy over
--max-disk-mb or --max-files); timeout (the submission ran past --timeout) -- in all of these the
cells before keep their points; failed (nbgrader gave up on the submission: 0); refused (login or
submission folder not acceptable: 0); error (the grader itself failed on it: 0).
"""
import argparse
import concurrent.futures as cf
import csv
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursekit import ROOT
from coursekit import answer_key as ak
from coursekit import judge
from coursekit import late
from coursekit import notebook_cells as nc
from coursekit import outbox
from coursekit import preprocessors
from coursekit import sandbox
from coursekit import warm
from coursekit.course import Course
from coursekit.release import ASSIGNMENT, SOURCE_DIR, stage_course, venv_env

DEFAULT_DATA = ROOT / "data" / "task3_data.csv"
F1_CELL = "test_f1"
SANDBOX_DATA_DIR = Path("/data")  # where the kernel sees the data file
KEPT = ("ok", "cell_timeout", "crashed", "memory", "processes", "disk", "timeout")  # statuses that keep earned points
NO_SANDBOX_WARNING = "БЕЗ ПЕСОЧНИЦЫ (--no-sandbox): код работ выполнялся с правами проверяющего"
GRADED_EXTRA_BYTES = 64 << 20  # the graded notebook may exceed the submission by its (capped) outputs
FEEDBACK_MEMORY = 4 << 30  # address space of generate_feedback: a huge notebook fails it, not the batch
FEEDBACK_CELL_CHARS = 200_000  # a longer cell is shortened in the graded notebook and the feedback
MAX_LEAVING_BYTES = 512 << 20  # graded notebook, feedback HTML
LOGIN_RE = re.compile(r"[^\x00-\x1f\x7f/\\-][^\x00-\x1f\x7f/\\]*")


@dataclass(frozen=True)
class Limits:
    """What one submission may use (`--timeout`, `--cell-timeout`, the sandbox's caps, `--max-submission-mb`)."""
    timeout: int = 1200  # seconds for the whole submission: no cell runs past it
    cell_timeout: int = 300  # seconds per cell (nbgrader's Execute.timeout)
    caps: dict = None  # the kernel's memory, processes, file size, disk, files (None: sandbox.CAPS)
    max_file_bytes: int = 100 << 20  # a larger submitted file is refused


@dataclass
class Graded:
    """One submission as grade_one leaves it, before its scores are merged into the main gradebook."""
    student: str
    work: Path  # the worker's course root (deleted after the merge unless TASK3_KEEP_WORK)
    kernel_dir: Path = None  # the kernel's working copy; once graded, what the kernel left there, set aside
    status: str = "ok"  # one of the statuses of the module docstring
    reason: str = ""  # why, in Russian, for grades.csv
    graded: bool = False  # nbgrader wrote a graded notebook and it was read back
    seconds: float = 0.0
    f1: dict = None  # coursekit.answer_key.score() of the submitted test_predictions.csv
    review: list = field(default_factory=list)  # reasons for a human look
    phases: dict = field(default_factory=dict)  # seconds of copy, autograde, replay (after the kernel), judge, feedback
    cell_seconds: list = field(default_factory=list)  # (cell index, seconds, grade id, first line)


def tree_hash(path):
    """sha256 over relative paths and contents of every file under path (missing -> '')."""
    path = Path(path)
    if not path.exists():
        return ""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(p.relative_to(path).as_posix().encode() + b"\0")
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def run_nbgrader(args, root, env, timeout, log, memory=None, db=None):
    """`nbgrader *args` on the course root `root` and gradebook `db` (default root/gradebook.db), in
    a warm process (coursekit.warm: its own session, environment and log, address space capped at
    `memory` bytes if given); returns its exit code, or None when it ran past `timeout` seconds."""
    argv = [*map(str, args), f"--CourseDirectory.root={root}",
            f"--CourseDirectory.db_url=sqlite:///{db or Path(root) / 'gradebook.db'}"]
    with open(log, "a") as out:
        out.write(f"$ nbgrader {' '.join(argv)}\n")
    return warm.run(warm.nbgrader, (argv,), env, timeout, log, memory)


def prepare(course_root, db, source_dir=SOURCE_DIR):
    """Record the assignment (from the source) in gradebook `db` with generate_assignment."""
    stage_course(course_root, source_dir)
    log = Path(course_root) / "generate.log"
    if run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course_root, venv_env(), 600, log, db=db) != 0:
        raise RuntimeError(f"generate_assignment failed, see {log}:\n{Path(log).read_text()[-3000:]}")


def rows_for_kernels(data, source_nb_path, folder, verbose=True):
    """The data file the kernels get: the rows the notebook keeps at grading (its `read_data` cell
    with the smoke profile and GRADING_SUBSAMPLE, as NBGRADER_EXECUTION makes it:
    coursekit.notebook.write_kept_rows), written once per class into `folder` under the data
    file's name, the category names beside it. Each kernel then reads ~17 thousand rows, not
    millions; the frame the notebook makes is the same. The whole file if the notebook's cells
    cannot do it here."""
    from coursekit.notebook import write_kept_rows
    try:
        return write_kept_rows(data, Path(folder) / Path(data).name, path=source_nb_path)
    except Exception as exc:
        if verbose:
            print(f"ячейка read_data не выполнена на {data} ({type(exc).__name__}: {exc}); ядрам дан весь файл",
                  file=sys.stderr, flush=True)
        return data


def refuse_login(student):
    """Why a login cannot be graded ('' when it can): it becomes a path and a CSV cell."""
    if student in (".", "..") or not LOGIN_RE.fullmatch(student):
        return "логин не принят: начинается с '-' или содержит '/', '\\' или управляющий символ"
    return ""


def copy_submission(src, dest, max_bytes):
    """Copy the submission's regular files and folders, never following a link; returns notes on
    what was refused (symlinks, devices, FIFOs, sockets, files over max_bytes)."""
    kinds = {stat.S_ISLNK: "символьная ссылка", stat.S_ISFIFO: "FIFO", stat.S_ISSOCK: "сокет",
             stat.S_ISCHR: "устройство", stat.S_ISBLK: "устройство"}
    notes = []
    dest.mkdir(parents=True)
    for dirpath, dirnames, filenames in os.walk(src):  # os.walk does not enter symlinked folders
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(src)
            mode = os.lstat(path).st_mode
            kind = next((k for test, k in kinds.items() if test(mode)), None)
            if stat.S_ISDIR(mode):
                (dest / rel).mkdir()
            elif kind:
                notes.append(f"{rel}: {kind}, не принят")
            elif os.lstat(path).st_size > max_bytes:
                notes.append(f"{rel}: больше {max_bytes >> 20} МиБ, не принят")
            else:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                with os.fdopen(fd, "rb") as fin, open(dest / rel, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
        dirnames[:] = [d for d in dirnames if stat.S_ISDIR(os.lstat(Path(dirpath) / d).st_mode)]
    return notes


def tidy(sub, grade_ids):
    """Make an untidy but honest submission gradable; returns notes. A single notebook under
    another name (the browser's 'task3_bert (1).ipynb') is renamed; an unparsable timestamp.txt
    is dropped (nbgrader 0.9.6 fails on it); grade cells unknown to the source lose their nbgrader
    metadata (they run as plain cells)."""
    from nbgrader.utils import parse_utc
    notes = []
    nb_path = sub / f"{ASSIGNMENT}.ipynb"
    others = sorted(sub.glob("*.ipynb"))
    if not nb_path.exists() and len(others) == 1:
        others[0].rename(nb_path)
        notes.append(f"ноутбук «{others[0].name}» принят как {nb_path.name}")
    stamp = sub / "timestamp.txt"
    if stamp.exists():
        try:
            parse_utc(stamp.read_text(errors="replace").strip() or None)
        except Exception:
            stamp.unlink()
            notes.append("timestamp.txt не разобран и не учтён")
    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception:
        return notes  # nbgrader will say what is wrong with it
    unknown = [c for c in nb.cells if nc.nbg(c).get("grade_id") and nc.nbg(c)["grade_id"] not in grade_ids]
    for cell in unknown:
        notes.append(f"лишняя ячейка проверки «{nc.nbg(cell)['grade_id'][:40]}» не учитывается")
        del cell.metadata["nbgrader"]
    if unknown:
        nbformat.write(nb, str(nb_path))
    return notes


def grade_one(student, submission_dir, *, template, main_db, work, env, limits=Limits(), kernel_env=None,
              use_sandbox=True, data=None, answer_key=None, judged=True):
    """Grade one submission in its own course root `work` (a copy of `template`, the prepared course,
    and of `main_db`, the class gradebook); returns a Graded (no merge into the main gradebook).
    `env`: the grader's steps' environment; `kernel_env`: the kernel's (see grade_all).
    judged=False (bench/grading_speed.py only): no records, no judge; the scores are nbgrader's
    from the notebook's outputs, i.e. forgeable -- the grading as it was before the judge.
    result.kernel_dir: the kernel's writable working copy (host path; sandbox.WORKDIR inside).
    The points of the check cells and of the F1 cell are decided here, outside the kernel
    (coursekit.judge, coursekit.answer_key), and written into the worker's gradebook before the
    feedback is generated; result.review lists reasons for a human look.

    What leaves the kernel's folder, whatever way the kernel ended: the graded notebook, read
    without following links and size-capped (coursekit.outbox), and each check cell's record, taken
    out right after that cell (SafeExecute). The feedback is made from a folder holding that
    notebook alone, after its outputs are sanitized (no script)."""
    started = time.perf_counter()
    work = Path(work)
    kernel_dir = work / "autograded" / student / ASSIGNMENT
    result = Graded(student, work, kernel_dir)
    notes = [] if use_sandbox else [NO_SANDBOX_WARNING]
    if any(p.is_symlink() for p in (submission_dir.parent, submission_dir)):
        result.status, result.reason = "refused", "папка работы — символьная ссылка, не принята"
        result.seconds = round(time.perf_counter() - started, 1)
        return result
    shutil.copytree(template / "solutions", work / "solutions")
    shutil.copy(main_db, work / "gradebook.db")
    sub = work / "submitted" / student / ASSIGNMENT
    notes += copy_submission(submission_dir, sub, limits.max_file_bytes)
    source_nb = nc.read(template / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    notes += tidy(sub, {nc.nbg(c).get("grade_id") for c in source_nb.cells} - {None})
    result.f1 = ak.score(sub / "test_predictions.csv", answer_key or ak.DEFAULT_KEY)
    # each check in the kernel records its run under a seed the submission cannot know in advance
    seed, kernel_records = secrets.randbelow(2 ** 31 - 2) + 1, f".records-{secrets.token_hex(8)}"
    log, events, records = work / "grading.log", work / "events.jsonl", work / "records"
    records.mkdir()
    ipc_parent = work / "ipc"  # the kernels' sockets and signing key; outside the kernel's copy
    ipc_parent.mkdir()
    env = dict(env, **{sandbox.EVENTS_ENV: str(events), preprocessors.DEADLINE_ENV: str(time.time() + limits.timeout),
                       preprocessors.CELL_TIMES_ENV: str(work / "cell_times.tsv")})
    seen = sandbox.WORKDIR if use_sandbox else kernel_dir  # the kernel's cwd, as the kernel sees it
    kernel_env = {k: str(v).replace("{kernel_dir}", str(seen)) for k, v in (kernel_env or {}).items()}
    checks = judge.check_cells(source_nb) if judged else {}
    if judged:
        kernel_env.update(TASK3_RECORD_DIR=str(Path(seen) / kernel_records), TASK3_RECORD_SEED=str(seed))
        env[outbox.RECORDS_ENV] = json.dumps(dict(record_dir=str(kernel_dir / kernel_records), out_dir=str(records),
                                                  checks=checks,
                                                  max_bytes=judge.RECORD_LIMIT))
    if use_sandbox:
        read_only = {kernel_dir / "tests.py": sandbox.WORKDIR / "tests.py"}
        if data is not None:
            read_only[data] = SANDBOX_DATA_DIR / Path(data).name
            categories = Path(data).with_name("task3_categories.csv")  # the notebook reads it next to the data
            if categories.exists():
                read_only[categories] = SANDBOX_DATA_DIR / categories.name
        env[sandbox.CONFIG_ENV] = str(sandbox.write_config(work / "sandbox.json", kernel_env, limits.caps, read_only,
                                                           ipc_parent))
    else:
        env.update(kernel_env)
    extra = [f"--Execute.timeout={limits.cell_timeout}"]
    phases = result.phases
    phases["copy"] = time.perf_counter() - started
    # the judge replays each check's record as soon as the grader has taken it out, while the kernel
    # runs the later cells (it never sees the kernel, only the grader's records/ folder); it gives up
    # after the autograde's hard limit (timeout + 120 s) and finish()'s wait (300 s)
    replay = judge.Replay(records, seed, checks, work, time.time() + limits.timeout + 120 + 300) if judged else None
    try:
        # the deadline stops the cells in time (points kept); this hard limit is the backstop
        rc = run_nbgrader(["autograde", ASSIGNMENT, "--student", student, "--force", *extra], work, env,
                          limits.timeout + 120, log)
    finally:  # the IPC folders hold sockets and the signing key: never left behind
        shutil.rmtree(ipc_parent, ignore_errors=True)
        phases["autograde"] = time.perf_counter() - started - sum(phases.values())
        verdicts = replay.finish() if replay else None  # the replay of what is left (or it is stopped)
        phases["replay"] = time.perf_counter() - started - sum(phases.values())
    result.cell_seconds = read_cell_times(work / "cell_times.tsv")
    ended = sandbox.events(events)
    graded_nb = None
    if rc == 0:
        try:
            graded_nb = nbformat.reads(outbox.read_regular(kernel_dir / f"{ASSIGNMENT}.ipynb",
                                                           limits.max_file_bytes + GRADED_EXTRA_BYTES).decode(),
                                       as_version=4)
        except Exception as exc:  # not written, a link, too big or not a notebook
            notes.append(f"проверенный ноутбук не прочитан: {str(exc)[:200]}")
    if rc is None:
        result.status, result.reason = "timeout", f"проверка дольше {limits.timeout} с, процесс остановлен"
    elif rc != 0 or graded_nb is None:
        lines = log.read_text(errors="replace").splitlines()
        raised = [ln.strip() for ln in lines if re.match(r"\s*[\w.]*(Error|Exception)\b.*", ln)]
        result.status, result.reason = "failed", (raised[-1] if raised else f"nbgrader rc={rc}")[:300]
    else:
        result.graded = True
        nb = graded_nb
        enames = [o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        if ended:  # memory, timeout, a cell that ignored the interrupt: the first end counts
            result.status, result.reason = ended[0]["status"], ended[0]["reason"] + "; баллы — за ячейки до этого"
        elif "KernelDied" in enames:
            cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
                o.get("ename") == "KernelDied" for o in c.get("outputs", [])))
            result.status, result.reason = "crashed", f"ядро упало в ячейке {cell}; баллы — за ячейки до неё"
        elif "CellTimeoutError" in enames:
            result.status, result.reason = "cell_timeout", f"ячейка дольше {limits.cell_timeout} с прервана"
        f1 = dict(points=result.f1["points"], message=f1_message(result.f1))
        try:
            submitted_nb = nc.read(sub / f"{ASSIGNMENT}.ipynb")
        except Exception:  # nbgrader graded a fixed-up copy; scan that one
            submitted_nb = nb
        judge_started = time.perf_counter()
        decided = {}
        if judged:
            result.review, decided = judge.judge_into_gradebook(
                work / "gradebook.db", ASSIGNMENT, student, source_nb, nb, submitted_nb, records, seed, f1=f1,
                verdicts=verdicts)
            if (records / "notes.txt").exists():
                result.review += (records / "notes.txt").read_text(errors="replace").splitlines()[:20]
        phases["judge"] = time.perf_counter() - judge_started
        leaving = feedback_notebook(nb, source_nb, decided, f1 if judged else None)
        # what the kernel left in its folder is set aside (deleted with `work`); the graded notebook
        # comes back alone, and the feedback is made from it alone
        os.rename(work / "autograded", work / "kernel_left")
        result.kernel_dir = work / "kernel_left" / student / ASSIGNMENT
        kernel_dir.mkdir(parents=True)
        nbformat.write(leaving, str(kernel_dir / f"{ASSIGNMENT}.ipynb"))
        feedback_started = time.perf_counter()
        rc = run_nbgrader(["generate_feedback", ASSIGNMENT, "--student", student, "--force"], work, env, 300, log,
                          memory=FEEDBACK_MEMORY)
        phases["feedback"] = time.perf_counter() - feedback_started
        if rc != 0:
            notes.append("отзыв не создан")
    result.reason = "; ".join(filter(None, [result.reason, *notes]))
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def read_cell_times(path):
    """[(cell index, seconds, grade id, first line)] that SafeExecute noted (a file of the grader's)."""
    if not Path(path).is_file():
        return []
    out = []
    for line in Path(path).read_text(errors="replace").splitlines():
        index, seconds, gid, first = (line.split("\t") + ["", "", "", ""])[:4]
        out.append((int(index), float(seconds), gid, first))
    return out


def strip_hidden(source):
    """The source without its BEGIN/END HIDDEN TESTS regions (what the release shows)."""
    out, hidden = [], False
    for line in source.splitlines(keepends=True):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "".join(out)


def feedback_notebook(nb, source_nb, decided, f1):
    """The graded notebook as it leaves the grader (autograded/, formgrader, feedback HTML): the
    grader's verdict under each check cell where it differs from what the notebook showed, the
    grader's F1 under the F1 cell, hidden tests removed, every output and every markdown cell the
    student wrote sanitized (nbconvert's SanitizeHTML: bleach; no script, event handlers,
    javascript: URLs, SVG or JavaScript outputs), huge cells shortened."""
    from nbconvert.preprocessors.sanitize import SanitizeHTML
    nb = nbformat.from_dict(nb)
    given = {c.source for c in source_nb.cells if c.cell_type == "markdown"}
    sanitizer = SanitizeHTML()
    for cell in nb.cells:
        gid = nc.nbg(cell).get("grade_id")
        if cell.cell_type == "markdown" and cell.source in given:
            pass  # the instructor's own text (with its images) is not the student's bytes
        else:
            sanitizer.preprocess_cell(cell, {}, 0)
        if len(cell.source) > FEEDBACK_CELL_CHARS:
            cell.source = cell.source[:FEEDBACK_CELL_CHARS] + f"\n# ... ячейка обрезана в отзыве ({len(cell.source)} символов)"
        if cell.cell_type != "code":
            continue
        shown = strip_hidden(cell.source)
        if shown != cell.source:  # an error's traceback would list the hidden lines: its last line only
            cell.source = shown
            for out in cell.outputs:
                if out.get("output_type") == "error":
                    out.traceback = [f"{out.get('ename', '')}: {out.get('evalue', '')}"]
        text = None
        if gid in decided:
            passed, message, shown = decided[gid]
            if passed != shown:
                text = (f"Проверяющий: ✓ проверка пройдена (в ноутбуке это не видно)" if passed else
                        f"Проверяющий: ✗ {message}\n(в ноутбуке ✓, но балл ставит проверяющий по записи проверки)")
        elif gid == F1_CELL and f1 is not None:
            text = f"Проверяющий: {f1['message']}"
        if text:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))
    return nb


def f1_message(f1):
    """One line for the F1 cell's comment in the feedback."""
    if not f1["ok"]:
        return f"F1 на тесте не посчитана: {f1['reason']}; баллов 0"
    return "; ".join([f"взвешенная F1 на тесте {f1['f1_weighted']:.4f}, баллов {f1['points']}", *f1["notes"]])


def merge(result, main_db, gradebooks=None):
    """Copy the worker's auto scores and comments for its student into the main gradebook; the F1
    cell gets the grader's points (result.f1). `gradebooks`: the worker's and the main Gradebook,
    already open (coursekit.shards merges all students of a shard with one opening of each)."""
    from nbgrader.api import Gradebook, MissingEntry
    student, work = result.student, result.work
    if gradebooks is None:
        with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as wgb, Gradebook(f"sqlite:///{main_db}") as gb:
            return merge(result, main_db, (wgb, gb))
    wgb, gb = gradebooks
    cells = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy autoflush chatter inside nbgrader's api
        gb.update_or_create_student(student)
        try:
            wsub = wgb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            timestamp = wgb.find_submission(ASSIGNMENT, student).timestamp
        except MissingEntry:
            wsub, timestamp = None, None
        try:
            sub = gb.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            sub = gb.add_submission(ASSIGNMENT, student)
        if timestamp is not None:
            sub.timestamp = timestamp
        for grade in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades:
            wgrade = next((g for g in wsub.grades if g.name == grade.name), None) if wsub else None
            if result.graded and result.status in KEPT and wgrade is not None:
                grade.auto_score, grade.needs_manual_grade = wgrade.auto_score, wgrade.needs_manual_grade
            elif grade.cell.cell_type == "code":  # nbgrader gave up: autograded cells get 0
                grade.auto_score, grade.needs_manual_grade = 0.0, False
            if grade.name == F1_CELL and result.f1 is not None and result.graded and result.status in KEPT:
                grade.auto_score, grade.needs_manual_grade = result.f1["points"], False
            cells[grade.name] = grade.manual_score if grade.manual_score is not None else grade.auto_score
        if wsub is not None:
            for comment in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).comments:
                wc = next((c for c in wsub.comments if c.name == comment.name), None)
                if wc is not None:
                    comment.auto_comment = wc.auto_comment
        gb.db.commit()
    return cells


def copy_back(result, course):
    """course.autograded/<student>/: the grader's copy of the submission plus the graded notebook
    (nothing the kernel wrote: grade_one left the notebook alone in the worker's autograded/);
    course.feedback/<student>/: the feedback HTML only. Files are read without following links;
    returns notes on what was refused."""
    student, work = result.student, result.work
    graded = work / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    html = work / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    for dest in (course.autograded / student, course.feedback / student):
        if dest.exists():
            shutil.rmtree(dest)
    notes = []
    if result.graded:
        shutil.copytree(work / "submitted" / student, course.autograded / student, symlinks=True)
        dest = course.autograded / student / ASSIGNMENT
        try:
            (dest / graded.name).unlink(missing_ok=True)  # the submitted notebook: the graded one replaces it
            outbox.take_file(graded.parent, graded.name, dest / graded.name, MAX_LEAVING_BYTES)
        except outbox.Refused as exc:
            notes.append(f"проверенный ноутбук не скопирован: {exc}")
    if html.exists() or html.is_symlink():
        try:
            outbox.take_file(html.parent, html.name, course.feedback / student / ASSIGNMENT / html.name,
                             MAX_LEAVING_BYTES)
        except outbox.Refused as exc:
            notes.append(f"отзыв не скопирован: {exc}")
    return notes


def score_columns(row, cells, scores):
    """`row` with the score columns of grades.csv added: per part, per grade cell, auto_total, total,
    needs_manual, from the gradebook's `scores` {grade_id: points or None} and the source's `cells`."""
    for part in sorted({c["part"] for c in cells}, key=str):
        row[f"part{part}"] = round(sum(scores.get(c["grade_id"]) or 0 for c in cells if c["part"] == part), 4)
    for c in cells:
        row[c["grade_id"]] = "" if scores.get(c["grade_id"]) is None else scores[c["grade_id"]]
    row["auto_total"] = round(sum(scores.get(c["grade_id"]) or 0 for c in cells if c["auto"]), 4)
    row["total"] = round(sum(scores.get(c["grade_id"]) or 0 for c in cells), 4)
    row["needs_manual"] = sum(1 for c in cells if not c["auto"] and scores.get(c["grade_id"]) is None)
    return row


def csv_safe(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def grade_all(course=None, *, students=None, workers=2, timeout=1200, cell_timeout=300, data=None,
              answer_key=None, source_dir=SOURCE_DIR, copy_results=True, verbose=True, use_sandbox=True,
              caps=None, kernel_env=None, max_file_bytes=100 << 20, judged=True, submitted=None, results=None):
    """Grade the class of `course` (a coursekit.course.Course; the repository's by default): its
    submitted/ in, its gradebook.db, grades.csv, autograded/ and feedback/ out. Returns the rows
    written to grades.csv. `kernel_env`: extra environment of the kernels (values may use
    {kernel_dir}); `caps`: see sandbox.CAPS; `answer_key`: the test labels, read only here.
    `submitted`: read the submissions there instead of course.submitted (a shard: coursekit.shards).
    `results`: a dict to fill with {login: Graded} (benchmarks and tests read phases and paths)."""
    course = course or Course()
    course.root.mkdir(parents=True, exist_ok=True)
    submitted, main_db, out_csv = Path(submitted or course.submitted), course.gradebook, course.grades_csv
    data = Path(data or os.environ.get("TASK3_DATA") or DEFAULT_DATA).resolve()
    answer_key = Path(answer_key or os.environ.get("TASK3_ANSWER_KEY") or ak.DEFAULT_KEY).resolve()
    if not data.exists():
        raise SystemExit(f"нет файла данных {data}: make data")
    ak.read_key(answer_key)  # a missing or broken key stops here, before any grading
    if use_sandbox:
        sandbox.require_bwrap()
    elif verbose:
        print(f"ВНИМАНИЕ: {NO_SANDBOX_WARNING}", file=sys.stderr, flush=True)
    if students is None:
        students = sorted(p.parent.name for p in submitted.glob(f"*/{ASSIGNMENT}") if p.is_dir() or p.is_symlink())
    before = tree_hash(submitted)
    # the answer key is never given to a kernel (nor mounted into its sandbox)
    kernel_env = dict(PYTHONWARNINGS="ignore", **(kernel_env or {}))
    env = venv_env(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    for key in ("TASK3_DATA", "TASK3_GRADER_DATA", "TASK3_ANSWER_KEY", sandbox.CONFIG_ENV):
        env.pop(key, None)
    limits = Limits(timeout, cell_timeout, caps, max_file_bytes)
    src_nb = nc.read(Path(source_dir) / f"{ASSIGNMENT}.ipynb")
    cells = nc.grade_cells(src_nb)
    rows, started = [], time.perf_counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="task3_grading_") as tmp:
        if os.environ.get("TASK3_KEEP_WORK"):  # debugging: keep the workers' course roots
            tmp = tempfile.mkdtemp(prefix="task3_grading_keep_")
        tmp = Path(tmp)
        warm.start()  # imports nbgrader, nbconvert and torch once, for every step below
        kernel_data = rows_for_kernels(data, Path(source_dir) / f"{ASSIGNMENT}.ipynb", tmp / "data", verbose)
        kernel_env["TASK3_DATA"] = SANDBOX_DATA_DIR / data.name if use_sandbox else kernel_data
        prepare(tmp / "template", main_db, source_dir)  # the assignment in the main gradebook
        late.set_duedate(main_db)  # the deadline of nbgrader_config.py (coursekit.late)
        t_prepare = time.perf_counter() - started

        def job(slot, student):
            work = tmp / "work" / str(slot)  # not the login: it may be anything
            work.mkdir(parents=True)
            result = Graded(student, work, status="refused", reason=refuse_login(student))
            try:
                if not result.reason:
                    with lock:  # a consistent snapshot of the main gradebook
                        db_copy = tmp / f"{slot}.db"
                        shutil.copy(main_db, db_copy)
                    result = grade_one(student, submitted / student / ASSIGNMENT, template=tmp / "template",
                                       main_db=db_copy, work=work, env=env, limits=limits, kernel_env=kernel_env,
                                       use_sandbox=use_sandbox, data=kernel_data, answer_key=answer_key, judged=judged)
                scores = {}
                with lock:
                    if result.status != "refused":
                        scores = merge(result, main_db)
                        if copy_results:
                            refused = copy_back(result, course)
                            result.reason = "; ".join(filter(None, [result.reason, *refused]))
            except Exception as exc:  # one submission never stops the batch
                result.status, result.reason, result.graded = "error", f"{type(exc).__name__}: {exc}"[:300], False
                scores = {}
            if not os.environ.get("TASK3_KEEP_WORK"):  # what the kernel wrote may be big: gone now
                shutil.rmtree(work, ignore_errors=True)
            row = score_columns(dict(student=student), cells, scores)
            f1 = result.f1 or dict(f1_weighted="", reason="", notes=[])
            row.update(status=result.status, reason=result.reason, seconds=result.seconds,
                       review="; ".join(result.review), test_f1_weighted=f1["f1_weighted"],
                       f1_notes="; ".join(filter(None, [f1["reason"], *f1["notes"]])))
            if results is not None:
                results[student] = result
            if verbose:
                shown = "".join(ch if ch.isprintable() else "?" for ch in student)
                print(f"{shown:<28} {row['auto_total']:>6} {row['status']:<12} {row['seconds']:>6.1f} с "
                      f"{row['reason']}", flush=True)
            return row

        with cf.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            rows = list(pool.map(job, range(len(students)), students))
    late.add_columns(main_db, rows)  # late_days, late_penalty, final
    from coursekit import similarity  # similar_to from similarity.csv, if made (never changes points)
    similarity.add_column(course, rows)
    wall = time.perf_counter() - started
    changed = tree_hash(submitted) != before
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as f:
        fields = list(rows[0]) if rows else ["student"]
        for row in rows:  # a refused login's row lacks the score columns
            fields += [k for k in row if k not in fields]
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
    if changed:
        raise RuntimeError(f"submitted/ changed during grading (grades were written to {out_csv})")
    if verbose:
        per = [r["seconds"] for r in rows]
        print(f"проверено работ: {len(rows)}, воркеров: {workers}, всего {wall:.1f} с "
              f"(подготовка {t_prepare:.1f} с, на работу {min(per or [0]):.1f}..{max(per or [0]):.1f} с); "
              f"оценки: {out_csv}")
    return rows


def regrade(course, students=None, **grade_kw):
    """Grade the class again (e.g. after a fix of the grader) and say, per student, what changed:
    the old grades.csv is kept as grades.before-<time>.csv, regrade.csv gets student, old and new
    auto_total and total, the difference and the new status, and the same table is printed, so
    the instructor can publish a correction. Manual scores are kept, as in every grading."""
    old = {}
    if course.grades_csv.exists():
        with open(course.grades_csv, newline="") as f:
            old = {row["student"]: row for row in csv.DictReader(f)}
        shutil.copy(course.grades_csv, course.root / f"grades.before-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    rows = grade_all(course, students=students, **grade_kw)
    number = lambda v: float(v) if v not in (None, "") else 0.0  # noqa: E731
    changes = []
    for row in rows:
        before = old.get(row["student"], {})
        changes.append(dict(student=row["student"], old_auto_total=before.get("auto_total", ""),
                            new_auto_total=row.get("auto_total", ""), old_total=before.get("total", ""),
                            new_total=row.get("total", ""),
                            delta=round(number(row.get("total")) - number(before.get("total")), 4),
                            status=row["status"]))
    with open(course.root / "regrade.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(changes[0]) if changes else ["student"])
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in c.items()} for c in changes)
    print(f"{'студент':<28} {'было':>8} {'стало':>8} {'разница':>8}  статус")
    for c in changes:
        shown = "".join(ch if ch.isprintable() else "?" for ch in c["student"])
        mark = "" if c["delta"] == 0 else "  <-- изменилось"
        print(f"{shown:<28} {c['old_total']!s:>8} {c['new_total']!s:>8} {c['delta']:>+8.4g}  {c['status']}{mark}")
    print(f"изменились баллы у {sum(c['delta'] != 0 for c in changes)} из {len(changes)}; "
          f"таблица: {course.root / 'regrade.csv'}")
    return changes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="grade", choices=["grade", "regrade", "merge"],
                        help="grade: grade the class; regrade: grade again and print old and new points per student; "
                             "merge DIR...: shard folders into --course (coursekit.shards)")
    parser.add_argument("dirs", nargs="*", type=Path, help="merge: the shard folders (--out of --shard)")
    parser.add_argument("--shard", metavar="I/N", help="grade shard I of N of the logins (coursekit.shards) into --out")
    parser.add_argument("--out", type=Path, help="--shard: the shard's own course folder")
    parser.add_argument("--source", type=Path, default=SOURCE_DIR, help="the assignment's source folder")
    parser.add_argument("--course", type=Path, default=ROOT,
                        help="course root: submitted/ in; gradebook.db, grades.csv, autograded/, feedback/ out")
    parser.add_argument("--students", help="comma-separated ids (default: all in submitted/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=int, default=300, help="Execute.timeout, seconds per cell")
    parser.add_argument("--data", type=Path, help="the student data file (default TASK3_DATA or data/task3_data.csv); kernels get the rows the notebook keeps")
    parser.add_argument("--answer-key", "--grader-data", type=Path, dest="answer_key",
                        help=f"test labels for F1 (default TASK3_ANSWER_KEY or {ak.DEFAULT_KEY.relative_to(ROOT)})")
    parser.add_argument("--memory-gb", type=float, default=sandbox.CAPS["memory"] / sandbox.GiB,
                        help="memory of one submission's kernel and its children")
    parser.add_argument("--max-processes", type=int, default=sandbox.CAPS["processes"],
                        help="processes and threads of one submission")
    parser.add_argument("--max-file-mb", type=int, default=sandbox.CAPS["file_size"] // sandbox.MiB,
                        help="largest file a kernel may write")
    parser.add_argument("--max-disk-mb", type=int, default=sandbox.CAPS["disk"] // sandbox.MiB,
                        help="what a kernel's working copy may hold on disk in all")
    parser.add_argument("--max-files", type=int, default=sandbox.CAPS["files"],
                        help="files and folders a kernel's working copy may hold")
    parser.add_argument("--max-submission-mb", type=int, default=100,
                        help="larger submitted files are refused")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without bubblewrap: trusted submissions only")
    args = parser.parse_intermixed_args(argv)  # merge DIR... --course ROOT DIR...
    students = args.students.split(",") if args.students else None
    if args.dirs and args.command != "merge" or (args.shard is None) != (args.out is None) \
            or args.shard and args.command != "grade":
        parser.error("папки шардов — только для merge; --shard I/N и --out DIR — вместе и только для grade")
    if args.command == "merge":
        from coursekit import shards
        sys.exit(shards.merge_shards(args.dirs, Course(args.course), source_dir=args.source)["rc"])
    caps = dict(memory=int(args.memory_gb * sandbox.GiB), processes=args.max_processes,
                file_size=args.max_file_mb * sandbox.MiB, disk=args.max_disk_mb * sandbox.MiB,
                files=args.max_files)
    grade_kw = dict(students=students, workers=args.workers, timeout=args.timeout,
                    cell_timeout=args.cell_timeout, data=args.data, use_sandbox=not args.no_sandbox, caps=caps,
                    max_file_bytes=args.max_submission_mb * sandbox.MiB, answer_key=args.answer_key,
                    source_dir=args.source)
    if args.shard:
        from coursekit import shards
        return shards.grade_shard(Course(args.course), args.shard, args.out,
                                  options=shards.options_of(parser, args), **grade_kw)
    run_class = regrade if args.command == "regrade" else grade_all
    run_class(Course(args.course), **grade_kw)


if __name__ == "__main__":
    main()
