"""The package's structure, read from its source (nothing imported): no module imports a
private name (``_x``) of another, and the import graph has no cycles.

Every ``import`` counts, also those inside functions (lazy imports for speed): a cycle of
lazy imports is still two modules that each need the other. Imports under
``if TYPE_CHECKING:`` do not count (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "replicasolve"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _target(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _imports(module: str, path: Path, modules: dict[str, Path]):
    """(imported module, imported name or None) for every import of ``module``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            target = _target(module, is_package, node.level, node.module)
            if not target.startswith("replicasolve"):
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in modules:
                    yield full, None
                else:
                    yield target, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, None


def _private_module(target: str, module: str) -> bool:
    """Whether ``target`` is a private module (``pkg._name``) that ``module`` may not import:
    a private module serves the modules directly in its own package, no others."""
    parent, _, last = target.rpartition(".")
    if not (last.startswith("_") and not last.startswith("__")):
        return False
    return module != parent and module.rpartition(".")[0] != parent


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    private = []
    for module, path in modules.items():
        for target, name in _imports(module, path, modules):
            if target != module and target in modules:
                edges[module].add(target)
            if (name is not None and name.startswith("_") and not name.startswith("__")
                    and target != module):
                private.append(f"{module} imports {target}.{name}")
            if _private_module(target, module):
                private.append(f"{module} imports from private module {target}")
    return edges, private


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_scan_sees_what_it_should() -> None:
    # the scanner itself, on a known graph: a 3-cycle and a private import are found
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    modules = _modules()
    assert "replicasolve.solvers.dispatch" in modules and len(modules) > 50


def test_no_private_names_cross_modules() -> None:
    _, private = _graph()
    assert private == []


def test_no_import_cycles() -> None:
    edges, _ = _graph()
    assert _cycles(edges) == []


# The floors of the pipeline, lowest first (README, "Layout"): a module imports only from
# its own floor or the floors below. Top-level modules not listed (errors, results,
# validation, files, ...) are the base floor.
FLOORS = {
    "symbolic": 1, "kernels": 2, "nets": 2, "data": 2, "models": 3, "solvers": 4, "tap": 4,
    "derivation": 4,
    "engines": 5, "studies": 6, "sweeps": 7, "plot": 7, "cli": 8, "__main__": 8,
}
# Known upward edges, each a convenience that a later redesign removes (none left: the
# Gaussian-limit landscape is answered by solvers.landscape, not by its problem object).
# A new upward edge fails the test.
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def _floor(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the facade re-exports every floor, lazily
    return FLOORS.get(parts[1], 0)


def test_floors_import_downward_only() -> None:
    edges, _ = _graph()
    upward = set()
    for source, targets in edges.items():
        here = _floor(source)
        for target in targets:
            there = _floor(target)
            if here is None or there is None:
                continue
            if there > here:
                upward.add((source, target))
    assert upward - ALLOWED_UPWARD == set()
    # the allowance shrinks as the debt is paid: an allowed edge that is gone must go
    assert ALLOWED_UPWARD - upward == set()


def test_modules_do_not_import_the_facade() -> None:
    # the package's own modules import what they need from where it lives: importing the
    # facade from inside would tie every floor to every other one
    edges, _ = _graph()
    assert sorted(s for s, targets in edges.items() if "replicasolve" in targets) == []


def test_version_is_the_one_in_pyproject() -> None:
    import tomllib

    from replicasolve import __version__

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == __version__


def test_no_facade_name_is_a_submodule() -> None:
    # importing a subpackage binds its name on the package: a facade function with the name
    # of a subpackage would turn into that module as soon as anything imported it
    import pkgutil

    import replicasolve

    submodules = {m.name for m in pkgutil.iter_modules(replicasolve.__path__)}
    assert sorted(set(replicasolve._EXPORTS) & submodules) == []
    # the scan sees the package's modules (a guard against an empty listing)
    assert {"solvers", "derivation", "errors"} <= submodules
