"""The house rules that a reader checks by eye, checked by the tests instead.

* DESIGN.md's layers: imports point down only (``cli`` at the top, ``_kernels`` at the bottom; the
  domain modules — scenario, clock, units, random streams, errors... — are the floor everyone stands
  on and import nothing above ``_kernels``).
* Neither the simulator nor the planner imports a policy module: they ask the engine (issue 11).
* No module longer than 800 lines, no Python function over 150 lines, no kernel function over 300.
* Tests outside ``tests/engine/`` read no private attribute of the engine (issue 11: they use the facade).
"""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "omsim"

# Ranks from DESIGN.md "Layers (imports point down only)"; a module may import its own rank or below.
LAYERS = {
    "_kernels": 0, "solvers": 1, "warehouse": 2, "fulfilment": 3, "engine": 4, "sim": 5, "history": 6,
    "report": 7, "sweep": 8, "compare": 8, "plan": 8, "service": 9, "cli": 10,
}
BOTTOM = 0.5   # every other top-level module: domain types, scenario, clock, units, rng, errors, ...

# Upward imports that are deliberate, each done lazily inside the one function that needs it:
# (importing module, imported module or package) -> why.
ALLOWED_UP = {
    ("omsim.scenario_policies", "omsim.warehouse"):
        "a scenario's routing/batching method is validated against the registries",
    ("omsim.scenario_tables", "omsim.history.read"):
        "demand.history: the SKUs a replayed history adds to the catalogue",
    ("omsim.sim.cancellations", "omsim.history.cancellations"):
        "a replay matches the history's cancellation invoices to its orders (pure pandas)",
}
POLICY_MODULES = ("omsim.warehouse.batching", "omsim.warehouse.routing", "omsim.warehouse.heuristics",
                  "omsim.fulfilment.allocation")


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = parts
        else:
            package = parts[:-1]
        yield path, ".".join(parts), package


def _imports(path: pathlib.Path, package: list[str]):
    """Every ``omsim...`` module a file imports (absolute or relative), with its line number."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "omsim":
                for alias in node.names:
                    yield f"omsim.{alias.name}", node.lineno
            elif target.startswith("omsim."):
                yield target, node.lineno
                for alias in node.names:
                    yield f"{target}.{alias.name}", node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("omsim."):
                    yield alias.name, node.lineno


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _rank(top: str) -> float:
    return LAYERS.get(top, BOTTOM)


def test_imports_point_down():
    wrong = []
    for path, module, package in _modules():
        me = _top(module)
        if me in ("", "__main__"):
            continue        # the package's own facade (``omsim.run`` ...) sits above everything
        for target, line in _imports(path, package):
            them = _top(target)
            if them in ("", "__version__") or them == me or _allowed(module, target):
                continue
            if _rank(them) > _rank(me):
                wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {me} imports {target} (a higher layer)")
    assert not wrong, "\n".join(wrong)


def _allowed(module: str, target: str) -> bool:
    return any(module == m and (target == t or target.startswith(t + ".")) for m, t in ALLOWED_UP)


def test_the_allowed_upward_imports_are_still_needed():
    found = {(m, t) for p, m, pk in _modules() for t, _ in _imports(p, pk)}
    unused = {(m, t) for m, t in ALLOWED_UP if not any(fm == m and (ft == t or ft.startswith(t + "."))
                                                         for fm, ft in found)}
    assert not unused, f"drop the allowance for {unused}"


def test_simulator_and_planner_import_no_policy_module():
    wrong = []
    for path, module, package in _modules():
        if module.startswith("omsim.sim") or module == "omsim.plan":
            for target, line in _imports(path, package):
                if target.startswith(POLICY_MODULES):
                    wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {target}")
    assert not wrong, "ask the engine (omsim.engine.floor / sourcing) instead:\n" + "\n".join(wrong)


def test_tests_outside_tests_engine_touch_no_engine_private_attribute():
    """The engine's private names (its instance's and its mixins' ``_x``), read as ``anything._x`` by a
    test outside tests/engine/ (``self._x`` of a test's own class aside): they would pin the internals."""
    import omsim
    from omsim.engine import DecisionEngine

    engine = DecisionEngine.from_scenario(omsim.load_scenario())
    private = {k for k in vars(engine) if k.startswith("_") and not k.startswith("__")}
    for cls in DecisionEngine.__mro__:
        if cls.__module__.startswith("omsim.engine"):
            private |= {k for k in vars(cls) if k.startswith("_") and not k.startswith("__")}
    assert {"_open", "_store", "_booking"} <= private          # the scan knows what it looks for
    tests = pathlib.Path(__file__).resolve().parent
    wrong = []
    for path in sorted(tests.rglob("*.py")):
        if path.relative_to(tests).parts[0] == "engine":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Attribute) and node.attr in private
                    and not (isinstance(node.value, ast.Name) and node.value.id == "self")):
                wrong.append(f"{path.relative_to(tests)}:{node.lineno}: {ast.unparse(node)}")
    assert not wrong, "read the engine through its facade (omsim.engine.views):\n" + "\n".join(wrong)


def test_module_and_function_sizes():
    wrong = []
    for path, _, _ in _modules():
        text = path.read_text()
        lines = text.count("\n")
        if lines > 800:
            wrong.append(f"{path.relative_to(SRC.parent)}: {lines} lines (limit 800)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 150:
                    wrong.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: {node.name} {n} lines (limit 150)")
    assert not wrong, "\n".join(wrong)


_KERNEL_DEF = re.compile(r"^(?:cdef|cpdef|def)\s+(?:[\w\[\]\*,\s]+?\s)?\**(\w+)\s*\(")


def kernel_functions(text: str):
    """(name, first line, length) of each top-level function in a .pyx file: from its ``def``/``cdef``
    line to the last indented line before the next top-level statement."""
    lines = text.splitlines()
    out, start, name, last = [], None, None, None
    for i, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if start is not None:
                out.append((name, start, last - start + 1))
                start = None
            m = _KERNEL_DEF.match(line)
            if m:
                start, name = i, m.group(1)
        last = i
    if start is not None:
        out.append((name, start, last - start + 1))
    return out


def test_kernel_function_lengths_are_measured():
    text = "cdef int f(int a) nogil:\n    a += 1\n\n    return a\n\ndef g():\n    pass\nX = 1\n"
    assert kernel_functions(text) == [("f", 1, 4), ("g", 6, 2)]


@pytest.mark.parametrize("path", sorted((SRC / "_kernels").glob("*.pyx")), ids=lambda p: p.name)
def test_kernel_function_sizes(path):
    long = [f"{name} (line {start}): {n} lines" for name, start, n in kernel_functions(path.read_text())
            if n > 300]
    assert not long, f"{path.name}: " + "; ".join(long) + " (limit 300)"
