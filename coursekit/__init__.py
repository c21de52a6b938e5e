"""The course's code: build (release, solution run, pictures), grading (sandbox, judge, answer key),
the demo class and instructor training. Module map: docs/maintainers.md."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_NB = ROOT / "solutions" / "task3_bert" / "task3_bert.ipynb"
RELEASE_NB = ROOT / "assignments" / "task3_bert" / "task3_bert.ipynb"
