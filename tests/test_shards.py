"""Grading in shards and merging them (coursekit.shards; `python -m coursekit.grading --shard I/N`,
`... merge`): the tiny assignment of test_sandbox, six submissions (a victim and an attacker among
them, a refused login, a spreadsheet formula login), graded once as one class and once as shards.

The merged course must equal the plain grading: every grades.csv row (but the seconds) and every
score of the gradebook. A failed, missing or duplicated shard and a late student are named with the
command that re-grades them, and that command closes the gap; merging twice changes nothing.
"""
import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit import ROOT, shards
from coursekit.course import Course
from coursekit.grading import csv_safe, grade_all
from coursekit.release import ASSIGNMENT
from test_sandbox import attacks, course, student

CASES = ("victim", "tamper", "kill_all", "left_behind", "=2+5", "-rf")


def tiny_class(root):
    """A course at root with the six cases: returns (cases, made) as test_sandbox.course does."""
    root.mkdir(parents=True, exist_ok=True)
    paths = dict(config=ROOT / "nbgrader_config.py", grading_py=ROOT / "coursekit" / "grading.py",
                 source=root / "solutions" / ASSIGNMENT, labels=root / "labels.csv", main_db=root / "gradebook.db",
                 submitted=root / "submitted", tmp=root)
    cases = {k: v for k, v in attacks(paths).items() if k in CASES}
    return cases, course(root, cases)


def options(made):
    return ["--source", str(made["source"]), "--data", str(made["data"]), "--answer-key", str(made["labels"]),
            "--cell-timeout", "10", "--workers", "2"]


def grade_plain(made):
    return grade_all(Course(made["tmp"]), workers=2, cell_timeout=10, data=made["data"], answer_key=made["labels"],
                     source_dir=made["source"], verbose=False)


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "coursekit.grading", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def rows(root):
    """grades.csv as {login: row} without the timing column."""
    with open(Path(root) / "grades.csv", newline="") as f:
        return {r["student"]: {k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)}


def scores(db):
    """Every grade and comment of the gradebook: {(login, cell): (auto, manual, needs_manual)}."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(f"sqlite:///{db}") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out[sub.student.id, g.name] = (g.auto_score, g.manual_score, g.needs_manual_grade)
                for c in nb.comments:
                    out[sub.student.id, "comment:" + c.name] = (c.auto_comment, c.manual_comment, None)
    return out


def fingerprint(root):
    return hashlib.sha256((Path(root) / "grades.csv").read_bytes()).hexdigest(), scores(Path(root) / "gradebook.db")


def printed_commands(text):
    return [line.split("перепроверить: ", 1)[1] for line in text.splitlines() if "перепроверить: " in line]


def run_shell(command):
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded plainly, and the same class graded as 3 shards (CLI) and merged."""
    tmp = tmp_path_factory.mktemp("shards")
    cases, plain = tiny_class(tmp / "plain")
    grade_plain(plain)
    _, made = tiny_class(tmp / "sharded")
    for i in range(3):
        cli("--course", made["tmp"], "--shard", f"{i}/3", "--out", tmp / "out" / str(i), *options(made))
    return dict(tmp=tmp, cases=cases, plain=plain, made=made, dirs=[tmp / "out" / str(i) for i in range(3)])


def test_partition_is_stable_and_balanced():
    logins = [f"student{k:04d}" for k in range(2000)]
    before = {s: shards.shard_of(s, 4) for s in logins}
    late = logins + ["late_one", "ещё_один"]  # adding students moves nobody
    assert all(shards.shard_of(s, 4) == before[s] for s in late[:2000])
    counts = [list(before.values()).count(i) for i in range(4)]
    assert all(400 < c < 600 for c in counts), counts
    assert {shards.shard_of(s, 1) for s in logins} == {0}
    assert shards.parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "x", "1/0", "-1/2", "1"):
        with pytest.raises(SystemExit, match="ожидалось I/N|нужно 0 <= I < N"):
            shards.parse_shard(bad)


@pytest.mark.slow
def test_shards_hold_their_logins_once(graded):
    seen = []
    for i, d in enumerate(graded["dirs"]):
        m = shards.read_manifest(d)
        assert m["finished"] and (m["shard"], m["of"]) == (i, 3)
        assert all(shards.shard_of(s, 3) == i for s in m["logins"])
        assert set(m["statuses"]) == set(m["logins"]) == {r["student"] for r in m["rows"]}
        assert {csv_safe(s) for s in m["logins"]} == set(rows(d))  # '-rf' is written as "'-rf"
        seen += m["logins"]
    assert sorted(seen) == sorted(graded["cases"])


