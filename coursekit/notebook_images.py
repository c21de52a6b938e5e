"""Keep the notebook's pictures inside the notebook, as base64 `<img>` tags in markdown cells.

A picture is shown by one HTML tag on a line of a markdown cell:

    <img data-image="transformer.png" width="420" alt="Слой энкодера BERT" src="data:image/png;base64,...">

`data-image` names the file in images/, `width` (CSS pixels) comes from `DISPLAY_WIDTHS` in
images/draw_images.py, `src` holds the PNG itself. Why not cell attachments
(`![...](attachment:NAME)`): Colab does not render them (googlecolab/colabtools#3836), nor does
GitHub's notebook viewer; an `<img>` with a `data:` URI renders in JupyterLab / Notebook 7 (their
sanitizer does not filter `src`, jupyterlab#5183), classic Notebook, VS Code (markdown-it + DOMPurify
keep `data:` images), Colab (its own "insert image" writes `data:` URIs) and GitHub. The picture
travels inside the notebook, so a release folder handed out on its own shows it too (nbgrader
copies the notebook, not images/).

    python -m coursekit.notebook_images embed solutions/task3_bert/task3_bert.ipynb
    python -m coursekit.notebook_images check solutions/task3_bert/task3_bert.ipynb   # exit 1 on problems

`embed` also converts the old form, `![alt](attachment:NAME)` with the bytes in the cell's
`attachments`, into the tag (and drops `attachments`); `check` reports the old form as a problem.
`images/draw_images.py` draws the PNGs; `make images` draws and embeds.
"""
import argparse
import base64
import binascii
import html
import importlib.util
import re
import sys
from pathlib import Path

import nbformat

from coursekit import ROOT

IMAGES_DIR = ROOT / "images"
DRAW_SCRIPT = IMAGES_DIR / "draw_images.py"

# the new form: <img ... data-image="NAME" ...>, attributes in any order, on one line
_TAG = re.compile(r"<img\b[^<>\n]*?\bdata-image=\"([^\"]+)\"[^<>\n]*>")
_ATTR = re.compile(r"\b([a-z-]+)=\"([^\"]*)\"")
# the old form: markdown ![alt](attachment:NAME) or HTML src="attachment:NAME"
_OLD_MD = re.compile(r"!\[([^\]]*)\]\(attachment:([^\s)\"'<>]+)\)")
_OLD_ANY = re.compile(r"attachment:([^\s)\"'<>]+)")
_DATA_PREFIX = "data:image/png;base64,"


def display_widths(script=DRAW_SCRIPT):
    """`DISPLAY_WIDTHS` of images/draw_images.py: {name without .png: width in CSS pixels}."""
    spec = importlib.util.spec_from_file_location("draw_images_widths", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {f"{name}.png": int(width) for name, width in module.DISPLAY_WIDTHS.items()}


def image_tag(name, data, width, alt):
    """The one-line `<img>` tag that shows `data` (PNG bytes) at `width` CSS pixels."""
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<img data-image="{name}" width="{int(width)}" alt="{html.escape(alt, quote=True)}" '
            f'src="{_DATA_PREFIX}{b64}">')


def tags(source):
    """[(name, {attribute: value}, (start, end))] for every picture tag in a cell's source."""
    return [(m.group(1), dict(_ATTR.findall(m.group(0))), m.span()) for m in _TAG.finditer(source)]


def referenced(source):
    """Picture names shown by a cell (both forms), in order, without repeats."""
    names = [m.group(1) for m in _TAG.finditer(source)] + _OLD_ANY.findall(source)
    return list(dict.fromkeys(names))


