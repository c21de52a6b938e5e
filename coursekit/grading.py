"""Autograde every submission in submitted/<student>/task3_bert/ (`make autograde`).

    python -m coursekit.grading [--workers 2] [--students a,b] [--timeout 1200] [--cell-timeout 300]

nbgrader cannot grade in parallel on one sqlite gradebook, so each submission is graded by its own
`nbgrader autograde` + `nbgrader generate_feedback` processes in its own temporary course root
(a copy of the source, of gradebook.db and of the submission). The workers' grades are then merged
one by one into the main gradebook.db (auto scores only: manual scores already entered are kept);
autograded/<student>/ and feedback/<student>/ are copied back; grades.csv gets one row per student:
per-part and per-cell scores, total, status, reason, seconds. submitted/ is never written to (a
hash of it is checked at the end).

Kernel environment: NBGRADER_EXECUTION is set by nbgrader (no training), TASK3_DATA points at the
student's data file (absolute path; no test labels), PYTHONWARNINGS=ignore. The answer key never
reaches the kernel: the F1 cell's score is coursekit.answer_key.score() of the submitted
test_predictions.csv, computed here, whatever the notebook printed.
Statuses: ok; cell_timeout (a cell hit Execute.timeout and was interrupted); crashed (the kernel
died: cells before the crash keep their points); failed (nbgrader gave up on the submission: 0);
timeout (the whole submission ran past --timeout and was killed: 0).
"""
import argparse
import concurrent.futures as cf
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import nbformat
import psutil

from coursekit import ROOT
from coursekit import answer_key as ak
from coursekit import nbgrader_cells as nc
from coursekit.release import ASSIGNMENT, SOURCE_DIR, stage_course, venv_env

DEFAULT_DATA = ROOT / "data" / "task3_data.csv"
F1_CELL = "test_f1"


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


def kill_tree(pid):
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = parent.children(recursive=True) + [parent]
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


def run(cmd, env, timeout, log):
    """Run cmd (its own session), append its output to log; returns rc or None on timeout."""
    with open(log, "a") as out:
        out.write(f"$ {' '.join(map(str, cmd))}\n")
        out.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait()
            return None


def nbgrader_cmd(args, root):
    return [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}",
            f"--CourseDirectory.db_url=sqlite:///{Path(root) / 'gradebook.db'}"]


def prepare(course_root, db, source_dir=SOURCE_DIR):
    """Record the assignment (from the source) in gradebook `db` with generate_assignment."""
    stage_course(course_root, source_dir)
    log = Path(course_root) / "generate.log"
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force",
           f"--CourseDirectory.root={course_root}", f"--CourseDirectory.db_url=sqlite:///{db}"]
    if run(cmd, venv_env(), 600, log) != 0:
        raise RuntimeError(f"generate_assignment failed, see {log}:\n{Path(log).read_text()[-3000:]}")


