"""The set-up files agree with each other and with the README."""
import re
import subprocess
import tomllib

import yaml

from coursekit import ROOT


def _requirements():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {l.strip() for l in lines if l.strip() and not l.lstrip().startswith("#")}


def test_environment_yml_mirrors_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert set(pip_section) == _requirements()


def test_torch_pin_in_makefile_satisfies_requirements():
    from packaging.specifiers import SpecifierSet
    torch_req = next(r for r in _requirements() if r.startswith("torch"))
    pinned = re.search(r"TORCH_SPEC \?= torch==(\S+)", (ROOT / "Makefile").read_text()).group(1)
    assert pinned in SpecifierSet(torch_req[len("torch"):])


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make demo" in readme and "make test" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_setup_installs_bubblewrap_and_names_it_like_the_grader():
    from coursekit.sandbox import BWRAP_MISSING
    makefile = (ROOT / "Makefile").read_text()
    assert f"BWRAP_HINT := {BWRAP_MISSING}\n" in makefile
    assert re.search(r"^setup: .*\bbwrap\b", makefile, re.M), "make setup must install bubblewrap"
    assert re.search(r"^autograde: setup\n\t@command -v bwrap .*BWRAP_HINT", makefile, re.M)


def test_course_packages_are_installed_not_put_on_sys_path():
    """`make setup` installs coursekit and data (pip install -e .); no script edits sys.path."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\t\$\(PY\) -m pip install -q -e \.$", makefile, re.M), "make setup: pip install -e ."
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert set(project["tool"]["setuptools"]["packages"]["find"]["include"]) == {"coursekit", "data"}
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.sh"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    edits = [f for f in tracked if "sys.path.insert" in (ROOT / f).read_text(encoding="utf-8")
             and f != "tests/test_setup.py"]
    assert not edits, f"sys.path edits (import from the installed package instead): {edits}"


def test_fast_loop_skips_only_tests_marked_slow():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(m.startswith("slow:") for m in project["tool"]["pytest"]["ini_options"]["markers"])
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r'^test-fast: setup\n\t\$\(PY\) -m pytest .*-m "not slow"$', makefile, re.M)
    assert re.search(r"^test: setup\n\t\$\(PY\) -m pytest -q tests --ignore=tests/browser$", makefile, re.M)
