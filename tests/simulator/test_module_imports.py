"""The simulator's modules import each other one way only, at the top of each module.

A cycle hidden in a function-level import works until someone imports the modules in
another order; these tests read every module's imports (wherever they stand) and
import each module first in a fresh interpreter.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import teslasim

PACKAGE = Path(teslasim.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path) -> set[str]:
    """The teslasim modules ``path`` imports anywhere in its text, as dotted names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES}


def function_level_imports(path: Path) -> list[str]:
    """teslasim imports that stand inside a function or class body of ``path``."""
    tree = ast.parse(path.read_text("utf-8"))
    nested = []
    for scope in ast.walk(tree):
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for node in ast.walk(scope):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("teslasim"):
                    nested.append(f"line {node.lineno}: from {node.module}")
                elif isinstance(node, ast.Import):
                    nested += [f"line {node.lineno}: import {alias.name}"
                               for alias in node.names if alias.name.startswith("teslasim")]
    return nested


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` as a list of module names, or [] when there is none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str]:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return []
        path.append(name)
        for target in sorted(graph[name]):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return []

    for name in sorted(graph):
        cycle = visit(name)
        if cycle:
            return cycle
    return []


def test_the_import_graph_has_no_cycle():
    graph = {name: imported_modules(path) - {name} for name, path in MODULES.items()}
    assert "teslasim.vehicle_commands" in graph["teslasim.routes.owner_api"]
    assert find_cycle(graph) == []


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_module_imports_the_simulator_inside_a_function():
    nested = {name: function_level_imports(path) for name, path in MODULES.items()}
    assert {name: lines for name, lines in nested.items() if lines} == {}


def test_every_module_imports_first_in_a_fresh_interpreter():
    script = ("import importlib, sys\n"
              "for name in sys.argv[1:]:\n"
              "    for loaded in [m for m in sys.modules if m.startswith('teslasim')]:\n"
              "        del sys.modules[loaded]\n"
              "    importlib.import_module(name)\n")
    names = sorted(name for name in MODULES if name != "teslasim.__main__")
    result = subprocess.run([sys.executable, "-c", script, *names], capture_output=True,
                            text=True, cwd=PACKAGE.parent, timeout=60)
    assert result.returncode == 0, result.stderr
