"""Similarity of the students' own code across a class (`make similarity`).

    python -m coursekit.similarity --course DIR [--threshold 0.5]

Reads DIR/submitted/<login>/task3_bert/task3_bert.ipynb (regular files only, size-capped), keeps
each student's own code: the code cells the release leaves to the student (its solution cells, by
grade id) and the code cells the student added, minus every line of the release's text (the
template's signatures, docstrings and stubs); locked cells never count. The code is compared with
copydetect (winnowed k-gram fingerprints of the tokenized code, identifiers normalized, so renamed
variables do not hide a copy; the release's own fingerprints are boilerplate and never match). A
pair is similar when either side's share of matched tokens reaches the threshold.

Out: DIR/similarity.html (pairs above a floor, both codes with the matched parts marked; every
student string escaped), DIR/similarity.csv (student, similar_to, max_similarity) and the
`similar_to` column of DIR/grades.csv (grading also reads similarity.csv). Points never change:
the column is for a human look.
"""
import argparse
import csv
import html
import io
import sys
import warnings
from pathlib import Path

import nbformat

from coursekit import ROOT
from coursekit import notebook_cells as nc
from coursekit import outbox
from coursekit.course import Course
from coursekit.grading import csv_safe
from coursekit.release import ASSIGNMENT, RELEASE_DIR

THRESHOLD = 0.6      # measured on tests/similarity_class.py: copy 0.957-0.965, independent pairs <= 0.379
REPORT_FLOOR = 0.2   # pairs shown in the HTML report
NOISE, GUARANTEE = 25, 30  # copydetect's defaults: k-gram length, winnowing guarantee
MAX_NOTEBOOK = 100 << 20


def release_cells(release_nb):
    """{grade_id: template source} of the release's solution cells, and the sources of all its cells."""
    solution = {nc.nbg(c)["grade_id"]: c.source for c in release_nb.cells
                if c.cell_type == "code" and nc.nbg(c).get("solution") and nc.nbg(c).get("grade_id")}
    return solution, {c.source for c in release_nb.cells}


def own_code(nb, release_nb):
    """The student's own code in notebook `nb`: solution cells and added code cells, without the
    release's lines."""
    solution, given = release_cells(release_nb)
    template_lines = {ln.strip() for c in release_nb.cells for ln in c.source.splitlines() if ln.strip()}
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not isinstance(cell.source, str):
            continue
        meta = nc.nbg(cell)
        gid = meta.get("grade_id")
        if gid in solution or (not gid and not meta.get("locked") and cell.source not in given):
            kept = [ln for ln in cell.source.splitlines() if ln.strip() and ln.strip() not in template_lines]
            if kept:
                out.append(f"# --- {gid or 'своя ячейка'}\n" + "\n".join(kept) + "\n")
    return "\n".join(out)


def read_notebook(path):
    return nbformat.reads(outbox.read_regular(path, MAX_NOTEBOOK).decode("utf-8", errors="replace"), as_version=4)


def fingerprint(name, code, boilerplate=None):
    from copydetect import CodeFingerprint
    win = GUARANTEE - NOISE + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CodeFingerprint(f"{name}.py", NOISE, win, boilerplate=boilerplate, fp=io.StringIO(code),
                               language="python")


def compare(codes, template=""):
    """All pairs of {name: code}: list of dicts (a, b, similarity = max of both shares, share_a,
    share_b, slices_a, slices_b), most similar first."""
    from copydetect import compare_files
    boiler = list(fingerprint("template", template).hashes) if template else None
    prints = {name: fingerprint(name, code, boiler) for name, code in codes.items()}
    names = sorted(codes)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if not prints[a].hashes or not prints[b].hashes:
                overlap, (sa, sb), (la, lb) = 0, (0.0, 0.0), ([], [])
            else:
                overlap, (sa, sb), (la, lb) = compare_files(prints[a], prints[b])
            pairs.append(dict(a=a, b=b, similarity=round(float(max(sa, sb)), 4), share_a=round(float(sa), 4),
                              share_b=round(float(sb), 4), slices_a=la, slices_b=lb, overlap=int(overlap)))
    return sorted(pairs, key=lambda p: -p["similarity"])


