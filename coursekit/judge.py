"""The grader's half of every check: replay the records a submission's kernel recorded.

At grading the kernel runs with TASK3_RECORD_DIR/TASK3_RECORD_SEED set, so each `tests.test_*` call in
a check cell also writes `<check>.npz` (JSON + numpy arrays, no pickle) into that directory. This
module replays them with the INSTRUCTOR's copy of tests.py (solutions/task3_bert/tests.py), in a
process that never runs student code: the references and comparisons are computed here, from the
record's data. A check cell's points come from this verdict, not from the notebook's output.

    python -m coursekit.judge --records DIR --seed N --names GRADE_ID=CHECK,... [--checks solutions/task3_bert/tests.py]
prints {record: [passed, message]} as JSON (one line). The grader's SafeExecute takes each check
cell's record out of the kernel's folder right after that cell ran and saves it as
`<grade_id>.npz` (coursekit.outbox), so the points follow the check cell, not another call of the
same check, and no later cell can replace it. `judge_submission` runs that in a process of
its own (coursekit.warm) with a memory cap and a timeout, so a hostile record cannot take the grader down.

Also here: which grade cell is which check (`check_cells`), what the notebook itself claimed
(`claimed_passes`), and a static scan for code that reaches for the grading machinery
(`suspicious_code`): both only flag a submission for review, they never change points.
"""
import argparse
import ast
import json
import os
import re
import tempfile
import time
from pathlib import Path

from coursekit import ROOT
from coursekit import notebook_cells as nc


CHECKS = ROOT / "solutions" / "task3_bert" / "tests.py"
CALL_RE = re.compile(r"^\s*tests\.(test_\w+)\(", re.M)
RECORD_LIMIT = 256 << 20  # bytes of one record (= tests._RECORD_LIMIT)
JUDGE_MEMORY = 4 << 30  # bytes of address space for the replaying process


