"""The preprocessors that nbgrader_config.py plugs into `nbgrader autograde`: SafeExecute (the
kernel in the sandbox, records taken after each cell, a dead, stuck or hostile kernel survived),
LimitOutputChars, and fixes of two nbgrader 0.9.6 preprocessors. They run in the grader's
autograde process (coursekit.warm), never in the kernel."""
import json
import math
import os
import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import DeduplicateIds, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Integer

from coursekit import outbox, sandbox
from coursekit.notebook_cells import nbg

DEADLINE_ENV = "TASK3_DEADLINE"  # epoch seconds: no cell runs past it (the submission's timeout)
CELL_TIMES_ENV = "TASK3_CELL_TIMES"  # file where SafeExecute notes each cell's seconds (grader side)


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


KEEP_CHARS = 1000  # what is left of an error or execute_result output over the limit
CUT_NOTE = "\n... вывод обрезан ...\n"


def shrink(out, left):
    """`out` cut to about `left` characters of JSON; None when it is to be dropped. Error outputs
    and the text/plain of an execute_result are always kept (shortened): nbgrader gives full
    points to a grade cell without them."""
    if out.output_type == "stream":
        if left <= 0:
            return None
        if len(out.text) > left:
            out.text = out.text[:left] + CUT_NOTE
        return out
    if out.output_type == "error":
        out.evalue = out.evalue[:KEEP_CHARS]
        if len(json.dumps(out.traceback)) > max(left, KEEP_CHARS):
            out.traceback = [line[:KEEP_CHARS] for line in out.traceback[-5:]]
        return out
    if size(out) <= left:
        return out
    if out.output_type == "execute_result":
        out.data = {"text/plain": str(out.get("data", {}).get("text/plain", ""))[:KEEP_CHARS]}
        out.metadata = {}
        return out
    return None


def size(out):
    """Characters of an output (cheap: no JSON of a 50 MB output)."""
    if out.output_type == "stream":
        return len(out.text)
    parts = list(out.get("data", {}).values()) + [out.get("evalue", ""), *out.get("traceback", [])]
    parts.append(out.get("metadata", {}))
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in parts) + 100


def cut_note(kind):
    return NotebookNode(output_type="stream", name="stdout", text=f"... {kind} вывод удалён: слишком большой ...\n")


