"""A class graded in N shards (one per node, e.g. a Slurm job array) and merged into one course.

    python -m coursekit.grading --shard I/N --out DIR [--course ROOT] [grading options]
    python -m coursekit.grading merge DIR... [--course ROOT] [--source SRC]

Partition: shard_of(login, N) = first 8 bytes of sha256(login) mod N. It depends on the login and N
only: a late student added to submitted/ never moves the others (the late login lands in one
shard, which `merge` then names as incomplete, with the command that grades just that login);
changing N moves almost everyone (use the same N for the whole grading).

A shard grades its logins of ROOT/submitted/ (read there, never copied through links: grade_all's
`submitted=`) into Course(DIR), self-contained: gradebook.db, grades.csv, autograded/, feedback/,
and shard.json -- the manifest: shard i of N, logins, status per login, the rows of grades.csv, the
grading options (for the re-run command) and `finished`, written last (no flag: the shard failed).

Merge writes into Course(ROOT): the auto scores of every shard's gradebook into ROOT/gradebook.db
per student with grading.merge (manual scores already entered are kept, as in every grading);
grades.csv, the rows of all shards sorted by login, score columns recomputed from the merged
gradebook (manual scores count, as in plain grading); autograded/<login>/ and feedback/<login>/
(copied without following links). A shard that is missing, has no finished flag, is given twice,
or two shards claiming one login are named with the exact command that re-grades them; with a
duplicate nothing is written (exit 2), with a gap the complete shards are merged (exit 1). Merging
again gives the same files (idempotent). `make autograde` (grade_all on one course) is the one-shard
case: `--shard 0/1` + merge gives the same grades.csv rows.
"""
import csv
import hashlib
import json
import os
import shlex
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from coursekit import ROOT
from coursekit import notebook_cells as nc
from coursekit.course import Course
from coursekit.release import ASSIGNMENT, SOURCE_DIR

MANIFEST = "shard.json"
SLURM_GRADE = "cluster/slurm/grade.sbatch"
# grading options of coursekit.grading.main that a re-run repeats (not --shard, --out, --students, --course)
REPEATED = ("source", "workers", "timeout", "cell_timeout", "data", "answer_key", "memory_gb", "max_processes",
            "max_file_mb", "max_disk_mb", "max_files", "max_submission_mb", "no_sandbox")


def shard_of(login, n):
    """The shard (0..n-1) of a login: stable hash, independent of the other logins."""
    return int.from_bytes(hashlib.sha256(os.fsencode(login)).digest()[:8], "big") % n


def parse_shard(text):
    """'I/N' -> (i, n); a clear Russian error otherwise."""
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise SystemExit(f"--shard {text!r}: ожидалось I/N — номер шарда и число шардов, например 0/4")
    if n < 1 or not 0 <= i < n:
        raise SystemExit(f"--shard {text!r}: нужно 0 <= I < N и N >= 1 (например 0/4 .. 3/4)")
    return i, n


def logins(submitted):
    """Every login of submitted/ (as grade_all lists them)."""
    return sorted(p.parent.name for p in Path(submitted).glob(f"*/{ASSIGNMENT}") if p.is_dir() or p.is_symlink())


def options_of(parser, args):
    """The grading options given on the command line (not the defaults), as argv tokens, paths absolute."""
    tokens = []
    for action in parser._actions:
        if action.dest not in REPEATED or not action.option_strings:
            continue
        value = getattr(args, action.dest)
        if value == action.default or value is None:
            continue
        flag = max(action.option_strings, key=len) if action.dest != "answer_key" else "--answer-key"
        if value is True:
            tokens.append(flag)
        else:
            tokens += [flag, str(Path(value).resolve()) if isinstance(value, Path) else str(value)]
    return tokens


def read_manifest(folder):
    try:
        return json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def write_json(path, data):
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    os.replace(tmp, path)


def write_rows(path, rows):
    """grades.csv as grade_all writes it: columns in order of appearance, spreadsheet-safe cells."""
    from coursekit.grading import csv_safe
    fields = list(rows[0]) if rows else ["student"]
    for row in rows:
        fields += [k for k in row if k not in fields]
    tmp = Path(path).with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
    os.replace(tmp, path)


def slurm_env():
    keys = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NODELIST", "SLURM_JOB_PARTITION",
            "SLURM_JOB_ACCOUNT")
    return {k: os.environ[k] for k in keys if k in os.environ}


