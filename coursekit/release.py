"""Build the student release with nbgrader and check it (`make release`).

    python -m coursekit.release [--out DIR]

`nbgrader generate_assignment task3_bert --force` runs in a throw-away course root (a copy of
solutions/task3_bert/ and its own gradebook), so the repository's gradebook is not touched and the
result depends on the source files only (same bytes every run). The release then replaces
assignments/task3_bert/ (or goes to --out DIR) after the checks:
  * no solution or hidden-test line of the source and no BEGIN/END marker is in the release;
  * every solution code cell is the stub that raises NotImplementedError;
  * tests.py is byte-identical to the source one; no student output (runs/, predictions, weights).
"""
import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from coursekit import ROOT
from coursekit import notebook_cells as nc

ASSIGNMENT = "task3_bert"
SOURCE_DIR = ROOT / "solutions" / ASSIGNMENT
RELEASE_DIR = ROOT / "assignments" / ASSIGNMENT
FORBIDDEN = ["runs", "build", "test_predictions*.csv", "*.pt", "__pycache__", ".ipynb_checkpoints",
             "*.pyc", "gradebook.db"]


class ReleaseError(RuntimeError):
    pass


def venv_env(**extra):
    """os.environ with this interpreter's bin/ first on PATH (nbgrader shells out to `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def nbgrader(args, root, db, cwd=ROOT, env=None, check=True):
    """Run an nbgrader command with the course config (cwd=repo root) on course root `root`."""
    env = env or venv_env()
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}",
           f"--CourseDirectory.db_url=sqlite:///{db}"]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise ReleaseError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def stage_course(root, source_dir=SOURCE_DIR):
    """A course root with only the assignment's source (nbgrader's ignore list applies again)."""
    dest = Path(root) / "solutions" / ASSIGNMENT
    shutil.copytree(source_dir, dest, ignore=shutil.ignore_patterns(*FORBIDDEN))
    return dest


def generate(out_dir, source_dir=SOURCE_DIR, db=None):
    """generate_assignment into out_dir (replaced). `db`: gradebook to record the assignment in
    (default: a temporary one)."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="task3_release_") as tmp:
        stage_course(tmp, source_dir)
        nbgrader(["generate_assignment", ASSIGNMENT, "--force"], tmp, db or Path(tmp) / "gradebook.db")
        built = Path(tmp) / "assignments" / ASSIGNMENT
        check_release(built, source_dir)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, out_dir)
        for path in sorted(out_dir.rglob("*")):  # stable permissions, whoever runs it
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return out_dir


def check_release(release_dir, source_dir=SOURCE_DIR):
    release_dir, source_dir = Path(release_dir), Path(source_dir)
    problems = []
    files = sorted(p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file())
    for rel in files:
        for part in rel.split("/"):
            if any(fnmatch.fnmatch(part, pat) for pat in FORBIDDEN):
                problems.append(f"student output or junk in the release: {rel}")
    nb_path = release_dir / f"{ASSIGNMENT}.ipynb"
    if not nb_path.exists():
        raise ReleaseError(f"no notebook in the release: {nb_path}")
    src_nb, rel_nb = nc.read(source_dir / f"{ASSIGNMENT}.ipynb"), nc.read(nb_path)
    text = "\n".join(cell.source for cell in rel_nb.cells)
    for marker in nc.MARKERS:
        if marker in text:
            problems.append(f"marker {marker!r} in the release")
    released_lines = {line.strip() for line in text.splitlines()}
    for line in sorted(nc.secret_lines(src_nb) & released_lines):
        problems.append(f"solution/hidden-test line in the release: {line!r}")
    for cell in rel_nb.cells:
        if nc.nbg(cell).get("solution") and cell.cell_type == "code" \
                and "raise NotImplementedError()" not in cell.source:
            problems.append(f"solution cell {nc.nbg(cell)['grade_id']} has no NotImplementedError stub")
        if cell.get("outputs"):
            problems.append(f"cell {nc.nbg(cell).get('grade_id')} has outputs in the release")
    if [g["grade_id"] for g in nc.grade_cells(rel_nb)] != [g["grade_id"] for g in nc.grade_cells(src_nb)]:
        problems.append("grade cells of the release differ from the source")
    tests_src, tests_rel = source_dir / "tests.py", release_dir / "tests.py"
    if not tests_rel.exists() or tests_rel.read_bytes() != tests_src.read_bytes():
        problems.append("tests.py of the release is not byte-identical to solutions/task3_bert/tests.py")
    if problems:
        raise ReleaseError("release check failed:\n  " + "\n  ".join(problems))
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RELEASE_DIR, help="release folder (replaced)")
    args = parser.parse_args(argv)
    out = generate(args.out)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    print(f"релиз: {out} ({', '.join(files)}); проверки пройдены: решений и скрытых тестов нет, "
          f"tests.py совпадает с исходным")


if __name__ == "__main__":
    try:
        main()
    except ReleaseError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
