"""The diagrams: drawn by images/draw_images.py, the lr picture from the solution's own
Scheduler, and embedded in the notebook as `<img data-image=... width=... src="data:image/png;base64,...">`
tags that match images/ (not as `attachment:` images, which Colab and GitHub do not render)."""
import base64
import importlib.util
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursekit import RELEASE_NB, ROOT, SOLUTION_NB  # noqa: E402
from coursekit.notebook_images import (check_images, display_widths, embed_images,  # noqa: E402
                                   shown_images, tags)
from coursekit.notebook import load_defs  # noqa: E402

IMAGES_DIR = ROOT / "images"
SCRIPT = IMAGES_DIR / "draw_images.py"
NAMES = ["transformer", "bert_input", "attention", "multihead", "lr"]
MAX_BYTES = 200 * 1024


def _load_script():
    spec = importlib.util.spec_from_file_location("draw_images", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def draw_images():
    return _load_script()


@pytest.fixture(scope="module")
def solution():
    return load_defs(SOLUTION_NB)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory, draw_images, solution):
    out = tmp_path_factory.mktemp("pictures")
    draw_images.draw_all(out, solution=solution)
    return out


def _pixels(path):
    image = mpimg.imread(str(path))
    return image[..., :3] if image.ndim == 3 else image


# ---------------------------------------------------------------- drawing

@pytest.mark.parametrize("name", NAMES)
def test_picture_is_drawn_with_content(drawn, name):
    path = drawn / f"{name}.png"
    assert path.is_file(), f"{name}.png не нарисован"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 5 * 1024 < path.stat().st_size < MAX_BYTES, path.stat().st_size
    pixels = _pixels(path)
    height, width = pixels.shape[:2]
    assert 300 <= height <= 1200 and 500 <= width <= 2000, pixels.shape
    assert (pixels[0, 0] == 1).all(), "фон должен быть белым"
    ink = (pixels < 0.9).any(axis=-1).mean()
    assert 0.02 < ink < 0.6, f"доля закрашенных пикселей {ink:.3f}"
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, "картинка почти одноцветная"


