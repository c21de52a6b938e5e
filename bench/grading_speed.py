"""Autograding speed: N copies of the full solution graded with 1 worker in the sandbox, with 1
worker without it (--no-sandbox), with 1 worker as before the judge (no sandbox, no records, scores
from the notebook's outputs: grade_all(judged=False)), then with W workers in the sandbox.

    python bench/grading_speed.py [--copies 4] [--workers 2]
    python bench/grading_speed.py --against REV [--copies 4]

--against REV: the grading of this tree and of revision REV (a git worktree of it in a temporary
folder, same data and virtual environment), sandbox + judge, 1 worker, one after the other in one
run (REV, this tree, REV, this tree): the median seconds per submission of each and their ratio.

Prints seconds per submission (median) and the wall time of each run, the share of it spent on the
judge after the kernel ended (the rest of the replay runs alongside the kernel), the sandbox's overhead per submission, the judge's
(records + replay) overhead, grading time before (no sandbox, no judge) and after (both), and the
speed-up of W workers over one (all runs in this process, one after the other).
Needs the release (make release) and the data (make data); predictions are the test labels of the
answer key (F1 = 1), so no solution run is needed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

from coursekit import demo
from coursekit import notebook_cells as nc
from coursekit.course import Course
from coursekit.grading import grade_all
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR
from coursekit.solution import ANSWER_KEY, DATA_FILE, ensure_data


def full_solutions(tmp, copies):
    """`copies` demo cases of the full solution whose predictions are the test labels (F1 = 1)."""
    test = pd.read_csv(ANSWER_KEY, keep_default_na=False)
    predictions = Path(tmp) / "predictions.csv"
    pd.DataFrame({"text": test["text"], "label": test["label"].astype(int)}).to_csv(predictions, index=False)
    src_nb, rel_nb = nc.read(SOURCE_DIR / f"{ASSIGNMENT}.ipynb"), nc.read(RELEASE_DIR / f"{ASSIGNMENT}.ipynb")
    full = demo.fill(nbformat.from_dict(rel_nb), src_nb)
    return {f"full{i}": (full, predictions.read_bytes(), set()) for i in range(copies)}


def measure(copies):
    """Grade `copies` full solutions (sandbox + judge, 1 worker) with the coursekit on sys.path;
    prints one JSON line: seconds per submission, wall seconds, scores."""
    data = ensure_data().resolve()
    with tempfile.TemporaryDirectory(prefix="grading_bench_") as tmp:
        course = Course(Path(tmp) / "course")
        demo.write_class(full_solutions(tmp, copies), course.submitted)
        started = time.perf_counter()
        rows = grade_all(course, workers=1, data=data, copy_results=False, verbose=False)
        print(json.dumps(dict(seconds=[r["seconds"] for r in rows], wall=time.perf_counter() - started,
                              scores=sorted({r["auto_total"] for r in rows}))))


def against(rev, copies, rounds=2):
    """This tree against revision `rev`, alternately, each graded in its own process."""
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="grading_against_") as tmp:
        old = Path(tmp) / "rev"
        subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", str(old), rev], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for path in (DATA_FILE, DATA_FILE.with_name("task3_categories.csv"), ANSWER_KEY):  # gitignored
                link = old / path.relative_to(here)
                link.parent.mkdir(parents=True, exist_ok=True)
                if not link.exists():
                    link.symlink_to(path)
            runs = {}
            for _ in range(rounds):
                for label, root in ((rev, old), ("this tree", here)):
                    env = dict(os.environ, PYTHONPATH=str(root))  # its coursekit before the installed one
                    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure",
                                          "--copies", str(copies)], cwd=root, env=env, check=True,
                                         capture_output=True, text=True).stdout
                    result = json.loads(out.strip().splitlines()[-1])
                    runs.setdefault(label, []).append(result)
                    print(f"{label}: {copies} submissions, {result['wall']:.1f} s wall, per submission "
                          f"{', '.join(f'{s:.1f}' for s in result['seconds'])} s, scores {result['scores']}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(old)], check=False)
    medians = {label: statistics.median(s for r in results for s in r["seconds"]) for label, results in runs.items()}
    walls = {label: sum(r["wall"] for r in results) for label, results in runs.items()}
    print(f"median per submission: {rev} {medians[rev]:.1f} s, this tree {medians['this tree']:.1f} s "
          f"(x{medians['this tree'] / medians[rev]:.2f}); wall of all rounds {walls[rev]:.0f} s vs "
          f"{walls['this tree']:.0f} s (x{walls['this tree'] / walls[rev]:.2f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--against", metavar="REV", help="compare with the grading of git revision REV")
    parser.add_argument("--rounds", type=int, default=2, help="--against: alternations of REV and this tree")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.copies)
    if args.against:
        return against(args.against, args.copies, args.rounds)
    data = ensure_data().resolve()
    with tempfile.TemporaryDirectory(prefix="grading_bench_") as tmp:
        tmp = Path(tmp)
        cases = full_solutions(tmp, args.copies)
        walls, per_sub = {}, {}
        for name, workers, sandboxed, judged in (("sandbox", 1, True, True), ("no-sandbox", 1, False, True),
                                                 ("before", 1, False, False),
                                                 ("sandbox", args.workers, True, True)):
            run = f"{name}_{workers}"
            course = Course(tmp / f"out_{run}")
            demo.write_class(cases, course.submitted)
            started = time.perf_counter()
            graded = {}
            rows = grade_all(course, workers=workers, data=data, copy_results=False, verbose=False,
                             use_sandbox=sandboxed, judged=judged, results=graded)
            walls[run] = time.perf_counter() - started
            per = [r["seconds"] for r in rows]
            per_sub[run] = statistics.median(per)
            scores = {r["auto_total"] for r in rows}
            judge_share = statistics.median((r.phases.get("replay", 0) + r.phases.get("judge", 0)) / max(r.seconds, 1e-9)
                                            for r in graded.values())
            print(f"{name}, workers={workers}: {len(rows)} submissions in {walls[run]:.1f} s wall, "
                  f"{min(per):.1f}..{max(per):.1f} s per submission (median {per_sub[run]:.1f}), "
                  f"auto scores {sorted(scores)}; waiting for the judge after the kernel + its gradebook write: {judge_share:.1%} of it")
        overhead = per_sub["sandbox_1"] / per_sub["no-sandbox_1"] - 1
        print(f"sandbox overhead per submission (1 worker, median): {overhead * 100:+.1f}% "
              f"({per_sub['sandbox_1']:.1f} s vs {per_sub['no-sandbox_1']:.1f} s)")
        judge_cost = per_sub["no-sandbox_1"] / per_sub["before_1"] - 1
        print(f"judge (records + replay) overhead per submission (no sandbox, median): {judge_cost * 100:+.1f}% "
              f"({per_sub['no-sandbox_1']:.1f} s vs {per_sub['before_1']:.1f} s)")
        print(f"grading per submission before (no sandbox, no judge) -> after (sandbox + judge): "
              f"{per_sub['before_1']:.1f} s -> {per_sub['sandbox_1']:.1f} s "
              f"({(per_sub['sandbox_1'] / per_sub['before_1'] - 1) * 100:+.1f}%)")
        print(f"speed-up with {args.workers} workers (sandbox): "
              f"{walls['sandbox_1'] / walls[f'sandbox_{args.workers}']:.2f}x")


if __name__ == "__main__":
    main()
