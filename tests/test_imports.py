"""The layering of the packages, read from the source with `ast`: no module of `app/` or `model/`
imports itself back through a circle of imports (lazy imports inside functions included), and
`model/` never imports `app/` or tkinter (it is the part that runs without a display)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("app", "model")


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module in the packages (a package is its __init__.py)."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules (dotted, any package) that `name` imports anywhere in its source, except under
    ``if TYPE_CHECKING:`` (never run). ``from pkg import mod`` counts as importing ``pkg.mod``
    when that is a module of ours, else ``pkg``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.add(sub if sub in known else mod)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> every module it imports (all packages, ours and others)."""
    mods = _modules()
    return {name: _imported(name, path, set(mods)) for name, path in mods.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports among our modules, as the list of modules around it, or None."""
    ours = {n: sorted(d for d in deps if d in graph and d != n) for n, deps in graph.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for d in ours[n]:
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state and (found := walk(d)):
                return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(ours):
        if n not in state and (found := walk(n)):
            return found
    return None


def test_the_graph_sees_lazy_imports():
    """The reader finds imports inside functions (the kind that made the old circle) and resolves
    ``from pkg import module``: a check that could not see them would pass vacuously."""
    graph = _graph()
    assert "app.main_window" in graph["app.cli"]  # run_app, imported inside main()
    assert "app.recipes" in graph["app.cli"]  # train_config's --recipe
    assert "model.training_run" in graph["app.retrain"]  # inside the worker
    assert "tkinter" in graph["app.retrain"]


def test_no_module_imports_itself_back():
    cycle = _cycle(_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_a_circle_is_found_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c", "numpy"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_model_never_imports_app_or_tkinter():
    bad = {name: sorted(d for d in deps if d.split(".")[0] in ("app", "tkinter", "_tkinter"))
           for name, deps in _graph().items() if name.split(".")[0] == "model"}
    assert not {k: v for k, v in bad.items() if v}
