"""Collect an LMS bulk download into a course's submitted/<login>/task3_bert/ (`make collect`).

    python -m coursekit.collect --zip all.zip --lms moodle|canvas --roster roster.csv [--course DIR]
                                [--tz Europe/Moscow] [--force]

Archive shapes (what each LMS writes into its "download all submissions" zip):
- Moodle 3.x/4.x: folders `Full Name_<participant id>_assignsubmission_file_/<file>`; older Moodle:
  flat files `Full Name_<participant id>_assignsubmission_file_<file>`.
- Canvas: flat files `<lastfirst>_<user id>_<submission id>_<original name>`, `_late` after the
  name for a late one (`doejane_late_12345_67890_task3_bert.ipynb`); a resubmitted file's original
  name gets `-1`, `-2` before its extension (`task3_bert-1.ipynb`).
The names are parsed by nbgrader's own zip_collect plugin class (FileNameCollectorPlugin, one
subclass per LMS with its `named_regexp`); nbgrader's ZipCollectApp itself is not used: its
extractor unpacks nested archives and has no size caps, and it replaces a duplicate by the newer
file in silence -- here every entry is read from the zip in memory under caps, nothing is unpacked
but the accepted files, nothing already in submitted/ is replaced without --force, and every entry
not taken gets a line in <course>/collect_report.csv (Russian).

Roster CSV: columns `login` and `lms_id` (Moodle participant id / Canvas user id), optional `name`,
`email`, `sis_user_id`, `sis_login_id`, `section` (used again by coursekit.lms_export).
The time of each submission (timestamp.txt, read by nbgrader for the late penalty) is the zip
entry's time in --tz (the LMS server's time zone).
"""
import argparse
import csv
import datetime as dt
import re
import shutil
import stat
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin

from coursekit import ROOT
from coursekit.course import Course
from coursekit.grading import csv_safe, refuse_login
from coursekit.release import ASSIGNMENT

MAX_FILE = 100 << 20      # one file, uncompressed
MAX_TOTAL = 2 << 30       # the whole archive, uncompressed
MAX_STUDENT = 200 << 20   # one student's files together
MAX_RATIO = 200           # uncompressed / compressed, for entries over 1 MiB
MAX_ENTRIES = 20_000
ACCEPTED_EXT = (".ipynb", ".csv")
ARCHIVE_EXT = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
ROSTER_COLUMNS = ("login", "lms_id")


class MoodleCollector(FileNameCollectorPlugin):
    """`Full Name_<id>_assignsubmission_file_/<file>` (Moodle 3.x/4.x) or
    `Full Name_<id>_assignsubmission_file_<file>` (older Moodle)."""
    named_regexp = (r"^(?P<full_name>[^/]+?)_(?P<lms_id>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
                    r"(?:_/|/|_)(?P<file_id>[^/]+)$")  # folder with or without the last '_', or flat


class CanvasCollector(FileNameCollectorPlugin):
    """`<lastfirst>[_late]_<user id>_<submission id>_<original name>` (flat)."""
    named_regexp = (r"^(?P<full_name>[^_/]+)(?P<late>_late)?_(?P<lms_id>\d+)_(?P<submission_id>\d+)_"
                    r"(?P<file_id>[^/]+)$")

    def collect(self, submitted_file):
        info = super().collect(submitted_file)
        if info:  # a resubmission's file: task3_bert-1.ipynb -> task3_bert.ipynb
            info["file_id"] = re.sub(r"-\d+(?=\.[^.]+$)", "", info["file_id"])
        return info


COLLECTORS = {"moodle": MoodleCollector, "canvas": CanvasCollector}


def shown(text):
    """A name from the archive as it may be printed: control characters replaced, shortened."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))[:200]


def read_roster(path):
    """{lms_id: row}; a missing or malformed roster stops with a Russian message."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"нет файла списка студентов {path}: нужен CSV со столбцами login,lms_id[,name,email]")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ROSTER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"в списке студентов {path} нет столбцов {', '.join(missing)}; "
                             f"ожидаются столбцы login,lms_id[,name,email], получены: {reader.fieldnames}")
        roster = {}
        for n, row in enumerate(reader, start=2):
            login, lms_id = (row.get("login") or "").strip(), (row.get("lms_id") or "").strip()
            why = refuse_login(login) if login else "пустой логин"
            if why or not lms_id:
                raise SystemExit(f"{path}, строка {n}: {why or 'пустой lms_id'}; ожидается логин и id студента в LMS")
            if lms_id in roster:
                raise SystemExit(f"{path}, строка {n}: lms_id {shown(lms_id)} встречается дважды")
            roster[lms_id] = dict(row, login=login, lms_id=lms_id)
    return roster


def entry_problem(info):
    """Why a zip entry is never extracted ('' when it may be)."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "символьная ссылка"
    if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "не обычный файл"
    if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name
            or any(part in ("..", ".") for part in name.split("/"))):
        return "путь вне папки архива (абсолютный или с '..')"
    if any(not ch.isprintable() for ch in name):
        return "управляющие символы в имени"
    if info.file_size > MAX_FILE:
        return f"файл больше {MAX_FILE >> 20} МиБ"
    if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return f"сжат больше чем в {MAX_RATIO} раз (zip-бомба?)"
    if name.lower().endswith(ARCHIVE_EXT):
        return "вложенный архив не распаковывается"
    return ""


def read_entry(archive, info, budget):
    """The entry's bytes, reading at most MAX_FILE and `budget` bytes whatever its header says."""
    limit = min(MAX_FILE, budget)
    with archive.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"распакованный файл больше {limit >> 20} МиБ (заголовок обманывает)")
    return data


def entry_time(info, tz):
    return dt.datetime(*info.date_time, tzinfo=ZoneInfo(tz))


