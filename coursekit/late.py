"""Late work: one setting in nbgrader_config.py, nbgrader's own mechanisms.

    c.LatePenalty.duedate = "2026-12-20 23:59:00 +0300"   # empty: no deadline
    c.LatePenalty.per_day = 0.1                            # share of the score per started day late
    c.LatePenalty.cap = 0.5                                # at most this share

The deadline goes into the gradebook as the assignment's `duedate` (set_duedate, called by
grading before any submission is graded); the time of a submission is its timestamp.txt (written
by `nbgrader submit`/`collect`, or by coursekit.collect from the LMS archive), which nbgrader's
autograde stores as the submission's timestamp; a per-student extension is nbgrader's too
(`Gradebook.add_extension`, formgrader). LatePenalty is the plugin of nbgrader's
AssignLatePenalties preprocessor (a LateSubmissionPlugin). Since the grader decides the points
after nbgrader (coursekit.judge, manual grading), the penalty is computed again from the main
gradebook's scores by `assess` and stored in each notebook's `late_submission_penalty` (what
formgrader and `nbgrader export` show); grades.csv gets `late_days`, `late_penalty` and `final`
(total minus the penalty). The points of the cells are never changed.
"""
import math
import warnings

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, Unicode

from coursekit import ROOT
from coursekit.release import ASSIGNMENT

DAY = 86400


class LatePenalty(LateSubmissionPlugin):
    """A fixed share of the score per started day late, capped."""
    duedate = Unicode("", help="deadline with its time zone, e.g. '2026-12-20 23:59:00 +0300'; "
                               "empty: no deadline").tag(config=True)
    per_day = Float(0.1, help="share of the score taken per started day late").tag(config=True)
    cap = Float(0.5, help="largest share taken").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        if not total_seconds_late or total_seconds_late <= 0:
            return None
        share = min(self.cap, self.per_day * math.ceil(total_seconds_late / DAY))
        return round(max(score or 0.0, 0.0) * share, 4)


def settings(config_dir=ROOT):
    """The LatePenalty of the course's nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()
    return LatePenalty(config=config)


def set_duedate(db_path, policy=None):
    """Write the configured deadline into the gradebook's assignment (None when there is none)."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc
    policy = policy or settings()
    try:
        duedate = parse_utc(policy.duedate) if policy.duedate.strip() else None
    except Exception:
        raise SystemExit(f"срок сдачи c.LatePenalty.duedate = {policy.duedate!r} не разобран: "
                         f"ожидается дата вроде '2026-12-20 23:59:00 +0300'")
    with Gradebook(f"sqlite:///{db_path}") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(ASSIGNMENT, duedate=duedate)
    return duedate


def assess(gb, student, policy=None):
    """{late_days, late_penalty, final} of one student from gradebook `gb` (an open
    nbgrader.api.Gradebook), storing the penalty in the notebook as nbgrader does."""
    from nbgrader.api import MissingEntry
    policy = policy or settings()
    try:
        sub = gb.find_submission(ASSIGNMENT, student)
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
    except MissingEntry:
        return dict(late_days="", late_penalty="", final="")
    score = sum(((g.manual_score if g.manual_score is not None else g.auto_score) or 0.0) + (g.extra_credit or 0.0)
                for g in nb.grades)  # as formgrader shows it: manual over auto, plus extra credit (bonus)
    seconds = sub.total_seconds_late
    penalty = policy.late_submission_penalty(student, score, seconds) or 0.0
    penalty = min(max(penalty, 0.0), score)  # as nbgrader's AssignLatePenalties clips it
    nb.late_submission_penalty = penalty or None
    gb.db.commit()
    return dict(late_days=math.ceil(seconds / DAY) if seconds > 0 else 0, late_penalty=round(penalty, 4),
                final=round(score - penalty, 4))


def add_columns(db_path, rows, policy=None):
    """Add late_days, late_penalty, final to grades.csv rows (student in row['student'])."""
    from nbgrader.api import Gradebook
    policy = policy or settings()
    with Gradebook(f"sqlite:///{db_path}") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows:
            row.update(assess(gb, row["student"], policy) if row.get("status") != "refused"
                       else dict(late_days="", late_penalty="", final=""))
    return rows
