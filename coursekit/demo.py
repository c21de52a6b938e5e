"""Demo class: build submissions from the source and the release, autograde them, compare with the
expected scores (last step of `make demo`).

    python -m coursekit.demo [--only full,untouched] [--workers 2] [--cell-timeout 60]

The demo class lives in its own course root, build/demo/ (submitted/, autograded/, feedback/,
gradebook.db, grades.csv): the real class in the repository root is never touched. Expected
scores are derived from the source notebook's points per grade cell: every autograded cell, minus
the cells each case is built to fail; test_f1 is worth coursekit.answer_key.score() of the
predictions that case submits (the grader's number, whatever the notebook did). Written answers need manual grading and are not counted.
Exit status 1 when an actual score differs from the expected one.
"""
import argparse
import datetime as dt
import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat
import pandas as pd
import psutil

from coursekit import ROOT
from coursekit import answer_key as ak
from coursekit import notebook_cells as nc
from coursekit import similarity
from coursekit.course import Course
from coursekit.disguise import disguise
from coursekit.grading import DEFAULT_DATA, grade_all
from coursekit.release import ASSIGNMENT, RELEASE_DIR, SOURCE_DIR

PREDICTIONS = ROOT / "build" / "test_predictions.smoke.csv"
DEMO_DIR = ROOT / "build" / "demo"
F1_CELL = "test_f1"


def code_cell(source):
    return nbformat.v4.new_code_cell(source)


def strip_markers(source):
    return "\n".join(line for line in source.splitlines() if not any(m in line for m in nc.MARKERS))


def fill(nb, src_nb, parts=None):
    """Release notebook with solution cells filled from the source (only `parts` if given)."""
    part_of, part = {}, None
    for cell in src_nb.cells:
        m = nc.PART_RE.search(cell.source) if cell.cell_type == "markdown" else None
        if m:
            part = int(m.group(2)) if m.group(2) else "bonus"
        if nc.nbg(cell).get("solution"):
            part_of[nc.nbg(cell)["grade_id"]] = (part, strip_markers(cell.source))
    for cell in nb.cells:
        gid = nc.nbg(cell).get("grade_id")
        if nc.nbg(cell).get("solution") and gid in part_of and (parts is None or part_of[gid][0] in parts):
            cell.source = part_of[gid][1]
    return nb


def index_of(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if nc.nbg(c).get("grade_id") == grade_id)


def part_heading(nb, n):
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith(f"## Часть {n}"))