@pytest.mark.slow
def test_merged_shards_equal_plain_grading_and_merge_is_idempotent(graded):
    made, plain = graded["made"], graded["plain"]
    proc = cli("merge", *graded["dirs"], "--course", made["tmp"], "--source", made["source"])
    assert "шардов 3 из 3, студентов 6" in proc.stdout
    expected = rows(plain["tmp"])
    for login, (_, score, status) in graded["cases"].items():  # the plain grading is right to begin with
        row = expected[csv_safe(login)]  # '-rf' is written as "'-rf"
        assert (float(row["auto_total"] or 0), row["status"]) == (score, status), login
    assert rows(made["tmp"]) == expected
    assert scores(made["tmp"] / "gradebook.db") == scores(plain["tmp"] / "gradebook.db")
    assert list(rows(made["tmp"])) == sorted(expected)
    for kind in ("autograded", "feedback"):
        assert sorted(p.relative_to(made["tmp"] / kind).as_posix() for p in (made["tmp"] / kind).rglob("*")) == \
            sorted(p.relative_to(plain["tmp"] / kind).as_posix() for p in (plain["tmp"] / kind).rglob("*")), kind
    once = fingerprint(made["tmp"])
    cli("merge", *graded["dirs"], "--course", made["tmp"], "--source", made["source"])
    assert fingerprint(made["tmp"]) == once


@pytest.mark.slow
def test_merge_keeps_manual_scores(graded, tmp_path):
    """A score entered in formgrader after the first merge survives the next merge and counts."""
    from nbgrader.api import Gradebook
    made = graded["made"]
    target = Course(tmp_path / "course")
    shards.merge_shards(graded["dirs"], target, source_dir=made["source"], verbose=False)
    with Gradebook(f"sqlite:///{target.gradebook}") as gb:
        gb.find_grade("test_a", ASSIGNMENT, ASSIGNMENT, "victim").manual_score = 0.5
        gb.db.commit()
    result = shards.merge_shards(graded["dirs"], target, source_dir=made["source"], verbose=False)
    assert result["rc"] == 0
    assert scores(target.gradebook)["victim", "test_a"][:2] == (1.0, 0.5)
    assert float(rows(target.root)["victim"]["total"]) == 1.5


@pytest.mark.slow
def test_a_failed_or_missing_shard_is_named_and_its_command_closes_the_gap(graded, tmp_path):
    made, dirs = graded["made"], graded["dirs"]
    target = tmp_path / "course"
    # shard 1 died before its finished flag; shard 2 was never run (no folder given)
    broken = tmp_path / "shards"
    broken.mkdir()
    for i in (0, 1):
        subprocess.run(["cp", "-a", str(dirs[i]), str(broken / str(i))], check=True)
    m = shards.read_manifest(broken / "1")
    m["finished"] = False
    shards.write_json(broken / "1" / shards.MANIFEST, m)
    proc = cli("merge", broken / "0", broken / "1", "--course", target, "--source", made["source"], check=False)
    assert proc.returncode == 1, proc.stderr
    assert "шард 1/3" in proc.stderr and "не закончен" in proc.stderr
    assert "шард 2/3" in proc.stderr and "папки нет" in proc.stderr
    commands = printed_commands(proc.stderr)
    assert len(commands) == 2 and "--shard 1/3" in commands[0] and "--shard 2/3" in commands[1]
    assert not any("sbatch" in c for c in commands)  # not graded under Slurm: the local command only
    partial = rows(target)
    assert set(partial) == {csv_safe(s) for s in shards.read_manifest(broken / "0")["logins"]}
    for command in commands:
        run_shell(command)
    proc = cli("merge", broken / "0", broken / "1", broken / "2", "--course", target, "--source", made["source"])
    assert rows(target) == rows(graded["plain"]["tmp"])


@pytest.mark.slow
def test_duplicates_write_nothing(graded, tmp_path):
    made, dirs = graded["made"], graded["dirs"]
    twice = tmp_path / "copy_of_0"
    subprocess.run(["cp", "-a", str(dirs[0]), str(twice)], check=True)
    target = Course(tmp_path / "course")
    result = shards.merge_shards([*dirs, twice], target, source_dir=made["source"], verbose=False)
    assert result["rc"] == 2 and not target.grades_csv.exists()
    texts = [p["text"] for p in result["problems"]]
    assert any("шард 0/3 дан дважды" in t for t in texts), texts