def check_cells(src_nb):
    """{grade_id: check name} for the autograded cells that call a `tests.test_*` check."""
    out = {}
    for cell in src_nb.cells:
        meta = nc.nbg(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            match = CALL_RE.search(cell.source)
            if match:
                out[meta["grade_id"]] = match.group(1)
    return out


def load_checks(path=CHECKS):
    import importlib.util
    spec = importlib.util.spec_from_file_location("task3_checks_judge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verdict(checks, records_dir, name, check, seed):
    path = Path(records_dir) / f"{name}.npz"
    if Path(records_dir).is_symlink() or not path.is_file() or path.is_symlink():
        return (False, f"{checks.__dict__[check].component}: проверка не выполнялась при автопроверке "
                       "(нет записи её хода): ячейка проверки не дошла до вызова или вызов был подменён")
    return checks.judge(check, str(path), seed)


def judge_dir(records_dir, seed, records, checks_path=CHECKS):
    """{record: (passed, message)} for `records` {record name: check name}: the file
    records_dir/<record>.npz replayed by that check; a missing or non-regular file fails."""
    checks = load_checks(checks_path)
    return {name: _verdict(checks, records_dir, name, check, seed) for name, check in records.items()}


def _replay_to_file(records_dir, seed, records, checks_path, out_path, done_path=None, deadline=None):
    """judge_dir into out_path (JSON). With done_path: each record is replayed as soon as it is there
    (the grader saves it whole right after its check cell, while later cells still run), the
    missing ones once done_path exists (the autograde is over); gives up at `deadline`."""
    checks = load_checks(checks_path)
    verdicts = {}
    while True:
        finished = done_path is None or Path(done_path).exists() or time.time() > (deadline or float("inf"))
        for name, check in records.items():
            if name not in verdicts and (finished or (Path(records_dir) / f"{name}.npz").exists()):
                verdicts[name] = _verdict(checks, records_dir, name, check, seed)
        if finished:
            break
        time.sleep(0.2)
    Path(out_path).write_text(json.dumps({k: list(v) for k, v in verdicts.items()}, ensure_ascii=False))


def _read_verdicts(out, names, rc):
    try:
        verdicts = json.loads(Path(out).read_text())
        return {name: (bool(verdicts[name][0]), str(verdicts[name][1])) for name in names}
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        reason = f"записи проверок не разобраны ({'время вышло' if rc is None else type(exc).__name__})"
        return {name: (False, reason) for name in names}


def judge_submission(records_dir, seed, records, timeout=300, checks_path=CHECKS):
    """judge_dir in a fresh process (coursekit.warm: forked from a server that has torch imported)
    with a memory cap and a timeout; on a crash or timeout every check fails with the reason."""
    from coursekit import warm
    names = sorted(records)
    if not names:
        return {}
    with tempfile.TemporaryDirectory(prefix="task3_judge_") as tmp:
        out = Path(tmp) / "verdicts.json"
        rc = warm.run(_replay_to_file, (str(records_dir), seed, dict(records), str(checks_path), str(out)),
                      os.environ, timeout, Path(tmp) / "judge.log", JUDGE_MEMORY)
        return _read_verdicts(out, names, rc)


class Replay:
    """The judge replaying a submission's records while its kernel runs (grade_one): start() before
    the autograde, finish() after it (it says the autograde is over and waits for the verdicts).
    The replaying process never runs student code; memory cap and timeout as judge_submission."""

    def __init__(self, records_dir, seed, records, folder, deadline, checks_path=CHECKS):
        from coursekit import warm
        self.names, self.out, self.done = sorted(records), Path(folder) / "verdicts.json", Path(folder) / "autograde.done"
        args = (str(records_dir), seed, dict(records), str(checks_path), str(self.out), str(self.done), deadline)
        self.process = warm.spawn(_replay_to_file, args, os.environ, Path(folder) / "judge.log", JUDGE_MEMORY)

    def finish(self, timeout=300):
        """{record: (passed, message)}; on a crash or timeout every check fails with the reason."""
        from coursekit import warm
        self.done.touch()
        return _read_verdicts(self.out, self.names, warm.wait(self.process, timeout))


def claimed_passes(nb, cells):
    """{grade_id: True if the notebook's own output of that check cell shows ✓ and no error}."""
    out = {}
    for cell in nb.cells:
        gid = nc.nbg(cell).get("grade_id")
        if gid in cells and cell.cell_type == "code":
            outputs = cell.get("outputs", [])
            text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
            out[gid] = "✓" in text and not any(o.get("output_type") == "error" for o in outputs)
    return out


# Names whose use in a student's code cell is worth a human look: they reach into the interpreter,
# the kernel, other processes or the check module instead of solving the task.
SUSPICIOUS_NAMES = {"get_ipython", "importlib", "builtins", "__builtins__", "ctypes", "gc", "subprocess",
                    "sys.modules", "sys.settrace", "sys.setprofile", "sys._getframe", "sys.excepthook",
                    "sys.displayhook", "inspect.stack", "inspect.currentframe", "os.kill", "os.killpg",
                    "os.system", "os.fork", "os.environ", "signal", "atexit", "threading", "multiprocessing",
                    "__import__", "exec", "eval", "compile", "globals", "setattr", "delattr"}
# torch's own attention and transformer blocks: the task is to write them (a human decides)
BUILT_IN_ATTENTION = {"multi_head_attention_forward", "MultiheadAttention", "scaled_dot_product_attention",
                      "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer"}
# ... and transformers' BERT blocks (some share the notebook's class names: only taken from transformers)
TRANSFORMERS_BERT = {"BertModel", "BertLayer", "BertEncoder", "BertAttention", "BertSelfAttention", "BertEmbeddings",
                     "BertForPreTraining", "BertForMaskedLM", "BertForSequenceClassification", "BertConfig"}
GRADING_ENV_RE = re.compile(r"TASK3_|NBGRADER_EXECUTION|TASK3_RECORD")
MAX_SCANNED_CHARS = 200_000  # a bigger cell is flagged, not parsed (the grader's memory is not the kernel's)
PATCHED_MODULES = {"torch", "tests", "np", "numpy", "nn", "F", "pd", "pandas", "sklearn", "transformers",
                   "tokenizers", "math", "random", "os", "sys", "json", "IPython"}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def suspicious_code(nb, src_nb=None):
    """Reasons to review: names from SUSPICIOUS_NAMES and assignments to attributes of library or
    check modules, in code cells that are not the instructor's locked cells (nor unchanged cells of
    the source notebook `src_nb`); IPython magics and shell escapes too. Sorted, one line each."""
    found = set()
    given = {c.source.strip() for c in src_nb.cells if c.cell_type == "code"} if src_nb is not None else set()
    for i, cell in enumerate(nb.cells):
        meta = nc.nbg(cell)
        if cell.cell_type != "code" or (meta.get("locked") and not meta.get("solution")) \
                or cell.source.strip() in given:
            continue
        if len(cell.source) > MAX_SCANNED_CHARS:
            found.add(f"ячейка {i}: {len(cell.source) // 1000} тыс. символов кода, не разобрана")
            continue
        if GRADING_ENV_RE.search(cell.source):
            found.add(f"ячейка {i}: читает переменные окружения проверки")
        lines = cell.source.splitlines()
        if any(line.lstrip().startswith(("%", "!")) for line in lines):
            found.add(f"ячейка {i}: магия IPython или команда оболочки")
        source = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in lines)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            name = _dotted(node) if isinstance(node, (ast.Attribute, ast.Name)) else None
            if name and any(name == s or name.startswith(s + ".") for s in SUSPICIOUS_NAMES):
                found.add(f"ячейка {i}: {name}")
            if isinstance(node, ast.Attribute) and node.attr in BUILT_IN_ATTENTION or \
                    isinstance(node, ast.Name) and node.id in BUILT_IN_ATTENTION or \
                    name and name.startswith("transformers.") and name.split(".")[-1] in TRANSFORMERS_BERT:
                found.add(f"ячейка {i}: готовый блок {getattr(node, 'attr', None) or node.id}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name.split(".")[-1] in BUILT_IN_ATTENTION or alias.name in TRANSFORMERS_BERT \
                            and (getattr(node, "module", None) or "").startswith("transformers"):
                        found.add(f"ячейка {i}: готовый блок {alias.name.split('.')[-1]}")
                    module = (getattr(node, "module", None) or alias.name).split(".")[0]
                    if module in {"importlib", "builtins", "ctypes", "gc", "subprocess", "signal", "inspect",
                                  "threading", "multiprocessing", "tests"} or alias.name == "tests":
                        found.add(f"ячейка {i}: import {module}")
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                dotted = _dotted(target) if isinstance(target, ast.Attribute) else None
                if dotted and dotted.split(".")[0] in PATCHED_MODULES:
                    found.add(f"ячейка {i}: присваивание {dotted}")
    return sorted(found)


def judge_into_gradebook(db_path, assignment, student, src_nb, autograded_nb, submitted_nb, records_dir, seed,
                         f1=None, f1_cell="test_f1", timeout=300, verdicts=None):
    """Replace the scores nbgrader derived from the kernel's outputs with the judge's verdicts, in
    the worker's gradebook `db_path` (before feedback is generated and scores are merged).

    Check cells score their points when the replay of their record records_dir/<grade_id>.npz
    passes, else 0, with the judge's message as the cell's automatic comment. `f1`: the grader's
    own result for the predictions file (dict with `points` and `message`) or None to leave the
    cell alone. `verdicts`: the replay's, if already made (Replay), else it is made here.
    Returns (review reasons, {grade_id: (passed, message, claimed ✓ in the notebook)})."""
    import warnings
    from nbgrader.api import Gradebook, MissingEntry
    src_cells = check_cells(src_nb)
    if verdicts is None:
        verdicts = judge_submission(records_dir, seed, src_cells, timeout)
    claimed = claimed_passes(autograded_nb, src_cells)
    decided = {gid: (*verdicts[gid], claimed.get(gid, False)) for gid in src_cells}
    review = [f"подозрительный код: {reason}" for reason in suspicious_code(submitted_nb, src_nb)]
    with Gradebook(f"sqlite:///{db_path}") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy chatter inside nbgrader's api
        try:
            nb = gb.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return review, decided
        comments = {c.name: c for c in nb.comments}
        for grade in nb.grades:
            if grade.name in src_cells:
                passed, message, shown = decided[grade.name]
                if shown and not passed:
                    review.append(f"{grade.name}: в ноутбуке ✓, а проверяющий: {message[:200]}")
                score, comment = (grade.max_score, None) if passed else (0.0, f"Проверяющий: {message}")
            elif grade.name == f1_cell and f1 is not None:
                score, comment = float(f1["points"]), f"Проверяющий: {f1['message']}"
            else:
                continue
            grade.auto_score, grade.needs_manual_grade = score, False
            if grade.name in comments:
                comments[grade.name].auto_comment = comment
        gb.db.commit()
    return review, decided


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--checks", type=Path, default=CHECKS)
    parser.add_argument("--names", required=True, help="comma-separated record=check pairs")
    args = parser.parse_args(argv)
    records = dict(pair.split("=", 1) for pair in args.names.split(","))
    verdicts = judge_dir(args.records, args.seed, records, args.checks)
    print(json.dumps({k: list(v) for k, v in verdicts.items()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
