"""The similarity report: a disguised copy is found with its source, two independent correct
solutions stay below the threshold, the untouched release matches nothing, every student string in
the HTML is escaped, grades.csv gets `similar_to` and keeps its points. The disguised copy still
passes every check (it is the demo's `copied_renamed` case)."""
import csv
import shutil

import nbformat
import pytest

from coursekit import SOLUTION_NB, similarity
from coursekit import notebook_cells as nc
from coursekit.course import Course
from coursekit.disguise import disguise
from coursekit.notebook import DEFS_TAG, load_defs
from coursekit.release import ASSIGNMENT, RELEASE_DIR
from tests.bug_catalogue import build_args, make_tokenizer
from tests.similarity_class import build
from tests.test_checks_alt import CHECK_NAMES

pytestmark = pytest.mark.slow  # grades a small class and runs copydetect: ~40 s

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("similarity"))
    build(course.submitted)
    # a fifth student: the independent solution with a hostile login and a hostile comment
    shutil.copytree(course.submitted / "independent", course.submitted / HOSTILE)
    path = course.submitted / HOSTILE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nc.read(path)
    nb.cells.append(nbformat.v4.new_code_cell("# </pre><script>alert('x')</script>\nsteal = 1"))
    nbformat.write(nb, str(path))
    logins = sorted(p.name for p in course.submitted.iterdir())
    with open(course.grades_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student", "total"])
        writer.writeheader()
        writer.writerows(dict(student=s, total=k + 0.5) for k, s in enumerate(logins))
    pairs = similarity.report(course)
    return course, {tuple(sorted((p["a"], p["b"]))): p["similarity"] for p in pairs}


def test_copy_flagged_independent_solutions_not(graded_class):
    course, sim = graded_class
    t = similarity.THRESHOLD
    assert sim[("copy", "reference")] >= t
    assert sim[("independent", "reference")] < t
    assert sim[("copy", "independent")] < t
    assert all(v == 0 for k, v in sim.items() if "release" in k)
    assert sim[tuple(sorted((HOSTILE, "independent")))] >= t  # the same code under another login


def test_csv_and_grades_column(graded_class):
    course, sim = graded_class
    with open(course.root / "similarity.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["copy"]["similar_to"] == f"reference ({sim[('copy', 'reference')]:.2f})"
    assert rows["release"]["similar_to"] == ""
    with open(course.grades_csv, newline="") as f:
        grades = list(csv.DictReader(f))
    assert [float(g["total"]) for g in grades] == [k + 0.5 for k in range(len(grades))]  # points unchanged
    by = {g["student"]: g for g in grades}
    assert by["reference"]["similar_to"].startswith("copy (")
    assert by["release"]["similar_to"] == ""
    assert similarity.add_column(course, [dict(student="copy")])[0]["similar_to"].startswith("reference (")


def test_html_escapes_student_strings(graded_class):
    course, _ = graded_class
    page = (course.root / "similarity.html").read_text()
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<mark>" in page  # the matched parts of the flagged pair are shown


def test_own_code_subtracts_the_template():
    release = nc.read(RELEASE_DIR / f"{ASSIGNMENT}.ipynb")
    assert similarity.own_code(release, release) == ""


def test_disguised_copy_still_passes_every_check(checks, tmp_path, capfd):
    nb = nc.read(SOLUTION_NB)
    changed = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and DEFS_TAG in cell.metadata.get("tags", []):
            new = disguise(cell.source)
            changed += new != cell.source
            cell.source = new
    assert changed > 10
    path = tmp_path / "disguised.ipynb"
    nbformat.write(nb, str(path))
    module = load_defs(path, name="disguised")
    tokenizer = make_tokenizer(module, tmp_path / "tok")
    failed = []
    for name in CHECK_NAMES:
        capfd.readouterr()
        try:
            getattr(checks, name)(*build_args(module, name, tokenizer, tmp_path))
        except Exception as exc:
            failed.append(f"{name}: {exc}"[:300])
        out, err = capfd.readouterr()
        if not out.startswith("✓") or err:
            failed.append(f"{name}: {out[:200]} {err[:200]}")
    assert not failed, failed
