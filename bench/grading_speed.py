"""Autograding speed: N copies of the full solution graded with 1 worker, then with W workers.

    python bench/grading_speed.py [--copies 4] [--workers 2]

Prints seconds per submission and the wall time of each run, and the speed-up of W workers over
one (both runs in this process, one after the other). Needs the release (make release) and the
smoke data; predictions are the smoke test labels (F1 = 1), so no solution run is needed.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import nbformat
import pandas as pd

from coursekit import demo
from coursekit import nbgrader_cells as nc
from coursekit.grading import grade_all
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR
from coursekit.smoke import ANSWER_KEY, ensure_data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    data = ensure_data().resolve()
    with tempfile.TemporaryDirectory(prefix="grading_bench_") as tmp:
        tmp = Path(tmp)
        test = pd.read_csv(ANSWER_KEY, keep_default_na=False)  # perfect predictions
        predictions = tmp / "predictions.csv"
        pd.DataFrame({"text": test["text"], "label": test["label"].astype(int)}).to_csv(predictions, index=False)
        src_nb, rel_nb = nc.read(SOURCE_DIR / f"{ASSIGNMENT}.ipynb"), nc.read(RELEASE_DIR / f"{ASSIGNMENT}.ipynb")
        full = demo.fill(nbformat.from_dict(rel_nb), src_nb)
        cases = {f"full{i}": (full, predictions.read_bytes(), set()) for i in range(args.copies)}
        walls = {}
        for workers in (1, args.workers):
            submitted, out = tmp / f"submitted_{workers}", tmp / f"out_{workers}"
            out.mkdir()
            demo.write_class(cases, submitted)
            started = time.perf_counter()
            rows = grade_all(submitted, workers=workers, data=data, out_csv=out / "grades.csv",
                             main_db=out / "gradebook.db", copy_results=False, verbose=False)
            walls[workers] = time.perf_counter() - started
            per = [r["seconds"] for r in rows]
            scores = {r["auto_total"] for r in rows}
            print(f"workers={workers}: {len(rows)} submissions in {walls[workers]:.1f} s wall, "
                  f"{min(per):.1f}..{max(per):.1f} s per submission, auto scores {sorted(scores)}")
        print(f"speed-up with {args.workers} workers: {walls[1] / walls[args.workers]:.2f}x")


if __name__ == "__main__":
    main()
