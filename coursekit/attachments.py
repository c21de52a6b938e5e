"""Keep the notebook's pictures inside the notebook, as markdown-cell attachments.

A markdown cell that shows `![...](attachment:transformer.png)` gets the bytes of
`images/transformer.png` in its `attachments`, so the picture renders both in the repository
and in a release folder handed out on its own (nbgrader copies the notebook, not images/).

    python -m coursekit.attachments embed solutions/task3_bert/task3_bert.ipynb
    python -m coursekit.attachments check solutions/task3_bert/task3_bert.ipynb   # exit 1 on problems

`images/draw_images.py` draws the PNGs; `make images` draws and embeds.
"""
import argparse
import base64
import binascii
import mimetypes
import re
import sys
from pathlib import Path

import nbformat

from coursekit import ROOT

IMAGES_DIR = ROOT / "images"

# `attachment:NAME` inside markdown links/images or HTML src="..."
_REF = re.compile(r"attachment:([^\s)\"'<>]+)")


def referenced(source):
    """Attachment names referenced in a cell's source, in order, without repeats."""
    return list(dict.fromkeys(_REF.findall(source)))


def _mime(name):
    mime, _ = mimetypes.guess_type(name)
    return mime or "application/octet-stream"


def _decode(data):
    """Bytes of a stored attachment (a base64 string, possibly split into lines)."""
    if isinstance(data, list):
        data = "".join(data)
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError, AttributeError, TypeError):
        return None


def _cells_with_attachments(nb):
    # code cells cannot carry attachments in nbformat 4
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type in ("markdown", "raw")]


def embed_images(nb_path, images_dir=IMAGES_DIR):
    """Attach images_dir/NAME to every markdown cell referencing `attachment:NAME`.

    Attachments no longer referenced by their cell are dropped. The notebook is written back
    (same nbformat version) only if something changed. Returns the list of changes made.
    Raises FileNotFoundError, before writing anything, if a referenced image does not exist.
    """
    nb_path, images_dir = Path(nb_path), Path(images_dir)
    nb = nbformat.read(str(nb_path), as_version=nbformat.NO_CONVERT)
    if nb.nbformat < 4:
        raise ValueError(f"{nb_path}: nbformat {nb.nbformat} has no cell attachments")

    missing = sorted({name for _, cell in _cells_with_attachments(nb)
                      for name in referenced(cell.source)
                      if not (images_dir / name).is_file()})
    if missing:
        raise FileNotFoundError(
            f"нет картинок в {images_dir}: {', '.join(missing)} "
            f"(нарисуйте их: python images/draw_images.py)")

    changes = []
    for index, cell in _cells_with_attachments(nb):
        names = referenced(cell.source)
        old = cell.get("attachments", {})
        new = {}
        for name in names:
            data = (images_dir / name).read_bytes()
            mime = _mime(name)
            bundle = old.get(name, {})
            if set(bundle) == {mime} and _decode(bundle[mime]) == data:
                new[name] = bundle                      # unchanged: keep as stored
            else:
                new[name] = {mime: base64.b64encode(data).decode("ascii")}
                changes.append(f"ячейка {index}: {'обновлено' if name in old else 'добавлено'}"
                               f" {name}")
        for name in old:
            if name not in new:
                changes.append(f"ячейка {index}: удалено {name} (больше не упоминается)")
        if new:
            if new != old:
                cell["attachments"] = nbformat.from_dict(new)
        elif "attachments" in cell:
            del cell["attachments"]
            if not old:
                changes.append(f"ячейка {index}: удалено пустое поле attachments")

    if changes:
        nbformat.validate(nb)
        nbformat.write(nb, str(nb_path), version=nb.nbformat)
    return changes


def check_images(nb_path, images_dir=IMAGES_DIR):
    """Problems with the notebook's attachments, as a list of messages (empty: all is well).

    A problem is: a referenced attachment missing from the cell, an attachment whose bytes
    differ from images_dir/NAME (or whose image file is gone), an attachment no cell references.
    PNGs in images_dir that no cell references are fine.
    """
    nb_path, images_dir = Path(nb_path), Path(images_dir)
    nb = nbformat.read(str(nb_path), as_version=nbformat.NO_CONVERT)
    problems = []
    for index, cell in _cells_with_attachments(nb):
        names = referenced(cell.source)
        attachments = cell.get("attachments", {}) or {}
        for name in names:
            where = f"{nb_path.name}, ячейка {index}: {name}"
            if name not in attachments:
                problems.append(f"{where}: нет во вложениях ячейки (ссылка attachment:{name})")
                continue
            image = images_dir / name
            if not image.is_file():
                problems.append(f"{where}: нет файла {image}")
                continue
            bundle = attachments[name]
            mime = _mime(name)
            if mime not in bundle:
                problems.append(f"{where}: во вложении нет {mime} (есть {sorted(bundle)})")
            elif _decode(bundle[mime]) is None:
                problems.append(f"{where}: вложение не читается как base64")
            elif _decode(bundle[mime]) != image.read_bytes():
                problems.append(f"{where}: вложение отличается от {image} "
                                f"(перерисовали картинку, но не встроили?)")
        for name in attachments:
            if name not in names:
                problems.append(f"{nb_path.name}, ячейка {index}: вложение {name} "
                                f"нигде в ячейке не упоминается")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Встроить картинки из images/ в ноутбук как вложения или проверить их.")
    parser.add_argument("command", choices=["embed", "check"])
    parser.add_argument("notebook")
    parser.add_argument("--images", default=str(IMAGES_DIR), help="папка с PNG")
    args = parser.parse_args(argv)
    if args.command == "embed":
        try:
            changes = embed_images(args.notebook, args.images)
        except FileNotFoundError as error:
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
        print(f"исправить: python -m coursekit.attachments embed {args.notebook}")
        return 1
    print(f"{args.notebook}: картинки на месте")
    return 0


if __name__ == "__main__":
    sys.exit(main())