def test_cli_only_and_out(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "attention", "--only", "multihead",
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attention.png", "multihead.png"]


def test_drawing_is_deterministic(tmp_path, draw_images):
    first = draw_images.draw_transformer(tmp_path / "a.png").read_bytes()
    second = draw_images.draw_transformer(tmp_path / "b.png").read_bytes()
    assert first == second


# ---------------------------------------------------------------- lr curve from the solution

def test_solution_has_scheduler(solution):
    assert hasattr(solution, "Scheduler"), "в ноутбуке-решении нет Scheduler (ячейки defs)"


@pytest.mark.parametrize("init_lr, peak_lr, final_lr, warmup, total", [
    (0.0, 1e-3, 1e-5, 10, 50),
    (1e-5, 5e-4, 1e-4, 7, 31),
])
def test_lr_curve_follows_the_schedule(draw_images, solution,
                                       init_lr, peak_lr, final_lr, warmup, total):
    extra = 5
    lrs = np.array(draw_images.lr_curve(solution, init_lr, peak_lr, final_lr, warmup, total,
                                       extra_steps=extra))
    assert len(lrs) == total + extra + 1
    steps = np.arange(len(lrs))
    expected = np.where(
        steps <= warmup,
        init_lr + (peak_lr - init_lr) * steps / warmup,
        np.where(steps <= total,
                 peak_lr + (final_lr - peak_lr) * (steps - warmup) / (total - warmup),
                 final_lr))
    assert lrs[0] == pytest.approx(init_lr, abs=1e-12)
    assert int(np.argmax(lrs)) == warmup and lrs[warmup] == pytest.approx(peak_lr)
    assert lrs[total] == pytest.approx(final_lr)
    np.testing.assert_allclose(lrs, expected, rtol=1e-9, atol=1e-12)


def test_lr_picture_settings_peak_at_warmup(draw_images, solution):
    s = draw_images.LR_SETTINGS
    lrs = draw_images.lr_curve(solution, **s)
    assert lrs[0] == pytest.approx(s["init_lr"], abs=1e-12)
    assert int(np.argmax(lrs)) == s["num_warmup_steps"]
    assert lrs[-1] == pytest.approx(s["final_lr"])


# ---------------------------------------------------------------- embedding

WIDTHS = {"a.png": 300, "b.png": 500}


def _png(path, value):
    mpimg.imsave(str(path), np.full((4, 6, 3), value, dtype=np.float32))
    return path.read_bytes()


def _old_form_notebook(path):
    """A notebook with pictures in the old form: attachments referenced by `attachment:`."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Заголовок без картинок"),
        nbformat.v4.new_markdown_cell(
            "Текст.\n\n![первая картинка](attachment:a.png)\n\nещё текст\n\n![вторая](attachment:b.png)"),
        nbformat.v4.new_code_cell("x = 1  # attachment:a.png в коде не считается"),
        nbformat.v4.new_markdown_cell("Картинку отсюда убрали."),
    ]
    nb.cells[1]["attachments"] = {"a.png": {"image/png": base64.b64encode(b"old").decode()}}
    nb.cells[3]["attachments"] = {"old.png": {"image/png": base64.b64encode(b"x").decode()}}
    nbformat.write(nb, str(path))


def _two_pictures(tmp_path):
    """images/ with a.png and b.png, and an old-form notebook that shows both: (images, notebook)."""
    images = tmp_path / "images"
    images.mkdir()
    _png(images / "a.png", 0.3)
    _png(images / "b.png", 0.6)
    nb_path = tmp_path / "nb.ipynb"
    _old_form_notebook(nb_path)
    return images, nb_path


def _decoded(tag_attrs):
    return base64.b64decode(tag_attrs["src"].split(",", 1)[1])


def test_old_form_is_a_problem_and_embed_converts_it(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    a_bytes = _png(images / "a.png", 0.2)
    b_bytes = _png(images / "b.png", 0.7)
    _png(images / "unused.png", 0.5)  # shown nowhere: fine
    nb_path = tmp_path / "nb.ipynb"
    _old_form_notebook(nb_path)

    problems = check_images(nb_path, images, WIDTHS)
    assert sum("attachment:a.png" in p for p in problems) == 1, problems
    assert sum("attachment:b.png" in p for p in problems) == 1, problems
    assert sum("вложения" in p for p in problems) == 2, problems  # cells 1 and 3

    changes = embed_images(nb_path, images, WIDTHS)
    assert changes, changes
    assert check_images(nb_path, images, WIDTHS) == []
    nb = nbformat.read(str(nb_path), as_version=4)
    nbformat.validate(nb)
    assert all("attachments" not in cell for cell in nb.cells)
    assert "attachment:" not in nb.cells[1].source
    assert nb.cells[1].source.startswith("Текст.\n\n<img ") and "\n\nещё текст\n\n<img " in nb.cells[1].source
    found = tags(nb.cells[1].source)
    assert [name for name, _, _ in found] == ["a.png", "b.png"]
    (_, a, _), (_, b, _) = found
    assert a["width"] == "300" and b["width"] == "500"
    assert a["alt"] == "первая картинка" and b["alt"] == "вторая"
    assert _decoded(a) == a_bytes and _decoded(b) == b_bytes
    assert nb.cells[2].source == "x = 1  # attachment:a.png в коде не считается"

    # nothing to do: the file is not rewritten
    written = nb_path.read_bytes()
    mtime = nb_path.stat().st_mtime_ns
    assert embed_images(nb_path, images, WIDTHS) == []
    assert nb_path.read_bytes() == written and nb_path.stat().st_mtime_ns == mtime

    # a redrawn picture or a new width makes the tag stale until embedded again
    _png(images / "a.png", 0.9)
    problems = check_images(nb_path, images, WIDTHS)
    assert len(problems) == 1 and "a.png" in problems[0], problems
    assert embed_images(nb_path, images, WIDTHS) == ["ячейка 1: обновлено a.png"]
    problems = check_images(nb_path, images, {**WIDTHS, "b.png": 450})
    assert len(problems) == 1 and "width='500'" in problems[0], problems
    assert check_images(nb_path, images, WIDTHS) == []


def test_missing_picture_or_width_is_an_error(tmp_path):
    images, nb_path = _two_pictures(tmp_path)
    embed_images(nb_path, images, WIDTHS)
    written = nb_path.read_bytes()

    (images / "b.png").unlink()
    assert any("b.png" in p and "нет файла" in p for p in check_images(nb_path, images, WIDTHS))
    with pytest.raises(FileNotFoundError, match="b.png"):
        embed_images(nb_path, images, WIDTHS)
    _png(images / "b.png", 0.6)
    with pytest.raises(KeyError, match="b.png"):
        embed_images(nb_path, images, {"a.png": 300})
    assert any("нет ширины" in p for p in check_images(nb_path, images, {"a.png": 300}))
    assert nb_path.read_bytes() == written

    # a broken src is reported
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace('src="data:image/png;base64,', 'src="data:image/png;base64,@@', 1)
    nbformat.write(nb, str(nb_path))
    assert any("src не base64" in p for p in check_images(nb_path, images, WIDTHS))


def test_notebook_images_cli(tmp_path):
    images, nb_path = _two_pictures(tmp_path)
    nb = nbformat.read(str(nb_path), as_version=4)   # the CLI takes widths from draw_images.py
    nb.cells[1].source = nb.cells[1].source.replace("a.png", "lr.png").replace("b.png", "attention.png")
    nbformat.write(nb, str(nb_path))
    for name in ("lr.png", "attention.png"):
        (images / name).write_bytes((images / "a.png").read_bytes())

    def cli(command):
        return subprocess.run(
            [sys.executable, "-m", "coursekit.notebook_images", command, str(nb_path),
             "--images", str(images)],
            capture_output=True, text=True, cwd=ROOT, timeout=60)

    result = cli("check")
    assert result.returncode == 1 and "attachment:lr.png" in result.stdout, result
    assert cli("embed").returncode == 0
    result = cli("check")
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- the real notebooks

def test_every_picture_has_a_display_width(draw_images):
    assert sorted(draw_images.DISPLAY_WIDTHS) == sorted(NAMES)
    for name, width in draw_images.DISPLAY_WIDTHS.items():
        natural = _pixels(IMAGES_DIR / f"{name}.png").shape[1]
        assert 300 <= width <= 900 and width < natural, (name, width, natural)
    assert display_widths() == {f"{k}.png": v for k, v in draw_images.DISPLAY_WIDTHS.items()}


def test_committed_pictures_exist_and_are_small():
    for name in NAMES:
        path = IMAGES_DIR / f"{name}.png"
        assert path.is_file(), f"нет {path}: python images/draw_images.py"
        assert path.stat().st_size < MAX_BYTES


def test_committed_pictures_match_the_script(drawn):
    """images/*.png are what the script draws now (e.g. lr.png after a Scheduler change)."""
    for name in NAMES:
        committed, fresh = _pixels(IMAGES_DIR / f"{name}.png"), _pixels(drawn / f"{name}.png")
        assert committed.shape == fresh.shape, (
            f"{name}.png устарел: перерисуйте (make images)")
        assert np.abs(committed - fresh).mean() < 2e-3, (
            f"{name}.png устарел: перерисуйте (make images)")


@pytest.mark.parametrize("notebook", [SOLUTION_NB, RELEASE_NB], ids=["solution", "release"])
def test_notebook_shows_every_picture_once_as_img_tag(notebook):
    """Every picture, in the form all viewers render; no attachment: left (Colab shows none)."""
    assert notebook.exists(), "релиз не собран: make release"
    problems = check_images(notebook, IMAGES_DIR)
    assert problems == [], "\n".join(problems + ["исправить: make images && make release"])
    assert sorted(shown_images(notebook)) == sorted(f"{name}.png" for name in NAMES)
