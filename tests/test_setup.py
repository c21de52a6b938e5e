"""The set-up files agree with each other and with the README."""
import re

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