def load_tests(source_dir):
    spec = importlib.util.spec_from_file_location("task3_tests_for_demo", Path(source_dir) / "tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_cases(src_nb, rel_nb, predictions, data, answer_key=ak.DEFAULT_KEY):
    """{case: (notebook, predictions file bytes or None, set of grade ids expected to fail,
    'crash before index' or None)}."""
    cells = nc.grade_cells(src_nb)
    auto = [c["grade_id"] for c in cells if c["auto"]]
    full = lambda: fill(nbformat.from_dict(rel_nb), src_nb)  # noqa: E731
    preds = Path(predictions).read_bytes()
    cases = {}

    cases["full"] = (full(), preds, set())
    cases["untouched"] = (nbformat.from_dict(rel_nb), None, set(auto))
    partial = fill(nbformat.from_dict(rel_nb), src_nb, parts={1, 2})
    cases["partial_parts12"] = (partial, None, {c["grade_id"] for c in cells if c["auto"] and c["part"] not in (1, 2)})

    nb = full()  # the cell before test_bert_layer is locked-only: nbgrader 0.9.6 alone would crash
    del nb.cells[index_of(nb, "test_bert_layer")]
    del nb.cells[index_of(nb, "test_optimizer")]
    cases["grade_cells_deleted"] = (nb, preds, set())

    nb = full()
    i = index_of(nb, "test_attention")
    nb.cells.insert(i, nbformat.from_dict(nb.cells[i]))
    nb.cells[i].id = nb.cells[i].id + "-copy"
    nb.cells[i].source = "# копия ячейки проверки\nprint('ok')"
    cases["grade_cell_duplicated"] = (nb, preds, set())

    nb = full()
    i = index_of(nb, "test_init_layer")
    nb.cells[i] = nbformat.v4.new_markdown_cell(nb.cells[i].source, metadata=nb.cells[i].metadata)
    cases["grade_cell_retyped"] = (nb, preds, set())

    nb = full()  # attention broken for its own check only (restored right after), tests patched
    i = index_of(nb, "attention")
    nb.cells[i].source += ("\n\n# сломанное внимание: слой ничего не делает\n"
                           "_good_forward = MultiHeadSelfAttention.forward\n"
                           "MultiHeadSelfAttention.forward = lambda self, embeddings, attention_mask: embeddings\n"
                           "tests.test_attention = lambda *args, **kwargs: print('✓ всё хорошо')\n")
    nb.cells.insert(index_of(nb, "test_attention") + 1,
                    code_cell("MultiHeadSelfAttention.forward = _good_forward"))
    cases["tests_monkeypatched"] = (nb, preds, {"test_attention"})

    nb = full()
    i = index_of(nb, "collate_fn")
    nb.cells[i].source += ("\n\nclass _AlwaysEqual:\n    def __eq__(self, other):\n        return True\n\n"
                           "    __hash__ = object.__hash__\n\n\n"
                           "def collate_fn(batch, pad_idx):\n    return _AlwaysEqual(), _AlwaysEqual()\n")
    cases["eq_always_true"] = (nb, preds, {"test_collate_fn"})

    nb = full()
    nb.cells.insert(index_of(nb, "import_tests") + 1, code_cell("while True:\n    pass"))
    cases["infinite_loop"] = (nb, preds, set())

    nb = full()
    crash_at = part_heading(nb, 3)
    nb.cells.insert(crash_at, code_cell("import os\nos._exit(1)"))
    part12 = {c["grade_id"] for c in cells if c["part"] in (1, 2)}
    cases["kernel_crash"] = (nb, preds, {g for g in auto if g not in part12})

    nb = full()
    for gid in ("init_layer", "attention"):
        i = index_of(nb, gid)
        nb.cells[i].source = ("import sys\nimport warnings\nwarnings.warn('x')\n"
                              "print('предупреждение на stderr', file=sys.stderr)\n" + nb.cells[i].source)
    i = index_of(nb, "init_layer")  # and inside a component, so that it fires in a grade cell
    nb.cells[i].source += ("\n\n_init_layer = init_layer\n\n\ndef init_layer(*args, **kwargs):\n"
                           "    warnings.warn('x')\n    print('шум', file=sys.stderr)\n"
                           "    return _init_layer(*args, **kwargs)\n")
    cases["warnings_stderr"] = (nb, preds, set())

    nb = full()
    nb.cells.insert(index_of(nb, "import_tests") + 1, code_cell("print('x' * 50_000_000)"))
    cases["huge_output"] = (nb, preds, set())

    nb = full()
    i = index_of(nb, "finetune_trainer")
    nb.cells[i].source += "\n\ndef broken(:\n    pass\n"
    cases["syntax_error"] = (nb, preds, {"test_finetune_trainer"})

    # true test labels with 2 of every 5 replaced: F1 about 0.6, between the 0.5 and 0.7 thresholds,
    # whatever the quality of the solution's own predictions
    test = pd.read_csv(answer_key, keep_default_na=False)
    labels = [int(y) if k % 5 > 1 else (int(y) + 1) % 96 for k, y in enumerate(test["label"])]
    partial_csv = pd.DataFrame({"text": test["text"], "label": labels}).to_csv(index=False).encode()
    cases["predictions_partial"] = (full(), partial_csv, set())
    cases["predictions_missing"] = (full(), None, {F1_CELL})
    cases["predictions_wrong_columns"] = (full(), b"id,pred\n1,2\n3,4\n", {F1_CELL})
    cases["predictions_garbage"] = (full(), b"\x00\xff garbage \x13\n\"unterminated,,,\n", {F1_CELL})
    # a copy of the solution with renamed variables and reordered helpers: full points, and the
    # similarity report (coursekit.similarity) names demo_full in its similar_to
    nb = full()
    for cell in nb.cells:
        if nc.nbg(cell).get("solution") and cell.cell_type == "code":
            cell.source = disguise(cell.source)
    cases["copied_renamed"] = (nb, preds, set())
    # handed in 1 day 2 hours after the deadline of nbgrader_config.py (coursekit.late): full points,
    # late_days 2 and the penalty in grades.csv
    if late_timestamp():  # only when the course has a deadline
        cases["late"] = (full(), preds, set())
        TIMESTAMPS["late"] = late_timestamp()
    return cases


TIMESTAMPS = {}  # case -> timestamp.txt content


def late_timestamp(after=dt.timedelta(days=1, hours=2)):
    from nbgrader.utils import parse_utc
    from coursekit.late import settings
    duedate = settings().duedate.strip()
    return (parse_utc(duedate) + after).strftime("%Y-%m-%d %H:%M:%S UTC") if duedate else None

# --- Attacks ------------------------------------------------------------------------------------
# Hostile submissions: each tries to harm the grader or the other students of the same batch
# (demo_full and every other case are its victims: their expected scores above must hold) and
# gets its own expected score and status. Attacks that fail do nothing visible; the paths they
# aim at are the real ones (a student could guess them).
ORPHAN_MARKER = "task3_demo_orphan"
ATTACK_STATUS = {}   # case -> expected status
ATTACK_FILES = {}    # case -> function(submission folder) that plants files write_class cannot


def attack_cell(nb, source, before=None):
    """Insert an attack cell right after import_tests, or before the cell index `before`."""
    nb.cells.insert(before if before is not None else index_of(nb, "import_tests") + 1, code_cell(source))
    return nb


def build_attack_cases(src_nb, rel_nb, predictions, data):
    cells = nc.grade_cells(src_nb)
    auto = [c["grade_id"] for c in cells if c["auto"]]
    after_part2 = {g for g in auto if g not in {c["grade_id"] for c in cells if c["part"] in (1, 2)}}
    full = lambda: fill(nbformat.from_dict(rel_nb), src_nb)  # noqa: E731
    preds = Path(predictions).read_bytes()
    root = str(ROOT)
    cases = {}

    def case(name, nb, files, failing, status="ok"):
        cases[name] = (nb, files, failing)
        ATTACK_STATUS[name] = status

    case("attack_other_students", attack_cell(full(), f"""import glob, os, subprocess, sys
targets = glob.glob('{root}/submitted/*/task3_bert/*') + glob.glob('/tmp/task3_grading*/work/*/autograded/*/task3_bert/*')
targets += glob.glob('{root}/feedback/*/task3_bert/*') + glob.glob('{root}/autograded/*/task3_bert/*')
for path in targets:
    try:
        open(path, 'w').write('<h1>0 баллов</h1>' if path.endswith('.html') else '')
    except OSError:
        pass
# a detached child that keeps emptying the others' predictions after the kernel is gone
code = "import glob, time\\nwhile True:\\n    [open(f, 'w').close() for f in glob.glob('/tmp/task3_grading*/work/*/autograded/*/*/test_predictions.csv')]\\n    time.sleep(0.5)"
subprocess.Popen([sys.executable, '-c', code, '{ORPHAN_MARKER}'], start_new_session=True)
print('целей найдено:', len(targets))"""), preds, set())

    case("attack_grader_files", attack_cell(full(), f"""import glob, sqlite3
def spoil(path, data, mode='a'):
    try:
        open(path, mode).write(data)
    except OSError:
        pass
spoil('{root}/nbgrader_config.py', "\\nc.Execute.timeout = 1\\n")
spoil('{root}/coursekit/grading.py', "\\nraise SystemExit('взлом')\\n")
spoil('tests.py', "\\ndef test_attention(*a, **k):\\n    print('ok')\\n")
for db in glob.glob('{root}/gradebook.db') + glob.glob('{root}/build/demo/gradebook.db') + glob.glob('/tmp/task3_grading*/*.db'):
    try:
        con = sqlite3.connect(db)
        con.execute('update grade set manual_score = 100')
        con.commit()
    except Exception:
        pass
    spoil(db, 'SQLite format 3\\0 испорчено', 'r+')"""), preds, set())

    case("attack_kill_grader", attack_cell(full(), """import os, signal
for pid in [os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)  # everything this user may signal, except the kernel itself
except OSError:
    pass"""), preds, set())

    case("attack_leak_source", attack_cell(full(), f"""from IPython.display import HTML, display
for path in ['{root}/solutions/task3_bert/task3_bert.ipynb', '{Path(data).resolve()}', '{root}/gradebook.db']:
    try:
        display(HTML('<pre>' + open(path, errors='replace').read() + '</pre>'))
    except OSError as exc:
        print('нет доступа:', type(exc).__name__)
display(HTML('<pre>' + 'x' * 50_000_000 + '</pre>'))"""), preds, set())

    case("attack_memory_10gib", attack_cell(full(), "x = bytearray(10 * 2**30)", part_heading(full(), 3)),
         preds, after_part2, "memory")
    case("attack_sigint_ignored", attack_cell(full(), "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                              "while True:\n    pass", part_heading(full(), 3)),
         preds, after_part2, "cell_timeout")

    # files write_class cannot make: links to the solution and to the grader's predictions, a device
    case("attack_symlinked_notebook", full(), None, set(auto), "failed")
    ATTACK_FILES["attack_symlinked_notebook"] = lambda dest: (
        (dest / f"{ASSIGNMENT}.ipynb").unlink(),
        (dest / f"{ASSIGNMENT}.ipynb").symlink_to(SOURCE_DIR / f"{ASSIGNMENT}.ipynb"),
        (dest / "test_predictions.csv").symlink_to(Path(predictions).resolve()))
    case("attack_dev_zero_predictions", full(), None, {F1_CELL})
    ATTACK_FILES["attack_dev_zero_predictions"] = lambda dest: (dest / "test_predictions.csv").symlink_to("/dev/zero")

    # the way out of the sandbox: links to what the grader protects, then the kernel ends by itself;
    # files and outputs left for the copy-back, the feedback and the instructor's browser
    links = f"""import os
for name, target in [('answer_key.csv', '{Path(ak.DEFAULT_KEY).resolve()}'), ('source.ipynb', '{SOURCE_DIR}/task3_bert.ipynb'),
                     ('solution.ipynb', '{SOURCE_DIR}/task3_bert.ipynb'), ('shadow', '/etc/shadow'),
                     ('tests_template.py', '{SOURCE_DIR}/tests.py'), ('zero.csv', '/dev/zero'), ('zero.ipynb', '/dev/zero')]:
    os.symlink(target, name)
"""
    # exit() asks the front end to stop the kernel; ipykernel sometimes stops it, sometimes not: as the
    # last cell, the points are the same either way (the status is ok or crashed)
    nb = full()
    nb.cells.append(code_cell(links + "exit()"))
    cases["attack_links_then_exit"] = (nb, preds, set())
    case("attack_links_then_os_exit", attack_cell(full(), links + "os.remove('task3_bert.ipynb')\n"
                                                  f"os.symlink('{SOURCE_DIR}/task3_bert.ipynb', 'task3_bert.ipynb')\n"
                                                  "os._exit(1)", part_heading(full(), 3)),
         preds, after_part2, "crashed")
    case("attack_left_behind", attack_cell(full(), """import os
open('big.bin', 'wb').write(b'1' * (50 << 20))
open('fake_grades.html', 'w').write('<h1>10 / 10</h1>')
open('\\n=cmd|calc!A0\\r.csv', 'w').write('=1+1')
os.makedirs('a/b/c', exist_ok=True)
open('a/b/c/deep.txt', 'w').write('deep')
for target in ('/dev/fill', '/proc/self/fd/1', '/proc/self/fd/2'):  # /dev is read-only; 1, 2: a capped pipe
    try:
        with open(target, 'wb', buffering=0) as f:
            f.write(b'L' * (64 << 20))
    except OSError as exc:
        print(target, type(exc).__name__)"""), preds, set())
    script = "document.title = 'xss-demo'"
    case("attack_script_outputs", attack_cell(full(), f"""from IPython.display import HTML, Javascript, display
display(Javascript("{script}"))
display(HTML("<script>{script}</script><img src=x onerror=\\"{script}\\"><a href='javascript:{script}'>a</a>"))
display({{'image/svg+xml': "<svg xmlns='http://www.w3.org/2000/svg' onload=\\"{script}\\"><script>{script}</script></svg>"}}, raw=True)"""),
         preds, set())
    nb = full()
    nb.cells.insert(index_of(nb, "import_tests") + 1, nbformat.v4.new_markdown_cell(
        f"<script>{script}</script> <img src=x onerror=\"{script}\"> [ссылка](javascript:{script})"))
    cases["attack_script_outputs"] = (nb, preds, set())
    case("attack_huge_cell", attack_cell(full(), "# " + "x" * 5_000_000 + "\npass"), preds, set())

    # a notebook nbgrader cannot read: `failed` scores 0, the F1 cell too (the file is not graded
    # without the notebook that made it)
    case("broken_notebook", full(), preds, set(auto), "failed")
    ATTACK_FILES["broken_notebook"] = lambda dest: (dest / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')

    # untidy but honest
    case("untidy_renamed_notebook", full(), preds, set())
    ATTACK_FILES["untidy_renamed_notebook"] = lambda dest: (dest / f"{ASSIGNMENT}.ipynb").rename(
        dest / f"{ASSIGNMENT} (1).ipynb")
    nb = full()
    extra = nbformat.from_dict(nb.cells[index_of(nb, "test_attention")])
    extra.id, extra.source = extra.id + "-mine", "print('моя проверка')"
    extra.metadata["nbgrader"]["grade_id"] = "test_mine"
    nb.cells.insert(index_of(nb, "test_attention") + 1, extra)
    case("untidy_timestamp_and_extra_cell", nb, preds, set())
    ATTACK_FILES["untidy_timestamp_and_extra_cell"] = lambda dest: (dest / "timestamp.txt").write_text("вчера")
    return cases


def leftover_processes():
    """Processes the demo's attacks started that are still alive (must be none)."""
    return [p.pid for p in psutil.process_iter(["cmdline"]) if ORPHAN_MARKER in " ".join(p.info["cmdline"] or [])]


# --- Attacks on the score itself (issue 10): none may earn a point that the work did not ------------

# One cell each, added to the untouched release right after `import tests`: the kernel belongs to
# the student, so each of these can make the notebook SHOW passing checks; the points come from the
# grader's replay and F1, so every case must score 0.
TAMPERING = {
    "input_transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
    "display_hooks": ("import sys\n"
                      "get_ipython().display_formatter.formatters['text/plain'].for_type(\n"
                      "    object, lambda obj, p, cycle: p.text('2.5'))\n"
                      "sys.displayhook = lambda value: print('✓ всё хорошо')"),
    "custom_exc": ("get_ipython().set_custom_exc(\n"
                   "    (BaseException,), lambda shell, etype, value, tb, tb_offset=None: print('✓ всё хорошо'))"),
    "excepthook": "import sys\nsys.excepthook = lambda *args: print('✓ всё хорошо')",
    "checkerror_patched": ("tests.CheckError = type('CheckError', (Exception,), {})\n"
                           "tests._fail = lambda *args, **kwargs: None"),
    "tests_in_sys_modules": ("import sys, types\n"
                             "fake = types.ModuleType('tests')\n"
                             "fake.__getattr__ = lambda name: (lambda *a, **k: print('✓ всё хорошо'))\n"
                             "sys.modules['tests'] = fake\n"
                             "tests = fake"),
    "checks_replaced": ("for _name in tests.__all__:\n"
                        "    setattr(tests, _name, lambda *a, **k: print('✓ все проверки пройдены'))"),
    "torch_patched": ("import torch\n"
                      "torch.allclose = lambda *a, **k: True\n"
                      "torch.equal = lambda *a, **k: True\n"
                      "torch.Tensor.abs = lambda self: self * 0"),
    "labels_hunted": ("import glob, os\n"
                      "_found = [p for p in glob.glob('../**/*.csv', recursive=True) + glob.glob('/work*/**/*answer*')\n"
                      "          if os.path.isfile(p)]\n"
                      "print(_found, os.environ.get('TASK3_GRADER_DATA'), os.environ.get('TASK3_ANSWER_KEY'))"),
}

# Written as the notebook's LAST cell: forged records of every check, claiming a pass with the seed
# the kernel was given (a record must still replay against the grader's references).
FORGED_RECORDS = """import json, os
import numpy as np
_dir = os.environ.get('TASK3_RECORD_DIR')
if _dir:
    os.makedirs(_dir, exist_ok=True)
    for _name in tests.__all__:
        _header = dict(version=1, check=_name, seed_offset=int(os.environ.get('TASK3_RECORD_SEED', '0')),
                       args=[], kwargs=[], calls=[], end=dict(ok=True, message=''))
        np.savez(os.path.join(_dir, _name + '.npz'),
                 record=np.frombuffer(json.dumps(_header).encode(), dtype=np.uint8))
print('✓ все проверки пройдены')"""


# init_layer of the solution, and the same written as the text suggests, through .data (an honest
# submission: it must get full points through the record and the replay; tests/idioms.py too)
INIT_BODY = """    with torch.no_grad():
        nn.init.trunc_normal_(
            layer.weight, std=initializer_range, a=-2 * initializer_range, b=2 * initializer_range
        )
        if zero_out_bias and getattr(layer, 'bias', None) is not None:
            layer.bias.zero_()
"""
INIT_DATA_WRITES = """    nn.init.trunc_normal_(layer.weight.data, std=initializer_range,
                          a=-2 * initializer_range, b=2 * initializer_range)
    if zero_out_bias and layer.bias is not None:
        layer.bias.data.zero_()
"""


def integrity_cases(src_nb, rel_nb, predictions, answer_key):
    """{case: (notebook, predictions, failing grade ids)} for the attacks on the score."""
    auto = {c["grade_id"] for c in nc.grade_cells(src_nb) if c["auto"]}
    full = lambda: fill(nbformat.from_dict(rel_nb), src_nb)  # noqa: E731
    preds = Path(predictions).read_bytes()
    texts = pd.read_csv(answer_key, keep_default_na=False)["text"]
    zero_preds = pd.DataFrame({"text": texts, "label": 0}).to_csv(index=False).encode()
    cases = {}
    for case, source in TAMPERING.items():
        nb = nbformat.from_dict(rel_nb)
        nb.cells.insert(index_of(nb, "import_tests") + 1, code_cell(source))
        cases[f"tamper_{case}"] = (nb, None, auto)
    nb = nbformat.from_dict(rel_nb)
    nb.cells.append(code_cell(FORGED_RECORDS))
    cases["tamper_forged_records"] = (nb, None, auto)

    # a full solution whose F1 cell shows nothing, with all-zero predictions: the grader's F1 counts
    nb = full()
    nb.cells.insert(index_of(nb, "import_tests") + 1, code_cell("get_ipython().ast_node_interactivity = 'none'"))
    cases["tamper_f1_cell_silenced"] = (nb, zero_preds, set())

    # broken components whose checks are "protected" by patching what the check uses: only the
    # broken component loses its points (restored right after its check, as tests_monkeypatched)
    nb = full()
    i = index_of(nb, "feedforward")
    nb.cells[i].source += ("\n\n# сломанный FeedForward и «защита» от перечитывания tests\n"
                           "import importlib\nimportlib.reload = lambda module, *a, **k: module\n"
                           "_good_ff = FeedForward.forward\n"
                           "FeedForward.forward = lambda self, embeddings: embeddings\n")
    nb.cells.insert(index_of(nb, "test_feedforward") + 1, code_cell("FeedForward.forward = _good_ff"))
    cases["tamper_reload_patched"] = (nb, preds, {"test_feedforward"})

    nb = full()
    i = index_of(nb, "attention")
    nb.cells[i].source += ("\n\n# сломанное внимание, подменённый tests.py на диске и «всегда равные» тензоры\n"
                           "_good_att = MultiHeadSelfAttention.forward\n"
                           "MultiHeadSelfAttention.forward = lambda self, embeddings, attention_mask: embeddings\n"
                           "try:\n"
                           "    with open('tests.py', 'a') as _f:\n"
                           "        _f.write('\\ntest_attention = lambda *a, **k: print(\"✓\")\\n')\n"
                           "except OSError:\n"
                           "    pass\n"
                           "import torch\n"
                           "_good_abs, torch.Tensor.abs = torch.Tensor.abs, lambda self: self * 0\n")
    nb.cells.insert(index_of(nb, "test_attention") + 1, code_cell(
        "MultiHeadSelfAttention.forward = _good_att\ntorch.Tensor.abs = _good_abs"))
    cases["tamper_tests_file_and_torch"] = (nb, preds, {"test_attention"})

    # a broken FeedForward, its check cell fails; a later cell rewinds IPython's counter to the check
    # cell's and reruns the check with the fixed class: the check cell's record was taken already
    nb = full()
    i = index_of(nb, "feedforward")
    nb.cells[i].source += ("\n\n# сломанный FeedForward на время его проверки\n"
                           "_good_ff = FeedForward.forward\n"
                           "FeedForward.forward = lambda self, embeddings: embeddings\n")
    nb.cells.insert(index_of(nb, "test_feedforward") + 1, code_cell(
        "FeedForward.forward = _good_ff\n"
        "_ip = get_ipython()\n"
        "_n = max(i for i, src in enumerate(_ip.user_ns['In']) if 'tests.test_feedforward(' in src)\n"
        "_now, _ip.execution_count = _ip.execution_count, _n + 1\n"
        "tests.test_feedforward(FeedForward)\n"
        "_ip.execution_count = _now"))
    cases["tamper_counter_rewind"] = (nb, preds, {"test_feedforward"})

    # honest work in the idioms students really write (init_layer through .data): full points
    nb = full()
    i = index_of(nb, "init_layer")
    body = INIT_BODY.rstrip("\n")  # the cell ends without a newline
    assert body in nb.cells[i].source, "init_layer changed: update INIT_BODY in coursekit/demo.py"
    nb.cells[i].source = nb.cells[i].source.replace(body, INIT_DATA_WRITES.rstrip("\n"))
    cases["honest_data_idioms"] = (nb, preds, set())
    return cases


def expected_score(src_nb, failing, f1_points, status="ok"):
    """Sum of the autograded cells' points except `failing`; the F1 cell is worth f1_points
    whatever the notebook did (the grader scores the file), unless nbgrader could not grade the
    notebook at all (status failed: 0 for everything)."""
    total = 0.0
    for c in nc.grade_cells(src_nb):
        if c["grade_id"] == F1_CELL:
            total += 0.0 if status == "failed" else f1_points
        elif c["auto"] and c["grade_id"] not in failing:
            total += c["points"]
    return round(total, 4)


def f1_value(preds, answer_key, workdir):
    """The grader's F1 points for a predictions file content (None -> 0)."""
    if preds is None:
        return 0.0
    path = Path(workdir) / "predictions_for_expected.csv"
    path.write_bytes(preds)
    return ak.score(path, answer_key)["points"]


def write_class(cases, submitted):
    for case, (nb, preds, _) in cases.items():
        dest = Path(submitted) / f"demo_{case}" / ASSIGNMENT
        if dest.parent.exists():
            shutil.rmtree(dest.parent)
        dest.mkdir(parents=True)
        nbformat.write(nb, str(dest / f"{ASSIGNMENT}.ipynb"))
        if preds is not None:
            (dest / "test_predictions.csv").write_bytes(preds)
        if case in TIMESTAMPS:
            (dest / "timestamp.txt").write_text(TIMESTAMPS[case])
        if case in ATTACK_FILES:
            ATTACK_FILES[case](dest)


def run_demo(only=None, workers=2, cell_timeout=60, timeout=900, course=None, source_dir=SOURCE_DIR,
             release_dir=RELEASE_DIR, predictions=PREDICTIONS, data=DEFAULT_DATA, copy_results=True,
             answer_key=ak.DEFAULT_KEY):
    """Build (a subset of) the demo class in its own course root (build/demo/ by default: never the
    real class's), grade it; returns rows with expected/actual."""
    course = course or Course(DEMO_DIR)
    if not Path(predictions).exists():
        raise SystemExit(f"нет {predictions}: сначала make solution PROFILE=smoke")
    src_nb = nc.read(Path(source_dir) / f"{ASSIGNMENT}.ipynb")
    rel_nb = nc.read(Path(release_dir) / f"{ASSIGNMENT}.ipynb")
    cases = build_cases(src_nb, rel_nb, predictions, data, answer_key)
    cases.update(build_attack_cases(src_nb, rel_nb, predictions, data))
    cases.update(integrity_cases(src_nb, rel_nb, predictions, answer_key))
    if only:
        cases = {k: v for k, v in cases.items() if k in only}
    write_class(cases, course.submitted)
    rows = grade_all(course, students=[f"demo_{c}" for c in cases], workers=workers, timeout=timeout,
                     cell_timeout=cell_timeout, data=data, source_dir=source_dir, copy_results=copy_results,
                     verbose=False, answer_key=answer_key)
    table = []
    for row in rows:
        case = row["student"][len("demo_"):]
        expected = expected_score(src_nb, cases[case][2], f1_value(cases[case][1], answer_key, course.root),
                                  ATTACK_STATUS.get(case, "ok"))
        table.append(dict(submission=row["student"], expected=expected, actual=row["auto_total"],
                          status=row["status"], seconds=row["seconds"], reason=row["reason"],
                          ok=abs(expected - row["auto_total"]) < 1e-6
                          and row["status"] == ATTACK_STATUS.get(case, row["status"])))
    for row in rows:  # what left the sandbox, and what the student reads
        problems = leaving_problems(course, row["student"], [answer_key, Path(source_dir) / f"{ASSIGNMENT}.ipynb",
                                                             Path(source_dir) / "tests.py", data])
        problems += feedback_problems(course, row["student"], src_nb)
        if problems:
            table.append(dict(submission=f"{row['student']} (вне песочницы)", expected=0, actual=len(problems),
                              status="leak", seconds=0, reason="; ".join(problems), ok=False))
    if {"full", "copied_renamed"} <= set(cases):  # the copy is found with its source
        found = similarity.similar_to(similarity.report(course, release_dir=release_dir), similarity.THRESHOLD)
        if "demo_full" not in found.get("demo_copied_renamed", ""):
            table.append(dict(submission="demo_copied_renamed (сходство)", expected=1, actual=0, status="similar",
                              seconds=0, reason="копия не найдена отчётом о сходстве", ok=False))
    left = leftover_processes()
    if left:
        table.append(dict(submission="(процессы работ после проверки)", expected=0, actual=len(left),
                          status="left", seconds=0, reason=str(left), ok=False))
    return table


def leaving_problems(course, login, protected):
    """What is wrong with what left the sandbox for `login`: autograded/ holds the submission's
    notebook, predictions and timestamp.txt, feedback/ the HTML, regular files only, none a copy of a
    protected file."""
    import hashlib
    digest = lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest()  # noqa: E731
    secret = {digest(p) for p in protected if Path(p).is_file()}
    problems = []
    for kind, allowed in ((course.autograded, {f"{ASSIGNMENT}.ipynb", "test_predictions.csv", "timestamp.txt"}),
                          (course.feedback, {f"{ASSIGNMENT}.html"})):
        for path in (kind / login).rglob("*"):
            if path.is_dir() and not path.is_symlink():
                continue
            rel = path.relative_to(kind / login)
            if path.is_symlink() or not path.is_file():
                problems.append(f"{kind.name}/{rel}: не обычный файл")
            elif rel.parent.name != ASSIGNMENT or rel.name not in allowed:
                problems.append(f"{kind.name}/{rel}: лишний файл")
            elif digest(path) in secret and rel.name != "test_predictions.csv":  # the student's own file
                problems.append(f"{kind.name}/{rel}: копия файла проверяющего")
    return problems


def feedback_problems(course, login, src_nb):
    """The feedback never shows the hidden tests; where the grader and the notebook disagree on a
    check, the grader's message is in it; the F1 the grader computed is in it."""
    html_path = course.feedback / login / ASSIGNMENT / f"{ASSIGNMENT}.html"
    if not html_path.is_file():
        return []
    html = html_path.read_text(errors="replace")
    problems = []
    hidden = {line.strip() for c in src_nb.cells for line in nc.regions(c.source, "BEGIN HIDDEN TESTS",
                                                                        "END HIDDEN TESTS") if line.strip()}
    import html as html_module
    if "HIDDEN TESTS" in html or any(html_module.escape(line) in html for line in hidden if len(line) > 20):
        problems.append("в отзыве видны скрытые тесты")
    if "Проверяющий: взвешенная F1" not in html and "Проверяющий: F1" not in html:
        problems.append("в отзыве нет F1, посчитанной проверяющим")
    return problems


def print_table(table):
    print(f"{'работа':<34}{'ожидается':>10}{'получено':>10}  {'статус':<13}{'сек':>7}")
    for r in table:
        mark = "" if r["ok"] else "   <-- НЕ СОВПАДАЕТ"
        print(f"{r['submission']:<34}{r['expected']:>10.4g}{r['actual']:>10.4g}  {r['status']:<13}"
              f"{r['seconds']:>7.1f}{mark}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cell-timeout", type=int, default=60)
    parser.add_argument("--predictions", type=Path, default=PREDICTIONS)
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    table = run_demo(only, args.workers, args.cell_timeout, predictions=args.predictions)
    print_table(table)
    print(f"оценки: {DEMO_DIR / 'grades.csv'}; отзывы: {DEMO_DIR / 'feedback'}/demo_*/")
    bad = [r for r in table if not r["ok"]]
    if bad:
        print(f"не совпало: {len(bad)}", file=sys.stderr)
        sys.exit(1)
    print("все оценки совпали с ожидаемыми")


if __name__ == "__main__":
    main()
