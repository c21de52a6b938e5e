"""One course root and the folders every grading step derives from it (nbgrader's CourseDirectory
is the model): the real class is `Course(ROOT)`, the demo class `Course(ROOT / "build" / "demo")`,
a test or a cluster shard a folder of its own. The assignment's source is not part of it: it stays
in the repository (`coursekit.release.SOURCE_DIR`)."""
from dataclasses import dataclass
from pathlib import Path

from coursekit import ROOT


@dataclass(frozen=True)
class Course:
    root: Path = ROOT

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root).resolve())

    @property
    def submitted(self):
        """submitted/<login>/<assignment>/: what the students handed in (never written by grading)"""
        return self.root / "submitted"

    @property
    def autograded(self):
        """autograded/<login>/<assignment>/: the submission as graded, with the graded notebook"""
        return self.root / "autograded"

    @property
    def feedback(self):
        """feedback/<login>/<assignment>/<assignment>.html: what the student gets back"""
        return self.root / "feedback"

    @property
    def gradebook(self):
        return self.root / "gradebook.db"

    @property
    def grades_csv(self):
        return self.root / "grades.csv"
