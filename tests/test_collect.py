"""coursekit.collect: an LMS bulk download into submitted/<login>/task3_bert/, every entry not taken
reported, nothing written outside the course, nothing replaced in silence. The archives are built
here in the shapes each LMS writes (see the docstrings)."""
import csv
import stat
import zipfile

import nbformat
import pytest

from coursekit import collect
from coursekit.course import Course
from coursekit.release import ASSIGNMENT

NB = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])).encode()


def roster(tmp_path, rows):
    path = tmp_path / "roster.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["login", "lms_id", "name", "email"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def add(z, name, data, mode=0o100644, date=(2026, 12, 1, 12, 0, 0), compress=zipfile.ZIP_DEFLATED):
    info = zipfile.ZipInfo(name, date_time=date)
    info.external_attr = mode << 16
    info.compress_type = compress
    z.writestr(info, data)


def report(course):
    with open(course.root / "collect_report.csv", newline="") as f:
        return list(csv.DictReader(f))


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


STUDENTS = [dict(login="ivanov", lms_id="101", name="Иван Иванов", email="ivanov@example.org"),
            dict(login="petrova", lms_id="102", name="Анна Петрова", email="petrova@example.org"),
            dict(login="sidorov", lms_id="103", name="Пётр Сидоров", email="sidorov@example.org"),
            dict(login="kuznetsova", lms_id="104", name="Ольга Кузнецова", email="k@example.org"),
            dict(login="smirnov", lms_id="105", name="Олег Смирнов", email="s@example.org")]