@pytest.mark.slow
def test_a_late_student_is_named_and_graded_alone(graded, tmp_path):
    """A login added after the shards ran lands in one shard; merge names it with a --students command."""
    import nbformat
    made = graded["made"]
    root = tmp_path / "class"
    subprocess.run(["cp", "-a", str(made["tmp"]), str(root)], check=True)
    dirs = []
    for d in graded["dirs"]:
        subprocess.run(["cp", "-a", str(d), str(tmp_path / d.name)], check=True)
        dirs.append(tmp_path / d.name)
    for d in dirs:  # the manifests name the copied course
        m = shards.read_manifest(d)
        m["course"] = str(root)
        shards.write_json(d / shards.MANIFEST, m)
    late = root / "submitted" / "late_student" / ASSIGNMENT
    late.mkdir(parents=True)
    nbformat.write(student(), str(late / f"{ASSIGNMENT}.ipynb"))
    (late / "test_predictions.csv").write_text("42\n")
    result = shards.merge_shards(dirs, Course(root), source_dir=made["source"], verbose=False)
    late_problems = [p for p in result["problems"] if p["kind"] == "late"]
    assert result["rc"] == 1 and len(late_problems) == 1 and "late_student" in late_problems[0]["text"]
    i = shards.shard_of("late_student", 3)
    command = late_problems[0]["commands"][0]
    assert f"--shard {i}/3" in command and "--students late_student" in command
    run_shell(command)
    before = set(shards.read_manifest(dirs[i])["logins"])
    assert before >= {"late_student"} | {s for s in graded["cases"] if shards.shard_of(s, 3) == i}
    result = shards.merge_shards(dirs, Course(root), source_dir=made["source"], verbose=False)
    assert result["rc"] == 0
    merged = rows(root)
    assert merged["late_student"]["status"] == "ok" and float(merged["late_student"]["auto_total"]) == 2
    assert {k: v for k, v in merged.items() if k != "late_student"} == rows(graded["plain"]["tmp"])


@pytest.mark.slow
def test_one_shard_is_plain_grading(graded, tmp_path):
    """`make autograde` is the one-shard case: --shard 0/1 and merge give the plain grades.csv rows."""
    made = graded["made"]
    cli("--course", made["tmp"], "--shard", "0/1", "--out", tmp_path / "only", *options(made))
    target = tmp_path / "course"
    cli("merge", tmp_path / "only", "--course", target, "--source", made["source"])
    assert rows(target) == rows(graded["plain"]["tmp"])
    assert scores(target / "gradebook.db") == scores(graded["plain"]["tmp"] / "gradebook.db")


def test_bad_shard_arguments_are_explained(tmp_path):
    proc = cli("--shard", "5/3", "--out", tmp_path / "x", check=False)
    assert proc.returncode != 0 and "нужно 0 <= I < N" in proc.stderr
    proc = cli("merge", tmp_path / "nothing", check=False)
    assert proc.returncode != 0 and "нет shard.json" in proc.stderr
    proc = cli("--shard", "0/2", check=False)
    assert proc.returncode == 2 and "--shard I/N и --out DIR" in proc.stderr
    _, made = tiny_class(tmp_path / "class")
    other = next(s for s in CASES if shards.shard_of(s, 2) == 1)
    proc = cli("--course", made["tmp"], "--shard", "0/2", "--out", tmp_path / "s0", "--students", other, check=False)
    assert proc.returncode != 0 and f"не из шарда 0/2: {other} (его шард 1/2)" in proc.stderr, proc.stderr
    assert not (tmp_path / "s0").exists()


def test_two_shards_claiming_one_login_write_nothing(tmp_path):
    """Manifests only (no grading): shard 0/2 and 1/2 both list 'alice' -- a duplicate, named; exit 2."""
    for i in (0, 1):
        (tmp_path / str(i)).mkdir()
        shards.write_json(tmp_path / str(i) / shards.MANIFEST,
                          dict(shard=i, of=2, course=str(tmp_path / "course"), logins=["alice", f"own{i}"],
                               statuses={}, rows=[], options=[], finished=True))
    result = shards.merge_shards([tmp_path / "0", tmp_path / "1"], Course(tmp_path / "course"), verbose=False)
    assert result["rc"] == 2 and not (tmp_path / "course" / "grades.csv").exists()
    assert [p["text"] for p in result["problems"]] == ["студент 'alice' есть в шардах [0, 1]: оставьте одну папку шарда"]
