"""copydetect against Dolos on a small class (tests/similarity_class.py): the reference, an
independent implementation, a disguised copy of the reference, the untouched release. Both see
the same input: each student's own code (coursekit.similarity.own_code), the release's template as
boilerplate ("ignore" file for Dolos).

    python -m bench.similarity_compare [--dolos /path/with/node_modules]   # npm install @dodona/dolos-lib
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


from coursekit import notebook_cells as nc  # noqa: E402
from coursekit import similarity  # noqa: E402
from coursekit.course import Course  # noqa: E402
from coursekit.release import ASSIGNMENT, RELEASE_DIR  # noqa: E402
from tests.similarity_class import build  # noqa: E402

DOLOS_JS = """
import { Dolos } from "@dodona/dolos-lib";
const [ignore, ...paths] = process.argv.slice(2);
const dolos = new Dolos({ language: "python" });
const report = await dolos.analyzePaths(paths, ignore);
const out = report.allPairs().map(p => ({a: p.leftFile.path, b: p.rightFile.path, similarity: p.similarity}));
console.log(JSON.stringify(out));
"""


def dolos(codes, template, node_dir):
    folder = Path(tempfile.mkdtemp(prefix="dolos_", dir=node_dir))
    for name, code in codes.items():
        (folder / f"{name}.py").write_text(code or "\n")
    (folder / "template.py").write_text(template)
    script = Path(node_dir) / "run_dolos.mjs"
    script.write_text(DOLOS_JS)
    out = subprocess.run(["node", str(script), str(folder / "template.py"),
                          *[str(folder / f"{n}.py") for n in sorted(codes)]],
                         cwd=node_dir, capture_output=True, text=True, check=True).stdout
    pairs = json.loads(out.strip().splitlines()[-1])
    return {tuple(sorted((Path(p["a"]).stem, Path(p["b"]).stem))): round(p["similarity"], 4) for p in pairs}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dolos", type=Path, help="folder where `npm install @dodona/dolos-lib` was run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = Course(tmp)
        build(course.submitted)
        release_nb = nc.read(RELEASE_DIR / f"{ASSIGNMENT}.ipynb")
        codes, _ = similarity.class_codes(course, release_nb)
        template = "\n".join(similarity.release_cells(release_nb)[0].values())
        cd = {tuple(sorted((p["a"], p["b"]))): p["similarity"] for p in similarity.compare(codes, template)}
        dl = dolos(codes, template, args.dolos) if args.dolos else {}
    print(f"{'пара':<28}{'copydetect':>12}{'Dolos':>10}")
    for pair in sorted(cd, key=lambda p: -cd[p]):
        print(f"{' ~ '.join(pair):<28}{cd[pair]:>12.3f}{dl.get(pair, float('nan')):>10.3f}")
    print(f"строк своего кода: " + ", ".join(f"{k} {len(v.splitlines())}" for k, v in sorted(codes.items())))


if __name__ == "__main__":
    main()