def test_moodle_folders_and_everything_not_understood(tmp_path):
    """Moodle 3.x/4.x "Download all submissions": one folder per participant,
    `Full Name_<participant id>_assignsubmission_file_/<file>`; older Moodle: the same prefix on
    flat files, `Full Name_<id>_assignsubmission_file_<file>`."""
    zpath = tmp_path / "moodle.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        add(z, "Иван Иванов_101_assignsubmission_file_/task3_bert.ipynb", NB)
        add(z, "Иван Иванов_101_assignsubmission_file_/test_predictions.csv", b"text,label\na,1\n")
        add(z, "Анна Петрова_102_assignsubmission_file_task3_bert (1).ipynb", NB)  # older Moodle, flat
        add(z, "Пётр Сидоров_103_assignsubmission_file_/a.ipynb", NB)           # two notebooks
        add(z, "Пётр Сидоров_103_assignsubmission_file_/b.ipynb", NB)
        add(z, "Ольга Кузнецова_104_assignsubmission_file_/test_predictions.csv", b"x")  # no notebook
        add(z, "Чужой Человек_999_assignsubmission_file_/task3_bert.ipynb", NB)  # not in the roster
        add(z, "Олег Смирнов_105_assignsubmission_file_/work.zip", b"PK\x03\x04")  # nested archive
        add(z, "Олег Смирнов_105_assignsubmission_file_/../../../etc/evil.ipynb", NB)  # traversal
        add(z, "/tmp/absolute.ipynb", NB)
        add(z, "Олег Смирнов_105_assignsubmission_file_/link.ipynb", "/etc/passwd", mode=stat.S_IFLNK | 0o777)
        add(z, "Олег Смирнов_105_assignsubmission_file_/bomb.csv", b"0" * (120 << 20))  # over the per-file cap
        add(z, "Олег Смирнов_105_assignsubmission_onlinetext_/onlinetext.html", b"<p>hi</p>")
    course = Course(tmp_path / "course")
    rows = collect.collect(zpath, "moodle", roster(tmp_path, STUDENTS), course)
    assert sorted(p.name for p in course.submitted.iterdir()) == ["ivanov", "petrova"]
    assert files_under(course.submitted / "ivanov") == [f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                                                        f"{ASSIGNMENT}/test_predictions.csv",
                                                        f"{ASSIGNMENT}/timestamp.txt"]
    assert (course.submitted / "ivanov" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes() == NB
    assert (course.submitted / "petrova" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes() == NB
    assert (course.submitted / "ivanov" / ASSIGNMENT / "timestamp.txt").read_text() == "2026-12-01 12:00:00 +0000"
    # nothing anywhere else under tmp but the archive, the roster, the course's submissions and report
    assert files_under(tmp_path) == sorted(
        ["moodle.zip", "roster.csv", "course/collect_report.csv"]
        + [f"course/submitted/{p}" for p in ("ivanov/" + f for f in files_under(course.submitted / "ivanov"))]
        + [f"course/submitted/petrova/{f}" for f in files_under(course.submitted / "petrova")])
    written = report(course)
    assert written == [{k: str(v) for k, v in r.items()} for r in rows]
    why = {r["entry"]: r["reason"] for r in written if r["status"] == "пропущен"}
    assert why["Пётр Сидоров_103_assignsubmission_file_/a.ipynb"].startswith("несколько ноутбуков")
    assert why["Ольга Кузнецова_104_assignsubmission_file_/test_predictions.csv"] == "нет ноутбука .ipynb"
    assert "нет в списке" in why["Чужой Человек_999_assignsubmission_file_/task3_bert.ipynb"]
    assert "вложенный архив" in why["Олег Смирнов_105_assignsubmission_file_/work.zip"]
    assert "'..'" in why["Олег Смирнов_105_assignsubmission_file_/../../../etc/evil.ipynb"]
    assert "абсолютный" in why["/tmp/absolute.ipynb"]
    assert why["Олег Смирнов_105_assignsubmission_file_/link.ipynb"] == "символьная ссылка"
    assert "больше 100 МиБ" in why["Олег Смирнов_105_assignsubmission_file_/bomb.csv"]
    assert "онлайн" in why["Олег Смирнов_105_assignsubmission_onlinetext_/onlinetext.html"]
    assert len(written) == 13  # one line per entry of the archive


def test_zip_bomb_by_ratio_and_lying_header(tmp_path):
    """An entry that inflates more than MAX_RATIO times is refused by its header; one whose header
    understates its size is cut at the cap while read."""
    zpath = tmp_path / "moodle.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        add(z, "Иван Иванов_101_assignsubmission_file_/task3_bert.ipynb", NB)
        add(z, "Иван Иванов_101_assignsubmission_file_/test_predictions.csv", b"\0" * (50 << 20))
    course = Course(tmp_path / "course")
    rows = collect.collect(zpath, "moodle", roster(tmp_path, STUDENTS[:1]), course)
    assert any("zip-бомба" in r["reason"] for r in rows)
    assert not (course.submitted / "ivanov" / ASSIGNMENT / "test_predictions.csv").exists()

    zpath = tmp_path / "lying.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        add(z, "Иван Иванов_101_assignsubmission_file_/task3_bert.ipynb", NB, compress=zipfile.ZIP_STORED)
    with zipfile.ZipFile(zpath) as z:
        assert z.infolist()[0].file_size == len(NB)
    monkey = pytest.MonkeyPatch()
    monkey.setattr(collect, "MAX_FILE", 10)  # the real bytes are over the cap, whatever the header says
    try:
        rows = collect.collect(zpath, "moodle", roster(tmp_path, STUDENTS[:1]), Course(tmp_path / "c2"))
    finally:
        monkey.undo()
    assert rows[0]["status"] == "пропущен"
    assert not (tmp_path / "c2" / "submitted").exists() or not any((tmp_path / "c2" / "submitted").rglob("*.ipynb"))


def test_canvas_late_resubmission_and_no_silent_overwrite(tmp_path):
    """Canvas "Download Submissions": flat `<lastfirst>_<user id>_<submission id>_<original name>`,
    `_late` after the name for a late one (`doejane_late_12345_67890_task3_bert.ipynb`), `-1`,
    `-2` on a resubmitted file's name (`task3_bert-1.ipynb`)."""
    people = [dict(login="doe", lms_id="12345", name="Jane Doe", email="jane@example.org"),
              dict(login="roe", lms_id="12346", name="Rick Roe", email="rick@example.org"),
              dict(login="poe", lms_id="12347", name="Ed Poe", email="ed@example.org")]
    zpath = tmp_path / "canvas.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        add(z, "doejane_late_12345_67890_task3_bert-1.ipynb", NB, date=(2026, 12, 3, 9, 30, 0))
        add(z, "doejane_late_12345_67890_test_predictions.csv", b"text,label\n", date=(2026, 12, 3, 9, 31, 0))
        add(z, "roerick_12346_67891_task3_bert.ipynb", NB)
        add(z, "roerick_12346_67899_task3_bert.ipynb", NB)  # a second submission id for one student
        add(z, "poeed_12347_67892_task3_bert.ipynb", NB)
        add(z, "poeed_12347_67892_task3_bert-1.ipynb", NB)  # the same file twice
    course = Course(tmp_path / "course")
    path = roster(tmp_path, people)
    rows = collect.collect(zpath, "canvas", path, course, tz="Europe/Moscow")
    assert sorted(p.name for p in course.submitted.iterdir()) == ["doe"]
    doe = course.submitted / "doe" / ASSIGNMENT
    assert (doe / f"{ASSIGNMENT}.ipynb").read_bytes() == NB
    assert (doe / "timestamp.txt").read_text() == "2026-12-03 09:31:00 +0300"
    by_entry = {r["entry"]: r for r in rows}
    assert "опоздавшую" in by_entry["doejane_late_12345_67890_task3_bert-1.ipynb"]["reason"]
    assert "несколько попыток" in by_entry["roerick_12346_67891_task3_bert.ipynb"]["reason"]
    assert "одним именем" in by_entry["poeed_12347_67892_task3_bert.ipynb"]["reason"]

    (doe / f"{ASSIGNMENT}.ipynb").write_bytes(b"edited by hand")
    rows = collect.collect(zpath, "canvas", path, course)
    assert (doe / f"{ASSIGNMENT}.ipynb").read_bytes() == b"edited by hand"
    assert "не перезаписана" in {r["entry"]: r for r in rows}["doejane_late_12345_67890_task3_bert-1.ipynb"]["reason"]
    rows = collect.collect(zpath, "canvas", path, course, force=True)
    assert (doe / f"{ASSIGNMENT}.ipynb").read_bytes() == NB
    assert "заменил" in {r["entry"]: r for r in rows}["doejane_late_12345_67890_task3_bert-1.ipynb"]["reason"]


def test_report_cells_escaped_and_bad_input_messages(tmp_path):
    zpath = tmp_path / "canvas.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        add(z, "=cmd_12345_1_task3_bert.ipynb", NB)
    course = Course(tmp_path / "course")
    collect.collect(zpath, "canvas", roster(tmp_path, STUDENTS[:1]), course)
    assert report(course)[0]["entry"].startswith("'=")
    with pytest.raises(SystemExit, match="не читается как zip"):
        collect.collect(roster(tmp_path, STUDENTS), "canvas", roster(tmp_path, STUDENTS), course)
    bad = tmp_path / "bad_roster.csv"
    bad.write_text("user,id\na,1\n")
    with pytest.raises(SystemExit, match="нет столбцов login, lms_id"):
        collect.collect(zpath, "canvas", bad, course)
    with pytest.raises(SystemExit, match="ожидается moodle или canvas"):
        collect.collect(zpath, "blackboard", bad, course)
    bad.write_text("login,lms_id\n../x,1\n")
    with pytest.raises(SystemExit, match="логин не принят"):
        collect.collect(zpath, "canvas", bad, course)


@pytest.mark.parametrize("name, file_id", [
    ("Иван Иванов_101_assignsubmission_file_/task3_bert.ipynb", "task3_bert.ipynb"),   # Moodle 3.x/4.x folders
    ("Иван Иванов_101_assignsubmission_file/task3_bert.ipynb", "task3_bert.ipynb"),    # folder without the last '_'
    ("Иван Иванов_101_assignsubmission_file_task3_bert.ipynb", "task3_bert.ipynb"),    # older Moodle, flat
    ("Иван_Иванов_101_assignsubmission_file_/a_1_b.ipynb", "a_1_b.ipynb"),
    ("Иван Иванов_101_assignsubmission_file_/sub/task3_bert.ipynb", None),             # a subfolder: not taken
    ("task3_bert.ipynb", None),
])
def test_moodle_name_shapes(name, file_id):
    parsed = collect.MoodleCollector().collect(name)
    assert (parsed or {}).get("file_id") == file_id
    if parsed:
        assert parsed["lms_id"] == "101"
