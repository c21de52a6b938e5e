"""The nbgrader cells of a notebook, read from their metadata: grade cells, points, parts, solution
and hidden-test regions. Light (nbformat only): the judge, the release and the tests use it; the
preprocessors that autograde runs are in coursekit.preprocessors."""
import re

import nbformat

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
PART_RE = re.compile(r"^##\s+(Часть\s+(\d+)|Бонус)", re.M)


def read(path):
    return nbformat.read(str(path), as_version=4)


def nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_cells(nb):
    """Grade cells in notebook order: dicts grade_id, points, part, auto (code -> autograded),
    cell_type. `part` is the number N of the last '## Часть N' heading above the cell ('bonus'
    after '## Бонус', None before the first heading)."""
    part, out = None, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = PART_RE.search(cell.source)
            if m:
                part = int(m.group(2)) if m.group(2) else "bonus"
        meta = nbg(cell)
        if meta.get("grade"):
            out.append(dict(grade_id=meta["grade_id"], points=float(meta.get("points", 0)), part=part,
                            auto=cell.cell_type == "code" and not meta.get("solution"),
                            cell_type=cell.cell_type))
    return out


def points_by_part(nb, auto_only=False):
    total = {}
    for g in grade_cells(nb):
        if auto_only and not g["auto"]:
            continue
        total[g["part"]] = round(total.get(g["part"], 0.0) + g["points"], 6)
    return total


def regions(source, begin, end):
    """Lines strictly between `begin` and `end` marker lines (all regions of a cell)."""
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def solution_cells(nb):
    """{grade_id: cell} of the cells with solution regions."""
    return {nbg(c)["grade_id"]: c for c in nb.cells if nbg(c).get("solution")}


def secret_lines(nb):
    """Lines that must not reach the release: solution and hidden-test lines that do not also occur
    outside those regions somewhere in the notebook (so a bare `)` or `return x` is not a leak)."""
    secret, public = set(), set()
    for cell in nb.cells:
        hidden = set(regions(cell.source, "BEGIN SOLUTION", "END SOLUTION"))
        hidden |= set(regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
        secret |= {line.strip() for line in hidden if line.strip()}
        inside = False
        for line in cell.source.splitlines():
            if any(m in line for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")):
                inside = True
            elif any(m in line for m in ("END SOLUTION", "END HIDDEN TESTS")):
                inside = False
            elif not inside:
                public.add(line.strip())
    return secret - public
