"""How the merge of shards grows with the class: coursekit.shards.merge_shards on 500 / 1,000 / 2,000
SYNTHETIC student results.

    python -m bench.merge_scale [--sizes 500,1000,2000] [--per-shard 25]

Nothing is graded here. Each shard folder is made as a graded shard would leave it, but from
synthetic data: its gradebook.db is the tiny assignment of tests/test_sandbox.py (generated once
with nbgrader, copied per shard) with one submission per student whose auto scores are set through
nbgrader's Gradebook API (random 0/1 per cell), its shard.json rows are made up to match, and every
student has a small autograded notebook and feedback HTML (what the merge copies). The timed part
is the real merge: the assignment recorded in the course gradebook (one nbgrader generate_assignment),
every student's scores merged with grading.merge, grades.csv written, the files copied.
"""
import argparse
import os
import random
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from coursekit import grading, shards  # noqa: E402
from coursekit import notebook_cells as nc  # noqa: E402
from coursekit.course import Course  # noqa: E402
from coursekit.release import ASSIGNMENT  # noqa: E402
from tests.test_sandbox import source_notebook, student  # noqa: E402


def make_shards(tmp, source, n_students, per_shard, rng):
    from nbgrader.api import Gradebook
    template = tmp / "template.db"
    if not template.exists():
        with tempfile.TemporaryDirectory() as t:
            real_prepare(Path(t) / "course", template, source)
    cells = nc.grade_cells(nc.read(source / f"{ASSIGNMENT}.ipynb"))
    logins = [f"s{k:05d}" for k in range(n_students)]
    n = max(1, n_students // per_shard)
    by_shard = {i: [] for i in range(n)}
    for login in logins:
        by_shard[shards.shard_of(login, n)].append(login)
    notebook = nbformat.writes(student())
    dirs = []
    for i, mine in by_shard.items():
        d = tmp / f"n{n_students}" / str(i)
        d.mkdir(parents=True)
        shutil.copy(template, d / "gradebook.db")
        rows = []
        with Gradebook(f"sqlite:///{d / 'gradebook.db'}") as gb:
            for login in mine:
                gb.add_student(login)
                gb.add_submission(ASSIGNMENT, login)
                scores = {}
                for c in cells:
                    grade = gb.find_grade(c["grade_id"], ASSIGNMENT, ASSIGNMENT, login)
                    grade.auto_score = float(rng.random() < 0.8) * c["points"]
                    scores[c["grade_id"]] = grade.auto_score
                row = grading.score_columns(dict(student=login), cells, scores)
                row.update(status="ok", reason="", seconds=40.0, review="", test_f1_weighted="", f1_notes="")
                rows.append(row)
                for kind, name, text in (("autograded", f"{ASSIGNMENT}.ipynb", notebook),
                                         ("feedback", f"{ASSIGNMENT}.html", "<html>" + "x" * 2000 + "</html>")):
                    (d / kind / login / ASSIGNMENT).mkdir(parents=True)
                    (d / kind / login / ASSIGNMENT / name).write_text(text)
            gb.db.commit()
        shards.write_rows(d / "grades.csv", rows)
        shards.write_json(d / shards.MANIFEST, dict(shard=i, of=n, logins=mine, statuses={s: "ok" for s in mine},
                                                    rows=rows, options=[], finished=True, synthetic=True))
        dirs.append(d)
    return dirs, n


def merge_prepare(*a, **k):
    """grading.prepare, timed: the one nbgrader generate_assignment of a merge (a fixed cost)."""
    started = time.perf_counter()
    try:
        return real_prepare(*a, **k)
    finally:
        merge_prepare.seconds = time.perf_counter() - started


real_prepare = grading.prepare


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--per-shard", type=int, default=25, help="students per synthetic shard")
    args = parser.parse_args(argv)
    rng = random.Random(0)
    grading.prepare = merge_prepare
    warnings.simplefilter("ignore")  # SQLAlchemy autoflush chatter of nbgrader's api while making shards
    print("СИНТЕТИКА: ничего не проверялось; gradebook.db шардов — nbgrader Gradebook API со случайными баллами, "
          "строки и файлы выдуманы; замерено только слияние (merge_shards)")
    print(f"{'студентов':>10} {'шардов':>7} {'подготовка, с':>14} {'слияние, с':>11} {'мс/студент':>11} "
          f"{'повторно, с':>12}")
    with tempfile.TemporaryDirectory(prefix="task3_merge_bench_") as tmp:
        tmp = Path(tmp)
        source = tmp / "solutions" / ASSIGNMENT
        source.mkdir(parents=True)
        nbformat.write(source_notebook(), str(source / f"{ASSIGNMENT}.ipynb"))
        (source / "tests.py").write_text("def ok():\n    return True\n")
        figures, sizes = [], [int(x) for x in args.sizes.split(",")]
        figures_first = sizes[0]
        for size in sizes:
            started = time.perf_counter()
            dirs, n = make_shards(tmp, source, size, args.per_shard, rng)
            made = time.perf_counter() - started
            course = Course(tmp / f"course{size}")
            started = time.perf_counter()
            result = shards.merge_shards(dirs, course, source_dir=source, verbose=False)
            merged = time.perf_counter() - started
            assert result["rc"] == 0 and len(result["rows"]) == size, result["problems"][:3]
            again = float("nan")
            if size == figures_first:  # the same merge again (idempotent): students already there
                started = time.perf_counter()
                shards.merge_shards(dirs, course, source_dir=source, verbose=False)
                again = time.perf_counter() - started
            figures.append((size, merged))
            print(f"{size:>10} {n:>7} {made:>14.1f} {merged:>11.1f} {1000 * merged / size:>11.1f} {again:>12.1f}",
                  flush=True)
            figures[-1] += (merge_prepare.seconds,)
            shutil.rmtree(tmp / f"n{size}")
            shutil.rmtree(course.root)
        for (a, ta, pa), (b, tb, pb) in zip(figures, figures[1:]):
            print(f"{a} -> {b} студентов (x{b / a:.1f}): время слияния x{tb / ta:.2f}, "
                  f"без записи задания в gradebook (generate_assignment: {pa:.1f} и {pb:.1f} с) x{(tb - pb) / (ta - pa):.2f}")
        print(f"nproc {os.cpu_count()}, загрузка (1 мин) {os.getloadavg()[0]:.1f}: машина общая, цифры с ней")


if __name__ == "__main__":
    main()