def class_codes(course, release_nb):
    """{login: own code} of every readable submission; {login: why not} for the others."""
    codes, problems = {}, {}
    for nb_path in sorted(course.submitted.glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")):
        login = nb_path.parent.parent.name
        try:
            codes[login] = own_code(read_notebook(nb_path), release_nb)
        except Exception as exc:
            problems[login] = f"ноутбук не прочитан: {type(exc).__name__}: {str(exc)[:200]}"
    return codes, problems


def marked(code, slices):
    """HTML of `code` with the matched slices in <mark>, everything escaped."""
    out, pos = [], 0
    starts, ends = (list(slices[0]), list(slices[1])) if len(slices) == 2 and len(slices[0]) else ([], [])
    for s, e in sorted(zip(starts, ends)):
        s, e = max(int(s), pos), int(e)
        if e <= s:
            continue
        out += [html.escape(code[pos:s]), "<mark>", html.escape(code[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(code[pos:]))
    return "".join(out)


def write_html(path, pairs, codes, threshold, problems):
    esc = html.escape
    rows = "".join(
        f"<tr class='{'flag' if p['similarity'] >= threshold else ''}'><td>{esc(p['a'])}</td><td>{esc(p['b'])}</td>"
        f"<td>{p['similarity']:.2f}</td><td>{p['share_a']:.2f} / {p['share_b']:.2f}</td></tr>"
        for p in pairs if p["similarity"] >= REPORT_FLOOR)
    details = "".join(
        f"<h2>{esc(p['a'])} и {esc(p['b'])}: {p['similarity']:.2f}</h2><div class='pair'>"
        f"<pre>{marked(codes[p['a']], p['slices_a'])}</pre><pre>{marked(codes[p['b']], p['slices_b'])}</pre></div>"
        for p in pairs if p["similarity"] >= threshold)
    skipped = "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in sorted(problems.items()))
    path.write_text(f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Похожие работы: {esc(ASSIGNMENT)}</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px}}
tr.flag{{background:#fdd}} .pair{{display:flex;gap:1em}} pre{{flex:1;overflow:auto;background:#f7f7f7;font-size:12px}}
mark{{background:#fc6}}</style></head><body>
<h1>Похожие работы: {esc(ASSIGNMENT)}</h1>
<p>Сравнивается только код, написанный студентами (шаблон задания и закрытые ячейки вычтены), программой
copydetect. Сходство — доля совпавших токенов у той работы, где она больше. Порог {threshold:.2f}: пары выше
отмечены и показаны ниже с совпавшими местами. Это повод посмотреть, а не вывод: баллы не меняются.</p>
<table><tr><th>студент</th><th>студент</th><th>сходство</th><th>доли (у первого / у второго)</th></tr>{rows}</table>
{'<p>Не сравнивались:</p><ul>' + skipped + '</ul>' if skipped else ''}
{details}
</body></html>
""", encoding="utf-8")


def similar_to(pairs, threshold):
    """{login: 'other (0.93); ...'} for the pairs at or above threshold."""
    found = {}
    for p in pairs:
        if p["similarity"] >= threshold:
            found.setdefault(p["a"], []).append((p["b"], p["similarity"]))
            found.setdefault(p["b"], []).append((p["a"], p["similarity"]))
    return {k: "; ".join(f"{o} ({s:.2f})" for o, s in sorted(v, key=lambda x: -x[1])) for k, v in found.items()}


def read_csv(course):
    """{login: similar_to} from course/similarity.csv ({} when there is none)."""
    path = course.root / "similarity.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {r["student"]: r["similar_to"] for r in csv.DictReader(f)}


def add_column(course, rows):
    """grades.csv rows get `similar_to` from similarity.csv (empty when none)."""
    found = read_csv(course)
    for row in rows:
        row["similar_to"] = found.get(row["student"], "")
    return rows


def report(course, threshold=THRESHOLD, release_dir=RELEASE_DIR):
    """Write similarity.html and similarity.csv of the course and the similar_to column of its
    grades.csv; returns the pairs."""
    release_nb = nc.read(Path(release_dir) / f"{ASSIGNMENT}.ipynb")
    codes, problems = class_codes(course, release_nb)
    template = "\n".join(release_cells(release_nb)[0].values())
    pairs = compare(codes, template)
    write_html(course.root / "similarity.html", pairs, codes, threshold, problems)
    found = similar_to(pairs, threshold)
    best = {}
    for p in pairs:
        for k in (p["a"], p["b"]):
            best[k] = max(best.get(k, 0.0), p["similarity"])
    with open(course.root / "similarity.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student", "similar_to", "max_similarity"])
        writer.writeheader()
        for login in sorted(codes):
            writer.writerow({k: csv_safe(v) for k, v in dict(student=login, similar_to=found.get(login, ""),
                                                             max_similarity=best.get(login, 0.0)).items()})
    if course.grades_csv.is_file():  # merge into grades.csv: one more column, no points changed
        with open(course.grades_csv, newline="") as f:
            reader = csv.DictReader(f)
            fields, rows = list(reader.fieldnames or []), list(reader)
        if "similar_to" not in fields:
            fields.append("similar_to")
        for row in rows:
            row["similar_to"] = csv_safe(found.get(row["student"].lstrip("'"), ""))
        with open(course.grades_csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return pairs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=ROOT)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    course = Course(args.course)
    if not course.submitted.is_dir():
        raise SystemExit(f"нет папки работ {course.submitted}: ожидается курс с submitted/<логин>/{ASSIGNMENT}/")
    pairs = report(course, args.threshold)
    flagged = [p for p in pairs if p["similarity"] >= args.threshold]
    for p in flagged:
        show = lambda s: "".join(ch if ch.isprintable() else "?" for ch in s)  # noqa: E731
        print(f"{show(p['a'])} ~ {show(p['b'])}: {p['similarity']:.2f}")
    print(f"пар выше порога {args.threshold:.2f}: {len(flagged)} из {len(pairs)}; "
          f"отчёт: {course.root / 'similarity.html'}")


if __name__ == "__main__":
    sys.exit(main())