def grade_one(student, submission_dir, template, main_db, work, env, timeout, cell_timeout):
    """Grade one submission in its own course root `work`; returns a result dict (no db merge)."""
    started = time.perf_counter()
    work = Path(work)
    shutil.copytree(template / "solutions", work / "solutions")
    shutil.copy(main_db, work / "gradebook.db")
    shutil.copytree(submission_dir, work / "submitted" / student / ASSIGNMENT, symlinks=True)
    log = work / "grading.log"
    extra = [f"--Execute.timeout={cell_timeout}"]
    deadline = started + timeout
    rc = run(nbgrader_cmd(["autograde", ASSIGNMENT, "--student", student, "--force", *extra], work),
             env, max(1, deadline - time.perf_counter()), log)
    autograded = work / "autograded" / student / ASSIGNMENT
    result = dict(student=student, work=work, status="ok", reason="")
    if rc is None:
        result.update(status="timeout", reason=f"проверка дольше {timeout} с, процесс остановлен")
    elif rc != 0 or not (autograded / f"{ASSIGNMENT}.ipynb").exists():
        lines = log.read_text(errors="replace").splitlines()
        raised = [ln.strip() for ln in lines if re.match(r"\s*[\w.]*(Error|Exception)\b.*", ln)]
        result.update(status="failed", reason=(raised[-1] if raised else f"nbgrader rc={rc}")[:300])
    else:
        nb = nbformat.read(str(autograded / f"{ASSIGNMENT}.ipynb"), as_version=4)
        enames = [o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        if "KernelDied" in enames:
            cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
                o.get("ename") == "KernelDied" for o in c.get("outputs", [])))
            result.update(status="crashed", reason=f"ядро упало в ячейке {cell}; баллы — за ячейки до неё")
        elif "CellTimeoutError" in enames:
            result.update(status="cell_timeout", reason=f"ячейка дольше {cell_timeout} с прервана")
        rc = run(nbgrader_cmd(["generate_feedback", ASSIGNMENT, "--student", student, "--force"], work),
                 env, max(60, deadline - time.perf_counter()), log)
        if rc != 0:
            result["reason"] = (result["reason"] + "; " if result["reason"] else "") + "отзыв не создан"
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def merge(result, main_db):
    """Copy the worker's auto scores and comments for its student into the main gradebook; the F1
    cell gets the grader's points (result['f1'])."""
    from nbgrader.api import Gradebook, MissingEntry
    student, work = result["student"], result["work"]
    cells = {}
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as wgb, Gradebook(f"sqlite:///{main_db}") as gb, \
            warnings.catch_warnings():
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
            if result["status"] in ("ok", "cell_timeout", "crashed") and wgrade is not None:
                grade.auto_score, grade.needs_manual_grade = wgrade.auto_score, wgrade.needs_manual_grade
            elif grade.cell.cell_type == "code":  # nbgrader gave up: autograded cells get 0
                grade.auto_score, grade.needs_manual_grade = 0.0, False
            if grade.name == F1_CELL and "f1" in result:
                grade.auto_score, grade.needs_manual_grade = result["f1"]["points"], False
            cells[grade.name] = grade.manual_score if grade.manual_score is not None else grade.auto_score
        if wsub is not None:
            for comment in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).comments:
                wc = next((c for c in wsub.comments if c.name == comment.name), None)
                if wc is not None:
                    comment.auto_comment = wc.auto_comment
        gb.db.commit()
    return cells


def copy_back(result):
    student, work = result["student"], result["work"]
    for kind in ("autograded", "feedback"):
        src, dest = work / kind / student, ROOT / kind / student
        if dest.exists():
            shutil.rmtree(dest)
        if src.exists():
            shutil.copytree(src, dest)