def collect(zip_path, lms, roster_path, course=None, tz="UTC", force=False, report=None):
    """Put each roster student's files from the archive into course.submitted/<login>/task3_bert/;
    returns the report rows (entry, login, status, reason), also written to
    course.root/collect_report.csv (or `report`)."""
    course = course or Course()
    if lms not in COLLECTORS:
        raise SystemExit(f"неизвестная LMS {shown(lms)}: ожидается moodle или canvas")
    try:
        ZoneInfo(tz)
    except Exception:
        raise SystemExit(f"неизвестный часовой пояс {shown(tz)}: ожидается имя вроде Europe/Moscow или UTC")
    roster = read_roster(roster_path)
    collector = COLLECTORS[lms]()
    collector.valid_ext = [".ipynb", ".csv", ".txt", ".py", ".pdf", ".html", ".md"]  # others: not a submission file
    rows, found = [], {}

    def note(entry, login, status, reason):
        rows.append(dict(entry=shown(entry), login=login, status=status, reason=reason))

    try:
        archive = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SystemExit(f"{zip_path} не читается как zip-архив ({exc}); ожидается архив «скачать все работы» "
                         f"из {lms}")
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise SystemExit(f"в архиве {len(infos)} записей, больше {MAX_ENTRIES}: не разбирается")
        budget = MAX_TOTAL
        for info in infos:
            if info.is_dir() and not stat.S_ISLNK(info.external_attr >> 16):
                continue
            why = entry_problem(info)
            parsed = None if why else collector.collect(info.filename)
            if why:
                note(info.filename, "", "пропущен", why)
                continue
            if not parsed:
                note(info.filename, "", "пропущен", f"имя не в форме файла работы из {lms} (или расширение не то)")
                continue
            if parsed.get("plugin") not in (None, "file"):
                note(info.filename, "", "пропущен", "не файл работы (например, текст ответа онлайн)")
                continue
            student = roster.get(parsed["lms_id"])
            if student is None:
                note(info.filename, "", "пропущен", f"студента с id {parsed['lms_id']} нет в списке")
                continue
            if not parsed["file_id"].lower().endswith(ACCEPTED_EXT):
                note(info.filename, student["login"], "пропущен",
                     f"файл не нужен для проверки (принимаются {', '.join(ACCEPTED_EXT)})")
                continue
            found.setdefault(student["login"], []).append((info, parsed))
        for login, entries in sorted(found.items()):
            notebooks = [e for e in entries if e[1]["file_id"].lower().endswith(".ipynb")]
            submissions = {p.get("submission_id") for _, p in entries}
            names = [p["file_id"] for _, p in entries]
            dest = course.submitted / login / ASSIGNMENT

            def skip(reason):
                for info, _ in entries:
                    note(info.filename, login, "пропущен", reason)
            if len(submissions) > 1:
                skip("в архиве несколько попыток этого студента: выберите одну вручную")
            elif len(set(names)) != len(names):
                skip("два файла с одним именем (повторная отправка?): выберите один вручную")
            elif len(notebooks) != 1:
                skip("нет ноутбука .ipynb" if not notebooks else "несколько ноутбуков: неясно, какой проверять")
            elif dest.exists() and not force:
                skip(f"работа уже есть в {dest.relative_to(course.root)}: не перезаписана (--force заменит)")
            else:
                try:
                    files, own = {}, MAX_STUDENT  # one student's files are held in memory, then written
                    for info, parsed in entries:
                        data = read_entry(archive, info, min(budget, own))
                        budget, own = budget - len(data), own - len(data)
                        files[parsed["file_id"]] = data
                except (ValueError, zipfile.BadZipFile, OSError, NotImplementedError) as exc:
                    skip(f"не распакован: {shown(exc)}")
                    continue
                replaced = dest.exists()
                if replaced:
                    shutil.rmtree(dest)
                dest.mkdir(parents=True)
                for name, data in files.items():
                    target = dest / (f"{ASSIGNMENT}.ipynb" if name.lower().endswith(".ipynb") else name)
                    target.write_bytes(data)
                stamp = max(entry_time(info, tz) for info, _ in entries)
                (dest / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S %z"))
                late = any(p.get("late") for _, p in entries)
                for info, parsed in entries:
                    reason = "заменил прежнюю работу (--force)" if replaced else ""
                    if late:
                        reason = "; ".join(filter(None, [reason, "LMS отметила работу как опоздавшую"]))
                    note(info.filename, login, "принят", reason)
    out = Path(report or course.root / "collect_report.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["entry", "login", "status", "reason"])
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in rows)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", required=True, type=Path, help="the LMS's 'download all submissions' archive")
    parser.add_argument("--lms", required=True, choices=sorted(COLLECTORS))
    parser.add_argument("--roster", required=True, type=Path, help="CSV: login,lms_id[,name,email,...]")
    parser.add_argument("--course", type=Path, default=ROOT, help="course root (submitted/ is written)")
    parser.add_argument("--tz", default="UTC", help="time zone of the archive's file times (the LMS server's)")
    parser.add_argument("--force", action="store_true", help="replace submissions already in submitted/")
    args = parser.parse_args(argv)
    rows = collect(args.zip, args.lms, args.roster, Course(args.course), args.tz, args.force)
    for r in rows:
        if r["status"] != "принят" or r["reason"]:
            print(f"{r['status']:<9} {r['login'] or '-':<20} {r['entry']}: {r['reason']}")
    taken = {r["login"] for r in rows if r["status"] == "принят"}
    print(f"принято работ: {len(taken)}; пропущено записей: {sum(r['status'] != 'принят' for r in rows)}; "
          f"отчёт: {Path(args.course).resolve() / 'collect_report.csv'}")


if __name__ == "__main__":
    sys.exit(main())
