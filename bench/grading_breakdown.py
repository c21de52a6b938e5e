"""Where the seconds of one graded submission go: the full solution graded in the sandbox with
one worker, each phase timed (copy, `nbgrader autograde` with the kernel's cells inside it, the
judge's replay, `nbgrader generate_feedback`) and the slowest cells named.

    python -m bench.grading_breakdown [--copies 1]

Needs the release (make release) and the data (make data); predictions are the test labels of the answer key.
"""
import argparse
import statistics
import tempfile
from pathlib import Path

from bench.grading_speed import full_solutions
from coursekit import demo
from coursekit.course import Course
from coursekit.grading import grade_all
from coursekit.solution import ANSWER_KEY, ensure_data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    data = ensure_data().resolve()
    with tempfile.TemporaryDirectory(prefix="grading_breakdown_") as tmp:
        course = Course(Path(tmp) / "course")
        demo.write_class(full_solutions(tmp, args.copies), course.submitted)
        graded = {}
        rows = grade_all(course, workers=1, data=data, answer_key=ANSWER_KEY, verbose=False, results=graded)
        results = list(graded.values())
    total = statistics.median(r["seconds"] for r in rows)
    print(f"{len(rows)} submission(s), median {total:.1f} s each, scores {sorted({r['auto_total'] for r in rows})}")
    phases = {}
    for r in results:
        for name, seconds in r.phases.items():
            phases.setdefault(name, []).append(seconds)
    cells = [sum(s for _, s, _, _ in r.cell_seconds) for r in results]
    for name, values in phases.items():
        median = statistics.median(values)
        print(f"  {name:<10} {median:6.1f} s  {median / total:6.1%}")
        if name == "autograde":
            kernel = statistics.median(cells)
            print(f"    cells in the kernel {kernel:6.1f} s; nbgrader, kernel start and stop {median - kernel:6.1f} s")
    print(f"slowest cells (first submission):")
    for index, seconds, gid, first in sorted(results[0].cell_seconds, key=lambda c: -c[1])[:args.top]:
        print(f"  cell {index:>3} {seconds:6.2f} s  {gid or '-':<22} {first}")


if __name__ == "__main__":
    main()