def grade_all(submitted=None, students=None, workers=2, timeout=1200, cell_timeout=300, data=None,
              grader_data=None, out_csv=None, main_db=None, source_dir=SOURCE_DIR, copy_results=True,
              verbose=True, answer_key=None):
    """Grade the class; returns the list of rows written to grades.csv. `grader_data` is the old
    name of `answer_key`."""
    submitted = Path(submitted or ROOT / "submitted").resolve()
    main_db = Path(main_db or ROOT / "gradebook.db").resolve()
    out_csv = Path(out_csv or ROOT / "grades.csv")
    data = Path(data or os.environ.get("TASK3_DATA") or DEFAULT_DATA).resolve()
    answer_key = Path(answer_key or grader_data or os.environ.get("TASK3_ANSWER_KEY")
                      or ak.DEFAULT_KEY).resolve()
    if not data.exists():
        raise SystemExit(f"нет файла данных {data}: make data")
    ak.read_key(answer_key)  # a missing or broken key stops here, before any grading
    if students is None:
        students = sorted(p.parent.name for p in submitted.glob(f"*/{ASSIGNMENT}") if p.is_dir())
    before = tree_hash(submitted)
    env = venv_env(TASK3_DATA=data, PYTHONWARNINGS="ignore",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    for name in ("TASK3_ANSWER_KEY", "TASK3_GRADER_DATA"):  # never tell the kernel where the key is
        env.pop(name, None)
    src_nb = nc.read(Path(source_dir) / f"{ASSIGNMENT}.ipynb")
    cells = nc.grade_cells(src_nb)
    rows, started = [], time.perf_counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="task3_grading_") as tmp:
        if os.environ.get("TASK3_KEEP_WORK"):  # debugging: keep the workers' course roots
            tmp = tempfile.mkdtemp(prefix="task3_grading_keep_")
        tmp = Path(tmp)
        prepare(tmp / "template", main_db, source_dir)  # the assignment in the main gradebook
        t_prepare = time.perf_counter() - started

        def job(student):
            work = tmp / "work" / student
            work.mkdir(parents=True)
            with lock:  # a consistent snapshot of the main gradebook
                db_copy = tmp / f"{student}.db"
                shutil.copy(main_db, db_copy)
            result = grade_one(student, submitted / student / ASSIGNMENT, tmp / "template", db_copy, work,
                               env, timeout, cell_timeout)
            result["f1"] = ak.score(submitted / student / ASSIGNMENT / "test_predictions.csv", answer_key)
            with lock:
                scores = merge(result, main_db)
                if copy_results:
                    copy_back(result)
            row = dict(student=student)
            for part in sorted({c["part"] for c in cells}, key=str):
                row[f"part{part}"] = round(sum(scores.get(c["grade_id"]) or 0 for c in cells
                                               if c["part"] == part), 4)
            for c in cells:
                row[c["grade_id"]] = "" if scores.get(c["grade_id"]) is None else scores[c["grade_id"]]
            row["auto_total"] = round(sum(scores.get(c["grade_id"]) or 0 for c in cells if c["auto"]), 4)
            row["total"] = round(sum(scores.get(c["grade_id"]) or 0 for c in cells), 4)
            row["needs_manual"] = sum(1 for c in cells if not c["auto"] and scores.get(c["grade_id"]) is None)
            row.update(status=result["status"], reason=result["reason"], seconds=result["seconds"],
                       test_f1_weighted=result["f1"]["f1_weighted"],
                       f1_notes="; ".join(filter(None, [result["f1"]["reason"], *result["f1"]["notes"]])))
            if verbose:
                print(f"{student:<28} {row['auto_total']:>6} {row['status']:<12} {row['seconds']:>6.1f} с "
                      f"{row['reason']}", flush=True)
            return row

        with cf.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            rows = list(pool.map(job, students))
    wall = time.perf_counter() - started
    if tree_hash(submitted) != before:
        raise RuntimeError("submitted/ changed during grading")
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as f:
        fields = list(rows[0]) if rows else ["student"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    if verbose:
        per = [r["seconds"] for r in rows]
        print(f"проверено работ: {len(rows)}, воркеров: {workers}, всего {wall:.1f} с "
              f"(подготовка {t_prepare:.1f} с, на работу {min(per or [0]):.1f}..{max(per or [0]):.1f} с); "
              f"оценки: {out_csv}")
    grade_all.last_timing = dict(wall=wall, prepare=t_prepare, per_submission=[r["seconds"] for r in rows])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submitted", type=Path, default=ROOT / "submitted")
    parser.add_argument("--students", help="comma-separated ids (default: all in submitted/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=int, default=300, help="Execute.timeout, seconds per cell")
    parser.add_argument("--data", type=Path, help="instructor's data file (default TASK3_DATA or smoke data)")
    parser.add_argument("--answer-key", "--grader-data", type=Path, dest="answer_key",
                        help=f"test labels for F1 (default TASK3_ANSWER_KEY or {ak.DEFAULT_KEY.relative_to(ROOT)})")
    parser.add_argument("--out", type=Path, default=ROOT / "grades.csv")
    args = parser.parse_args(argv)
    students = args.students.split(",") if args.students else None
    grade_all(args.submitted, students, args.workers, args.timeout, args.cell_timeout, args.data,
              out_csv=args.out, answer_key=args.answer_key)


if __name__ == "__main__":
    main()
