"""The student's path in JupyterLab, on a fresh build of the release (what `make release` ships;
tests/test_release.py checks that assignments/ is the same) next to the small browser-test dataset (task3_data_smoke.csv), as in the
repository: assignments/task3_bert/ and data/. The tests run in order on one page.
"""
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from coursekit import ROOT, SOLUTION_NB
from coursekit.demo import strip_markers

from .conftest import running, smoke_data

pytestmark = pytest.mark.slow  # a real browser and Jupyter servers: minutes

NB = "assignments/task3_bert/task3_bert.ipynb"
MOJIBAKE = re.compile(r"\ufffd|[ÐÑ][\u0080-\u00bf]|Р[ЃЎџ°±]|С[Ђ‚ѓ]")
DIAGRAM_REF = re.compile(r"!\[[^\]]*\]\(|<img\b")
CELL = ".jp-Notebook .jp-Cell"
SLOW = 180_000  # ms: imports of torch/transformers and the tokenizer on 2 busy cores


def build_release(dest):
    """`python -m coursekit.release --out` (the code behind `make release`)."""
    out = dest / "assignments" / "task3_bert"
    subprocess.run([sys.executable, "-m", "coursekit.release", "--out", str(out)], check=True,
                   capture_output=True, timeout=300)
    (dest / "data").mkdir()  # the notebook finds its data in ../../data/, as in the repository
    shutil.copy(smoke_data(), dest / "data" / "task3_data.csv")
    shutil.copy(smoke_data().with_name("task3_categories.csv"), dest / "data")
    return out


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("student")
    build_release(root)
    return root


@pytest.fixture(scope="module")
def page(browser, release, tmp_path_factory):
    with running(release, tmp_path_factory.mktemp("jupyter_home")) as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{server.url}/lab/tree/{NB}?token={server.token}")
        n_cells = len(nbformat.read(str(release / NB), as_version=4).cells)
        # JupyterLab attaches cells in batches; ready when all are there and the kernel is idle
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n && "
                               "/\\| Idle/.test(document.querySelector('.jp-StatusBar-Left').textContent)",
                               arg=[CELL, n_cells], timeout=SLOW)
        yield page
        context.close()


def cell_index(page, text):
    """Index of the first cell whose text contains `text`."""
    i = page.evaluate("([sel, t]) => Array.from(document.querySelectorAll(sel))"
                      ".findIndex(c => c.textContent.includes(t))", [CELL, text])
    assert i >= 0, f"в ноутбуке нет ячейки с {text!r}"
    return i


def run_cells(page, first, last):
    """Shift+Enter from cell `first` to `last` inclusive, waiting for each code cell to finish
    (JupyterLab drops cells queued after an error, so one at a time)."""
    cells = page.locator(CELL)
    cells.nth(first).locator(".jp-InputPrompt").click()
    for i in range(first, last + 1):
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        cell = cells.nth(i)
        if "jp-CodeCell" in (cell.get_attribute("class") or ""):
            prompt = cell.locator(".jp-InputPrompt")
            page.wait_for_function("p => /\\[\\d+\\]/.test(p.textContent)", arg=prompt.element_handle(),
                                   timeout=SLOW)


def output_of(page, i):
    return page.locator(CELL).nth(i).locator(".jp-OutputArea").inner_text()


def test_notebook_opens_with_every_diagram_and_readable_russian(page, release, shots):
    shots(page, "01_student_notebook_opened")
    nb = nbformat.read(str(release / NB), as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    expected = sum(len(DIAGRAM_REF.findall(s)) for s in markdown)
    drawn = sorted(p.name for p in (ROOT / "images").glob("*.png"))  # by images/draw_images.py
    assert expected >= len(drawn) > 0, f"в тексте {expected} ссылок на картинки, нарисовано {drawn}"
    images = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown img")
    assert images.count() == expected, f"в тексте {expected} картинок, в браузере {images.count()} элементов <img>"
    broken = []
    for k in range(images.count()):
        img = images.nth(k)
        img.evaluate("img => img.scrollIntoView({block: 'center'})")  # also when it has no size
        page.wait_for_function("img => img.complete", arg=img.element_handle())
        size = img.evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
        if min(size) <= 0:
            broken.append((img.get_attribute("alt"), size))
        else:
            shots(img, f"02_student_diagram_{k + 1}")
    assert not broken, f"схемы не показаны (alt, [naturalWidth, ширина]): {broken}"

    text = page.locator(".jp-Notebook").text_content()
    assert not MOJIBAKE.search(text), f"кракозябры: {MOJIBAKE.search(text).group()!r}"
    headings = [line.lstrip("#").strip() for s in markdown for line in s.splitlines()
                if re.match(r"#+ [^`*$]+$", line)]
    missing = [h for h in headings if h not in text]
    assert len(headings) >= 5 and not missing, f"заголовки не видны в браузере: {missing}"


def test_untouched_tokenizer_check_says_not_implemented(page, shots):
    check = cell_index(page, "tests.test_tokenizer(")
    run_cells(page, 0, check)
    page.locator(CELL).nth(check).scroll_into_view_if_needed()
    shots(page, "03_student_tokenizer_not_implemented")
    out = output_of(page, check)
    assert "не реализовано" in out, f"проверка токенизатора на нетронутом релизе вывела:\n{out}"


def test_typed_component_passes_its_check(page, shots):
    src = nbformat.read(str(SOLUTION_NB), as_version=4)
    code = strip_markers(next(c.source for c in src.cells
                              if c.metadata.get("nbgrader", {}).get("grade_id") == "init_layer"))
    i = cell_index(page, "def init_layer(")
    editor = page.locator(CELL).nth(i).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)  # as typed or pasted: no auto-indent of each line
    shots(page, "04_student_code_typed")
    assert "raise NotImplementedError" not in editor.inner_text()
    check = cell_index(page, "tests.test_init_layer(")
    run_cells(page, i, check)
    page.locator(CELL).nth(check).scroll_into_view_if_needed()
    shots(page, "05_student_check_passed")
    out = output_of(page, check)
    assert "✓" in out and "init_layer" in out, f"проверка init_layer вывела:\n{out}"


def test_kernel_death_mid_notebook_shows_jupyterlab_message(page, shots):
    check = cell_index(page, "tests.test_init_layer(")
    page.locator(CELL).nth(check).locator(".jp-InputPrompt").click()
    page.keyboard.press("b")  # new cell below, in the middle of the notebook
    page.keyboard.press("Enter")
    page.keyboard.insert_text("import os\nos._exit(1)")
    page.keyboard.press("Shift+Enter")
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=60_000)
    shots(page, "06_student_kernel_died")
    assert re.search(r"died|restarting|перезапуск|умерло", dialog.inner_text(), re.I), dialog.inner_text()
    dialog.locator(".jp-mod-accept").first.click()
