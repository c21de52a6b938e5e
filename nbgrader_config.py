# nbgrader 0.9.6 configuration of the course "BERT и transfer learning" (assignment task3_bert).
#
# Use the make targets rather than raw nbgrader commands:
#   make release   -> python -m coursekit.release  (generate_assignment + checks that nothing leaked)
#   make autograde -> python -m coursekit.grading  (autograde in parallel workers, grades.csv, feedback)
# Both read this file. Every choice below was checked against the nbgrader 0.9.6 source.
import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))

# the custom preprocessors live in coursekit/ (installed by `make setup`: pip install -e .)
from coursekit.preprocessors import (  # noqa: E402
    DeduplicateIdsFixed, LimitOutputChars, OverwriteCellsFixed, SafeExecute)

# --- Layout -------------------------------------------------------------------------------------
c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "task3_bert_course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# submitted/, autograded/, feedback/ and gradebook.db keep nbgrader's defaults (all gitignored).

# Files never copied by nbgrader. Student output (predictions, run logs, weights) must never get
# into the release: a released test_predictions.csv would be 2.5 free points.
RELEASE_IGNORE = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*",
    "runs", "build", "test_predictions*.csv", "*.pt",
]
# ... but autograde copies the student's files from submitted/ with the same option, and it must
# bring test_predictions.csv along (the F1 grade cell reads it). runs/ logs come too; weights do not.
GRADING_IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "build", "*.pt"]
c.CourseDirectory.ignore = RELEASE_IGNORE
# `nbgrader collect` (JupyterHub exchange) copies with it too: with RELEASE_IGNORE the collected
# submission lost its test_predictions.csv (tests/test_term.py).
if len(sys.argv) > 1 and sys.argv[1] in ("autograde", "collect"):
    c.CourseDirectory.ignore = GRADING_IGNORE

# --- Release (generate_assignment) -------------------------------------------------------------
c.ClearSolutions.code_stub = {"python": "# ВАШ КОД ЗДЕСЬ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ВАШ ОТВЕТ ЗДЕСЬ"

# --- Autograde ----------------------------------------------------------------------------------
# Files of the submission that autograde must not replace with the instructor's copy from
# solutions/task3_bert/ (exact relative paths, no globs). tests.py IS replaced: the student's copy
# never counts.
c.Autograde.exclude_overwriting = {"task3_bert": ["test_predictions.csv"]}

# Grade cells deleted by the student are put back (OverwriteCells.add_missing_cells). nbgrader
# 0.9.6 fails the whole submission (KeyError) when the cell before the deleted one is locked-only
# (e.g. test_bert_layer after bert_layer); OverwriteCellsFixed inserts after the nearest preceding
# nbgrader cell instead. Duplicates: DeduplicateIds keeps the last copy; in 0.9.6 the other copies
# are left with `nbgrader: {}` and the submission fails (SchemaTooOldError, then a KeyError in
# add_missing_task_cells); DeduplicateIdsFixed and OverwriteCellsFixed handle both. A grade cell turned into markdown: OverwriteCells restores the type and the locked
# source (its checksum differs).
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    DeduplicateIdsFixed,
    "nbgrader.preprocessors.OverwriteKernelspec",
    OverwriteCellsFixed,
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Execution. Execute.timeout is per cell (ExecutePreprocessor.timeout is not read by nbgrader).
# In grading mode (NBGRADER_EXECUTION is set) nothing trains; the slowest cell in the smoke profile
# is the tokenizer training (a few seconds), on the full data ~1-2 min on 2 cores. On timeout the
# kernel is interrupted and the cell gets a CellTimeoutError output (0 points if it is a grade cell).
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True
# after the last cell the kernel is killed, not asked to stop and awaited (2 s of every submission):
# it has nothing left to write that the grader reads, and the sandbox is removed either way
c.Execute.shutdown_kernel = "immediate"
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:"]

# A dead kernel (os._exit, segfault, OOM) makes nbclient raise DeadKernelError and nbgrader then
# drops the whole submission. SafeExecute keeps the cells that ran and marks every cell after the
# crash with an error output, so a grade cell after the crash scores 0 (an unexecuted grade cell
# with no output would otherwise get full points), and the cells before it keep their points.
# LimitOutputChars: LimitOutput counts lines only; one 50 MB line, HTML or image would stay in the
# notebook and its feedback. It caps every output type (errors and a grade cell's result are only
# shortened: nbgrader scores a grade cell without them as passed). When coursekit.grading sets
# TASK3_SANDBOX, SafeExecute starts the kernel in the bubblewrap sandbox (coursekit/sandbox.py).
c.Autograde.autograde_preprocessors = [
    SafeExecute,
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    LimitOutputChars,
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# nbgrader's determine_grade gives 0 to a grade cell with ANY stderr output. Warnings (torch,
# transformers, the student's own warnings.warn inside a component) are not failures, so stderr is
# dropped before grading; a failed check is an exception ('error' output) and still scores 0.
# (coursekit.grading also starts the kernels with PYTHONWARNINGS=ignore.)
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"

# --- Late work (coursekit/late.py): THE deadline and penalty of the course --------------------------
# The deadline becomes the gradebook assignment's duedate; a submission's time is its timestamp.txt
# (nbgrader submit/collect, or coursekit.collect from the LMS archive); extensions are nbgrader's.
# Penalty: per_day of the score per started day late, at most cap; grades.csv: late_days,
# late_penalty, final. Empty duedate: no deadline.
from coursekit.late import LatePenalty  # noqa: E402
c.AssignLatePenalties.plugin_class = LatePenalty
c.LatePenalty.duedate = "2026-12-20 23:59:00 +0300"
c.LatePenalty.per_day = 0.1
c.LatePenalty.cap = 0.5

c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
c.LimitOutputChars.max_chars = 100_000

# The F1 grade cell's score is not nbgrader's: coursekit.grading replaces it with the grader's F1
# points of the submitted test_predictions.csv (coursekit.answer_key); the cell returns nothing.