def _decode_src(src):
    if not src.startswith(_DATA_PREFIX):
        return None
    try:
        return base64.b64decode(src[len(_DATA_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return None


def _markdown_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def _read(nb_path):
    nb = nbformat.read(str(nb_path), as_version=nbformat.NO_CONVERT)
    if nb.nbformat < 4:
        raise ValueError(f"{nb_path}: nbformat {nb.nbformat} is too old")
    return nb


def embed_images(nb_path, images_dir=IMAGES_DIR, widths=None):
    """Put images_dir/NAME into every picture tag (and convert the old attachment form).

    `widths`: {NAME: CSS pixels}; default `DISPLAY_WIDTHS` of images/draw_images.py. The notebook
    is written back only if something changed. Returns the list of changes made. Raises
    FileNotFoundError (missing picture) or KeyError (no width for it) before writing anything.
    """
    nb_path, images_dir = Path(nb_path), Path(images_dir)
    widths = display_widths() if widths is None else widths
    nb = _read(nb_path)

    names = sorted({name for _, cell in _markdown_cells(nb) for name in referenced(cell.source)})
    missing = [name for name in names if not (images_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"нет картинок в {images_dir}: {', '.join(missing)} "
            f"(нарисуйте их: python images/draw_images.py)")
    no_width = [name for name in names if name not in widths]
    if no_width:
        raise KeyError(f"нет ширины для {', '.join(no_width)}: добавьте в DISPLAY_WIDTHS "
                       f"(images/draw_images.py)")

    changes = []
    for index, cell in _markdown_cells(nb):
        source = cell.source

        def from_markdown(match):
            alt, name = match.group(1), match.group(2)
            changes.append(f"ячейка {index}: {name} из вложения в <img>")
            return image_tag(name, (images_dir / name).read_bytes(), widths[name], alt)

        source = _OLD_MD.sub(from_markdown, source)

        def refresh(match):
            name = match.group(1)
            attrs = dict(_ATTR.findall(match.group(0)))
            data = (images_dir / name).read_bytes()
            new = image_tag(name, data, widths[name], html.unescape(attrs.get("alt", "")))
            if new != match.group(0):
                changes.append(f"ячейка {index}: обновлено {name}")
            return new

        source = _TAG.sub(refresh, source)
        if source != cell.source:
            cell.source = source
        if "attachments" in cell:
            del cell["attachments"]
            changes.append(f"ячейка {index}: удалено поле attachments")
    left = [f"ячейка {i}: {name}" for i, cell in _markdown_cells(nb) for name in _OLD_ANY.findall(cell.source)]
    if left:
        raise ValueError("ссылки attachment: не в виде ![alt](attachment:NAME), поправьте руками: "
                         + ", ".join(left))

    if changes:
        nbformat.validate(nb)
        nbformat.write(nb, str(nb_path), version=nb.nbformat)
    return changes


def check_images(nb_path, images_dir=IMAGES_DIR, widths=None):
    """Problems with the notebook's pictures, as a list of messages (empty: all is well).

    A problem is: the old form (`attachment:` reference or an `attachments` field), a tag whose
    picture is gone from images_dir, whose bytes differ from it, whose `src` is not a base64 PNG,
    without `alt`, or whose `width` is missing or differs from `DISPLAY_WIDTHS`.
    PNGs in images_dir that no cell shows are fine.
    """
    nb_path, images_dir = Path(nb_path), Path(images_dir)
    widths = display_widths() if widths is None else widths
    nb = _read(nb_path)
    problems = []
    for index, cell in enumerate(nb.cells):
        where = f"{nb_path.name}, ячейка {index}"
        if cell.get("attachments"):
            problems.append(f"{where}: вложения {sorted(cell['attachments'])} (старая форма, "
                            f"Colab и GitHub их не показывают)")
        if cell.cell_type != "markdown":
            continue
        for name in _OLD_ANY.findall(cell.source):
            problems.append(f"{where}: ссылка attachment:{name} (старая форма, Colab и GitHub её "
                            f"не показывают)")
        for name, attrs, _ in tags(cell.source):
            image = images_dir / name
            if not image.is_file():
                problems.append(f"{where}: {name}: нет файла {image}")
                continue
            data = _decode_src(attrs.get("src", ""))
            if data is None:
                problems.append(f"{where}: {name}: src не base64 PNG ({_DATA_PREFIX}...)")
            elif data != image.read_bytes():
                problems.append(f"{where}: {name}: картинка отличается от {image} "
                                f"(перерисовали, но не встроили?)")
            if not attrs.get("alt"):
                problems.append(f"{where}: {name}: нет alt")
            if name not in widths:
                problems.append(f"{where}: {name}: нет ширины в DISPLAY_WIDTHS")
            elif attrs.get("width") != str(widths[name]):
                problems.append(f"{where}: {name}: width={attrs.get('width')!r}, "
                                f"ожидалось {widths[name]}")
    return problems


def shown_images(nb_path):
    """Names of the pictures the notebook shows in the new form, in order (repeats kept)."""
    nb = _read(nb_path)
    return [name for _, cell in _markdown_cells(nb) for name, _, _ in tags(cell.source)]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Встроить картинки из images/ в ноутбук как <img> с base64 или проверить их.")
    parser.add_argument("command", choices=["embed", "check"])
    parser.add_argument("notebook")
    parser.add_argument("--images", default=str(IMAGES_DIR), help="папка с PNG")
    args = parser.parse_args(argv)
    if args.command == "embed":
        try:
            changes = embed_images(args.notebook, args.images)
        except (FileNotFoundError, KeyError, ValueError) as error:
            print(error, file=sys.stderr)
            return 1
        for line in changes:
            print(line)
        print(f"{args.notebook}: " + ("записан" if changes else "без изменений"))
        return 0
    problems = check_images(args.notebook, args.images)
    for line in problems:
        print(line)
    if problems:
        print(f"исправить: python -m coursekit.notebook_images embed {args.notebook}")
        return 1
    print(f"{args.notebook}: картинки на месте")
    return 0


if __name__ == "__main__":
    sys.exit(main())
