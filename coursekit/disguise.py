"""A copied solution in disguise, as a student who copies would make it: every local variable of
every function renamed, the top-level functions and classes of each cell and the methods of each
class (after __init__) in reverse order; comments, strings and behaviour kept. Used by the demo
class (case `copied_renamed`) and by tests/test_similarity.py to show that the similarity report
finds the copy."""
import ast
import builtins
import re


def _local_names(func):
    """Names a function assigns (not its parameters, not globals it declares)."""
    params = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    declared = {n for node in ast.walk(func) if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
    stored = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return stored - params - declared - set(dir(builtins)) - {"self", "cls", "_"}


def rename_locals(source, prefix="my_"):
    """Each local variable `x` of each function -> `my_x` (only Name nodes inside that function)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []  # (line index, byte column, old name, new name)
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names = _local_names(func)
        inner = {id(n) for f in ast.walk(func) if f is not func and isinstance(f, (ast.FunctionDef, ast.Lambda))
                 for n in ast.walk(f)}
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and node.id in names and id(node) not in inner:
                edits.append((node.lineno - 1, node.col_offset, node.id, prefix + node.id))
    for line, col, old, new in sorted(set(edits), reverse=True):  # right to left: offsets stay valid
        raw = lines[line].encode()
        assert raw[col:col + len(old.encode())] == old.encode(), (line, old)
        lines[line] = (raw[:col] + new.encode() + raw[col + len(old.encode()):]).decode()
    return "".join(lines)


def _segments(lines, starts, end):
    """Cut lines[starts[0]:end] at each start; each piece keeps the comments and blank lines after it."""
    bounds = list(starts) + [end]
    return [lines[a:b] for a, b in zip(bounds, bounds[1:])]


def _start(node):
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1


def _reverse_tail(lines, nodes, end, gap):
    """Reverse the source pieces of `nodes` (consecutive statements ending at line `end`)."""
    pieces = _segments(lines, [_start(n) for n in nodes], end)
    pieces = [p if p[-1].strip() == "" else p + ["\n"] * gap for p in pieces]
    lines[_start(nodes[0]):end] = [ln for p in reversed(pieces) for ln in p]


def reorder(source):
    """Top-level defs/classes of a cell in reverse order, when they end the cell; the methods after
    __init__ of each class too, when they end the class body."""
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    tree = ast.parse(source)
    for cls in sorted((n for n in tree.body if isinstance(n, ast.ClassDef)), key=lambda n: -n.lineno):
        body = cls.body
        first = next((k for k, m in enumerate(body) if isinstance(m, funcs) and m.name != "__init__"), None)
        if first is not None and all(isinstance(m, funcs) for m in body[first:]) and len(body) - first > 1:
            _reverse_tail(lines, body[first:], cls.end_lineno, 1)
    tree = ast.parse("".join(lines))
    first = next((k for k, n in enumerate(tree.body) if isinstance(n, (*funcs, ast.ClassDef))), None)
    if first is not None and len(tree.body) - first > 1 and all(
            isinstance(n, (*funcs, ast.ClassDef)) for n in tree.body[first:]):
        _reverse_tail(lines, tree.body[first:], len(lines), 2)
    return re.sub(r"\n{3,}$", "\n", "".join(lines))


def disguise(source):
    """rename_locals then reorder; a cell that does not parse is returned as it is."""
    try:
        return reorder(rename_locals(source))
    except (SyntaxError, AssertionError, ValueError, IndexError):
        return source