def grade_shard(course, shard, out, *, students=None, options=(), **grade_kw):
    """Grade shard `shard` ('I/N') of course.submitted into Course(out); returns the manifest.
    `students`: only these logins of the shard (a late student, a re-grade); the shard's other
    finished rows are kept. `options`: the grading options, recorded for the re-run command."""
    from coursekit.grading import grade_all
    i, n = parse_shard(shard)
    out = Course(out)
    if out.root == course.root:
        raise SystemExit(f"--out {out.root}: папка шарда должна отличаться от курса (--course)")
    mine = [s for s in logins(course.submitted) if shard_of(s, n) == i]
    old = read_manifest(out.root) or {}
    kept = {}
    if students is not None:
        wrong = [f"{s} (его шард {shard_of(s, n)}/{n})" for s in students if shard_of(s, n) != i]
        if wrong:
            raise SystemExit(f"--students: не из шарда {i}/{n}: {', '.join(wrong)}; "
                             f"уберите их или укажите их шард")
        if old.get("finished") and (old.get("shard"), old.get("of")) == (i, n):
            kept = {r["student"]: r for r in old["rows"] if r["student"] not in students}
        mine = sorted(students)
    out.root.mkdir(parents=True, exist_ok=True)
    manifest = dict(shard=i, of=n, course=str(course.root), logins=sorted(set(kept) | set(mine)),
                    finished=False, host=socket.gethostname(), slurm=slurm_env(), options=list(options),
                    started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    write_json(out.root / MANIFEST, manifest)  # not finished until the grading returns
    started = time.perf_counter()
    rows = grade_all(out, students=mine, submitted=course.submitted, **grade_kw)
    rows = sorted(list(kept.values()) + rows, key=lambda r: r["student"])
    write_rows(out.grades_csv, rows)
    manifest.update(rows=rows, statuses={r["student"]: r["status"] for r in rows}, finished=True,
                    seconds=round(time.perf_counter() - started, 1))
    write_json(out.root / MANIFEST, manifest)
    return manifest


def command(course, i, n, out, options, students=None):
    """The exact local command that (re)grades shard i/n (or some of its students) into `out`."""
    argv = [sys.executable, "-m", "coursekit.grading", "--course", str(course.root), "--shard", f"{i}/{n}",
            "--out", str(out), *options]
    if students:
        argv += ["--students", ",".join(students)]
    return f"cd {shlex.quote(str(ROOT))} && {shlex.join(argv)}"


def slurm_command(course, i, n, out, options, slurm=None):
    """The same through Slurm: one task of cluster/slurm/grade.sbatch (its folder: SHARDS_DIR/<i>), in
    the partition and account the other shards ran in (`slurm`: a manifest's); other sbatch flags
    of the first submission (time, memory) are not known here."""
    env = dict(COURSE=str(course.root), SHARDS_DIR=str(Path(out).parent), SHARDS=str(n),
               GRADING_ARGS=shlex.join(options))
    if Path(out).name != str(i):
        return None
    sets = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    flags = "".join(f" --{flag}={shlex.quote(slurm[key])}" for flag, key in
                    (("partition", "SLURM_JOB_PARTITION"), ("account", "SLURM_JOB_ACCOUNT"))
                    if (slurm or {}).get(key) not in (None, "", "(null)"))
    return (f"cd {shlex.quote(str(ROOT))} && {sets} sbatch --array={i}{flags} "
            f"--output={shlex.quote(str(Path(out).parent / 'slurm-%A_%a.out'))} {SLURM_GRADE}")


def check(dirs, course):
    """Read the shards' manifests; returns (finished manifests by index, problems, n). A problem:
    dict(kind=missing|failed|duplicate|late, text, commands). The re-run commands and the late
    logins use the course the shards graded (their manifests'), not necessarily `course`."""
    dirs = [Path(d).resolve() for d in dirs]
    if not dirs:
        raise SystemExit("merge: не указаны папки шардов (например build/shards/*)")
    found = [(d, read_manifest(d)) for d in dirs]
    sizes = {m["of"] for _, m in found if m}
    if len(sizes) > 1:
        raise SystemExit(f"merge: шарды разных разбиений (N = {sorted(sizes)}); ожидалось одно N для всех")
    if not sizes:
        raise SystemExit(f"merge: ни в одной папке нет {MANIFEST}: {', '.join(map(str, dirs))}; ожидались "
                         f"папки --out команды `python -m coursekit.grading --shard I/N --out DIR`")
    n = sizes.pop()
    graded = {m["course"] for _, m in found if m and m.get("course")}
    if len(graded) > 1:
        raise SystemExit(f"merge: шарды проверяли разные курсы ({', '.join(sorted(graded))}); ожидался один")
    course = Course(graded.pop()) if graded else course  # where submitted/ is: re-runs grade from there
    parents = {d.parent for d in dirs}
    base = parents.pop() if len(parents) == 1 else None
    options = next((m.get("options", []) for _, m in found if m and m.get("finished")),
                   next(m.get("options", []) for _, m in found if m))
    under_slurm = next((m["slurm"] for _, m in found if m and m.get("slurm")), None)
    problems, by_index, owner, named = [], {}, {}, set()

    def rerun(i, out, students=None):
        cmds = [command(course, i, n, out, options, students)]
        slurm = under_slurm and not students and slurm_command(course, i, n, out, options, under_slurm)
        return cmds + ([slurm] if slurm else [])

    for d, m in found:
        if m is None:
            i = int(d.name) if d.name.isdigit() and int(d.name) < n else None
            named.add(i)
            problems.append(dict(kind="missing", text=f"{d}: нет {MANIFEST} — шард не проверялся",
                                 commands=rerun(i, d) if i is not None else []))
        elif not m.get("finished"):
            problems.append(dict(kind="failed", text=f"шард {m['shard']}/{n} ({d}): не закончен (нет флага finished)",
                                 commands=rerun(m["shard"], d)))
        by_index.setdefault(m["shard"] if m else None, []).append((d, m))
    for i, group in sorted((k, v) for k, v in by_index.items() if k is not None):
        if len(group) > 1:
            problems.append(dict(kind="duplicate", commands=[],
                                 text=f"шард {i}/{n} дан дважды: {', '.join(str(d) for d, _ in group)}; "
                                      f"оставьте одну папку"))
    for i in range(n):
        if i not in by_index and i not in named:
            out = base / str(i) if base else Path(f"<папка шарда {i}>")
            problems.append(dict(kind="missing", text=f"шард {i}/{n}: папки нет среди данных ({out})",
                                 commands=rerun(i, out)))
    done = {i: group[0] for i, group in by_index.items()
            if i is not None and len(group) == 1 and group[0][1].get("finished")}
    for i, (d, m) in sorted(done.items()):
        for login in m["logins"]:
            owner.setdefault(login, []).append(i)
    for login, shards in sorted(owner.items()):
        if len(shards) > 1:
            problems.append(dict(kind="duplicate", commands=[],
                                 text=f"студент {login!r} есть в шардах {shards}: оставьте одну папку шарда"))
    late = {}
    for login in logins(course.submitted):
        i = shard_of(login, n)
        if i in done and login not in done[i][1]["logins"]:
            late.setdefault(i, []).append(login)
    for i, students in sorted(late.items()):
        problems.append(dict(kind="late", text=f"шард {i}/{n}: не проверены (сданы позже?): {', '.join(students)}",
                             commands=rerun(i, done[i][0], students)))
    return done, problems, n


def copy_tree(src, dest):
    """dest replaced by src's regular files (links, devices, FIFOs refused: never followed)."""
    from coursekit.grading import copy_submission
    if dest.exists():
        shutil.rmtree(dest)
    if src.is_dir() and not src.is_symlink():
        dest.parent.mkdir(parents=True, exist_ok=True)
        return copy_submission(src, dest, 1 << 40)
    return []


def merge_shards(dirs, course, *, source_dir=SOURCE_DIR, verbose=True):
    """Merge the shards' folders into `course`; returns dict(rc, problems, rows). rc 0: complete;
    1: a gap (missing, failed shard, ungraded late logins) -- the complete shards are merged; 2: a
    duplicate -- nothing written."""
    from nbgrader.api import Gradebook
    from coursekit import grading
    started = time.perf_counter()
    done, problems, n = check(dirs, course)
    rows = []
    if not any(p["kind"] == "duplicate" for p in problems):
        course.root.mkdir(parents=True, exist_ok=True)
        cells = nc.grade_cells(nc.read(Path(source_dir) / f"{ASSIGNMENT}.ipynb"))
        with tempfile.TemporaryDirectory(prefix="task3_merge_") as tmp:
            grading.prepare(Path(tmp) / "template", course.gradebook, source_dir)  # the assignment, as grade_all
        with Gradebook(f"sqlite:///{course.gradebook}") as main:
            for i, (d, m) in sorted(done.items()):
                with Gradebook(f"sqlite:///{d / 'gradebook.db'}") as gb:
                    in_gradebook = {s.student.id for s in gb.assignment_submissions(ASSIGNMENT)}
                    shard_rows = {r["student"]: r for r in m["rows"]}
                    for login in m["logins"]:
                        row = dict(shard_rows[login])
                        if login in in_gradebook:  # refused or failed before its merge: in no gradebook
                            result = grading.Graded(login, d, graded=row["status"] in grading.KEPT,
                                                    status=row["status"])
                            row = grading.score_columns(row, cells, grading.merge(result, course.gradebook, (gb, main)))
                            for kind in ("autograded", "feedback"):
                                copy_tree(d / kind / login, getattr(course, kind) / login)
                        rows.append(row)
        rows.sort(key=lambda r: r["student"])
        write_rows(course.grades_csv, rows)
    rc = 2 if any(p["kind"] == "duplicate" for p in problems) else 1 if problems else 0
    if verbose:
        if rc == 2:
            print("merge: ничего не записано — есть повторы:", file=sys.stderr)
        for p in problems:
            print(f"- {p['text']}", file=sys.stderr)
            for c in p["commands"]:
                print(f"  перепроверить: {c}", file=sys.stderr)
        if problems and rc == 1:
            print("после перепроверки запустите merge ещё раз (повторный merge ничего не портит)", file=sys.stderr)
        print(f"merge: шардов {len(done)} из {n}, студентов {len(rows)}, {time.perf_counter() - started:.1f} с; "
              f"{'оценки' if rc < 2 else 'не записано'}: {course.grades_csv}", flush=True)
    return dict(rc=rc, problems=problems, rows=rows, n=n)