class SafeExecute(Execute):
    """nbgrader's Execute that survives a dead or stuck kernel and a hostile one.

    * Dead kernel: the cells executed before the crash keep their outputs (and their points); the
      crashing cell and every code cell after it get an error output, so grade cells after the
      crash score 0 instead of the whole submission being dropped.
    * A cell the interrupt does not stop (SIGINT ignored, KeyboardInterrupt swallowed): nbclient
      raises "Timeout waiting for IOPub"; the kernel is stopped, the cell gets CellTimeoutError
      and later cells are marked as not executed (cell_timeout, earlier points kept).
    * MemoryError (the sandbox's address-space cap) and the submission's deadline (DEADLINE_ENV,
      epoch seconds: no cell runs past it) end the submission the same way, noted in the events
      file for the grader.
    * Outputs kept while executing are capped per cell (`max_output_chars`), so the grader's
      memory does not grow with what the kernel prints.
    Inside the sandbox (coursekit.sandbox.CONFIG_ENV set) kernels start in bubblewrap."""

    max_output_chars = Integer(2_000_000, help="output characters kept per cell while executing").tag(config=True)
    # after the execute reply, the idle message may lag behind big outputs; only past this is the
    # kernel taken as stuck (nbclient's default 4 s stopped a busy but honest kernel)
    iopub_timeout = Integer(30).tag(config=True)

    def __init__(self, *args, **kwargs):
        if os.environ.get(sandbox.CONFIG_ENV):
            kwargs.setdefault("kernel_manager_class", sandbox.SandboxKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._dead, self._used = None, {}
        spec = os.environ.get(outbox.RECORDS_ENV)
        self._records = json.loads(spec) if spec else None
        try:
            return super().preprocess(nb, resources, km)
        finally:  # before nbgrader writes the graded notebook into the kernel's folder
            sandbox.close_all()

    def _take_records(self, cell):
        """Right after each cell: its records out of the kernel's reach (coursekit.outbox)."""
        spec = self._records
        if spec is None:
            return
        gid = nbg(cell).get("grade_id")
        notes = outbox.take_records(spec["record_dir"], spec["out_dir"], gid, spec["checks"].get(gid),
                                    cell.get("execution_count"), spec["max_bytes"], set(spec["checks"].values()))
        if notes:
            with open(os.path.join(spec["out_dir"], "notes.txt"), "a") as f:
                f.write("".join(line.replace("\n", " ") + "\n" for line in notes))

    def _deadline(self):
        return float(os.environ.get(DEADLINE_ENV) or 0)

    def _past_deadline(self):
        return bool(self._deadline()) and time.time() >= self._deadline()

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if self._deadline():  # no cell runs past the submission's deadline
            left = max(1, math.ceil(self._deadline() - time.time()))  # ceil: it fires at the deadline, not before
            timeout = min(timeout or left, left)
        return timeout

    def output(self, outs, msg, display_id, cell_index):
        n = len(outs)
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or len(outs) == n:
            return out
        left = self.max_output_chars - self._used.get(cell_index, 0)
        kept = shrink(out, left)
        if kept is None:
            outs.pop()
            ids = self._display_id_map.get(display_id, {}).get(cell_index, [])
            if n in ids:  # a later update_display_data must not land on another output
                ids.remove(n)
            if left > 0:
                outs.append(cut_note(out.output_type))
        self._used[cell_index] = self._used.get(cell_index, 0) + size(kept if kept is not None else out)
        return kept

    def _end(self, index, status, reason):
        """Stop the kernel (all the sandbox with it); later code cells are marked as not run."""
        sandbox.note(status, reason)
        self._dead = (index, reason)
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as exc:  # already dead: nothing to stop
            self.log.warning("stopping the kernel: %s", exc)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        started = time.perf_counter()
        try:
            return self._run_cell(cell, resources, index)
        finally:
            self._take_records(cell)
            if os.environ.get(CELL_TIMES_ENV):  # for bench/grading_speed.py: where a submission's time goes
                with open(os.environ[CELL_TIMES_ENV], "a") as f:
                    first = (cell.source.strip().splitlines() or [""])[0][:60].replace("\t", " ")
                    f.write(f"{index}\t{time.perf_counter() - started:.3f}\t{nbg(cell).get('grade_id', '')}\t{first}\n")

    def _run_cell(self, cell, resources, index):
        if self._dead is not None:
            cell.outputs = [error_output("KernelDied", f"ячейка не выполнялась: {self._dead[1]} (ячейка {self._dead[0]})")]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead = (index, "ядро упало")
            self.log.error("Kernel died in cell %s; later cells are marked as failed", index)
            cell.outputs = list(cell.get("outputs", [])) + [error_output(
                "KernelDied", "ядро Python упало при выполнении этой ячейки")]
            return cell, resources
        except CellTimeoutError:  # interrupted but still busy: stop it, keep what was earned
            cell.outputs = list(cell.get("outputs", [])) + [error_output(
                "CellTimeoutError", "ячейка не остановилась по прерыванию; ядро остановлено")]
            if self._past_deadline():
                self._end(index, "timeout", "у работы кончилось время")
            else:
                self._end(index, "cell_timeout", "ячейка не остановилась по таймауту")
            return cell, resources
        enames = {o.get("ename") for o in cell.outputs if o.get("output_type") == "error"}
        if self._past_deadline() and "CellTimeoutError" in enames:
            self._end(index, "timeout", "у работы кончилось время")
        elif "MemoryError" in enames:
            self._end(index, "memory", "работе не хватило памяти (лимит песочницы)")
        return cell, resources


class LimitOutputChars(NbGraderPreprocessor):
    """Cut every cell's outputs to `max_chars` characters (LimitOutput counts stream lines only):
    streams are shortened, display_data/execute_result of any MIME type (HTML, images, JSON)
    over the limit are dropped or reduced to a short text/plain, error outputs are kept."""

    max_chars = Integer(100_000, help="max characters of output per cell").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or self.max_chars < 0:
            return cell, resources
        left = self.max_chars
        outputs = []
        for out in cell.outputs:
            kept = shrink(out, left)
            if kept is None:
                if left > 0 and out.output_type != "stream":
                    outputs.append(cut_note(out.output_type))
                continue
            left -= size(kept)
            outputs.append(kept)
        cell.outputs = outputs
        return cell, resources


class OverwriteCellsFixed(OverwriteCells):
    """OverwriteCells whose add_missing_cells survives two nbgrader 0.9.6 bugs, each of which fails
    the whole submission: (1) the cell before a deleted grade cell is locked-only (it is looked up
    among grade/solution cells only: KeyError); (2) a duplicated grade cell (DeduplicateIds leaves
    `nbgrader: {}` on the extra copy and add_missing_task_cells reads its grade_id: KeyError).
    A missing grade cell goes right after the nearest preceding nbgrader cell still present in the
    submission (the top of the notebook if there is none)."""

    def add_missing_task_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source_nb.source_cells]
        submitted = {nbg(c).get("grade_id") for c in nb.cells}
        for task_cell in source_nb.task_cells:
            if task_cell.name not in submitted:
                cell = source_nb.source_cells[source_ids.index(task_cell.name)]
                nb.cells.append(self.missing_cell_transform(cell, task_cell.max_score, is_task=True))
        return nb, resources

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source_nb.source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}

        def present():
            return {nbg(c).get("grade_id"): i for i, c in enumerate(nb.cells) if nbg(c).get("grade_id")}

        for grade_cell in source_nb.grade_cells:
            here = present()
            if grade_cell.name in here:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            source_idx = source_ids.index(grade_cell.name)
            cell = self.missing_cell_transform(source_nb.source_cells[source_idx], grade_cell.max_score,
                                               is_solution=grade_cell.name in solution_ids)
            before = [here[name] for name in source_ids[:source_idx] if name in here]
            nb.cells.insert(max(before) + 1 if before else 0, cell)
        return nb, resources


class DeduplicateIdsFixed(DeduplicateIds):
    """DeduplicateIds that removes the nbgrader metadata of extra copies of a cell. nbgrader 0.9.6
    leaves `nbgrader: {}` there, which CheckCellMetadata then reads as an old schema version
    (SchemaTooOldError): a duplicated grade cell failed the whole submission. The last copy is the
    one kept, and OverwriteCells restores its locked source."""

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", None) == {}:
                del cell.metadata["nbgrader"]
        return nb, resources
