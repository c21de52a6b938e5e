"""Every hint of tests.py names only things the student can find: what the release notebook says,
or standard PyTorch / Python API.

A hint («Подсказка: …» in a CheckError) is any string passed as `hint=` or as the second argument
of `_fail`, assigned to a variable named `hint`, or returned by a function whose name ends in
`_hint` (the f-string parts that are text, not the values put into them). In a hint, a *code name*
is a word with `_`, `.` or an inner capital (`expand_mask`, `permuted.float`, `LayerNorm`) or
followed by `(`. Each part of a code name (split at dots) must appear as a word in the text of the
released notebook (markdown and code cells) or be a public name of torch, torch.nn, torch.Tensor,
nn.Module or Python's builtins. A hint that names `_layer_norm`, `self._scaler` or `tanh_gelu`
without the text saying so sends the student looking for something the assignment never mentions.
"""
import ast
import builtins
import re

import pytest
import torch
from torch import nn

from coursekit import RELEASE_NB, ROOT
from coursekit import notebook_cells as nc

CHECKS = ROOT / "solutions" / "task3_bert" / "tests.py"
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# names every PyTorch user knows, looked up instead of listed
API = [torch, nn, nn.functional, torch.Tensor, nn.Module, builtins]


def _text_parts(node):
    """The literal text of a string expression: constants and f-string constant parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, (ast.BinOp, ast.BoolOp, ast.IfExp)):
        return [part for child in ast.iter_child_nodes(node) for part in _text_parts(child)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _text_parts(node.func.value)
    return []


def hints(source):
    """[(line, text)] of every hint string in the check module."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        exprs = []
        if isinstance(node, ast.Call):
            exprs += [kw.value for kw in node.keywords if kw.arg == "hint"]
            if isinstance(node.func, ast.Name) and node.func.id == "_fail" and len(node.args) > 1:
                exprs.append(node.args[1])
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "hint" for t in node.targets):
            exprs.append(node.value)
        elif isinstance(node, ast.FunctionDef) and node.name.endswith("_hint"):
            exprs += [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
        for expr in exprs:
            found += [(expr.lineno, text) for text in _text_parts(expr) if text.strip()]
    return found


def code_names(text):
    """Code names in a hint: words with `_`, `.`, an inner capital, or followed by `(`."""
    names = []
    for m in WORD.finditer(text):
        word = m.group(0).strip(".")
        call = text[m.end():m.end() + 1] == "("
        if "_" in word.strip("_") or "." in word or re.search(r"[a-z][A-Z]", word) or call \
                or word.startswith("_"):
            names.append(word)
    return names


def release_words():
    nb = nc.read(RELEASE_NB)
    return set(WORD.findall("\n".join(cell.source for cell in nb.cells))) | {
        part for word in WORD.findall("\n".join(cell.source for cell in nb.cells)) for part in word.split(".")}


def unknown(name, words):
    """Parts of a code name neither in the release text nor standard API."""
    return [part for part in name.split(".")
            if part and part not in words and not any(hasattr(mod, part) for mod in API)]


def test_hints_are_found():
    found = hints(CHECKS.read_text(encoding="utf-8"))
    assert len(found) >= 40, found  # the extraction really sees the hints
    assert any("expand_mask" in text for _, text in found)


def test_every_hint_names_only_what_the_release_mentions():
    assert RELEASE_NB.exists(), "релиз не собран: make release"
    words = release_words()
    offenders = []
    for line, text in hints(CHECKS.read_text(encoding="utf-8")):
        for name in code_names(text):
            missing = unknown(name, words)
            if missing:
                offenders.append(f"tests.py:{line}: {name!r} ({', '.join(missing)} нет в тексте задания): {text.strip()!r}")
    assert not offenders, "подсказки называют то, чего нет в тексте задания:\n" + "\n".join(offenders)


@pytest.mark.parametrize("text, names", [
    ("передайте eps в nn.LayerNorm(hidden_size, eps=eps)", ["nn.LayerNorm", "hidden_size"]),
    ("BCEWithLogitsLoss()(logits[:, 0], permuted.float())", ["BCEWithLogitsLoss", "permuted.float"]),
    ("сначала внимание, затем полносвязный блок", []),
])
def test_code_names(text, names):
    assert code_names(text) == names


def test_unknown_names_are_caught():
    words = {"permuted", "expand_mask", "self"}
    assert unknown("permuted.float", words) == []
    assert unknown("torch.arange", words) == []
    assert unknown("self._scaler", words) == ["_scaler"]
    assert unknown("tanh_gelu", words) == ["tanh_gelu"]
