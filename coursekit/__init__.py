"""Helpers shared by the course's tests, benchmarks, image script and grading tools."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_NB = ROOT / "solutions" / "task3_bert" / "task3_bert.ipynb"
RELEASE_NB = ROOT / "assignments" / "task3_bert" / "task3_bert.ipynb"
