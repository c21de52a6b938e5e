"""What leaves a sandbox, and how: the grader takes files out of a kernel's folder by name, never
following a link (O_NOFOLLOW, relative to an fd of the folder opened with O_NOFOLLOW), regular
files only, up to a size cap. Nothing else the kernel wrote is read or copied."""
import os
import stat
from pathlib import Path

RECORDS_ENV = "TASK3_RECORDS"  # JSON for SafeExecute: where the kernel writes records, where they go


class Refused(Exception):
    """The file is not a regular file, is too big, or is not there."""


def open_dir(path):
    """fd of a folder, refused when it (its last component) is a link."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)


def read_regular(name, max_bytes, dir_fd=None):
    """Bytes of a regular file `name` (relative to dir_fd, or a path), never through a link."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        raise Refused(f"{name}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{name}: не обычный файл")
        data = f.read(max_bytes + 1)  # the kernel may still be writing it: read no more than the cap
    if len(data) > max_bytes:
        raise Refused(f"{name}: больше {max_bytes >> 20} МиБ")
    return data


def take_file(folder, name, dest, max_bytes):
    """Copy folder/name to dest (a new file of the grader's), with the guarantees above."""
    fd = open_dir(folder)
    try:
        data = read_regular(name, max_bytes, dir_fd=fd)
    finally:
        os.close(fd)
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "xb") as out:  # x: never over an existing file
        out.write(data)


def take_records(record_dir, out_dir, grade_id, check, count, max_bytes, graded=None):
    """After one cell ran: move the records the kernel wrote in record_dir out of its reach. Only the
    check cell `grade_id` (calling `check`, with IPython's counter `count`) may give a record, the
    first one only, saved as out_dir/<grade_id>.npz; every other record file is deleted.
    Returns notes on what was refused (for the review column): a record of a graded check (one of
    `graded`, all if None) made in another cell; an ungraded check cell's record goes silently."""
    notes = []
    try:
        fd = open_dir(record_dir)
    except OSError:
        return notes  # nothing recorded, or the folder is a link: nothing is taken
    try:
        names = sorted(os.listdir(fd))
        wanted = [f"{check}@{n}.npz" for n in (count + 1, count)] if check and isinstance(count, int) else []
        dest = Path(out_dir) / f"{grade_id}.npz"
        chosen = next((n for n in wanted if n in names), None)
        if chosen and not dest.exists():
            try:
                data = read_regular(chosen, max_bytes, dir_fd=fd)
                Path(out_dir).mkdir(parents=True, exist_ok=True)
                part = dest.with_name(f".{dest.name}.part")
                with open(part, "wb") as out:
                    out.write(data)
                os.link(part, dest)  # appears whole (the judge reads it while later cells run), never over another
                os.unlink(part)
            except Refused as exc:
                notes.append(f"запись проверки {grade_id} не принята: {exc}")
        for name in names:
            if name != chosen and name.endswith(".npz") and (graded is None or name.split("@")[0] in graded):
                notes.append(f"запись «{name[:60]}» сделана не в своей ячейке проверки и отброшена")
            try:
                os.unlink(name, dir_fd=fd)
            except OSError:
                pass  # a folder: left where it is, never read
    finally:
        os.close(fd)
    return notes
