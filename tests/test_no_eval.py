"""No model text is ever evaluated as code: a scan of the whole source tree.

Fails on any call of the builtins ``eval``, ``exec`` or ``compile``; on any use of sympy's
string parsers (``sympify``, ``parse_expr``, anything from ``sympy.parsing``), however they are
imported or aliased; and on ``S(...)`` applied to anything but a number literal. A method that
happens to be named ``eval`` (``model.eval()``) is fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ["thinkgym", "envs", "agents", "rewards", "examples", "benchmarks"]
BANNED_BUILTINS = {"eval", "exec", "compile", "__import__"}
BANNED_NAMES = {"sympify", "parse_expr", "parse_latex", "_sympify"}


def source_files() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS if (ROOT / d).exists() for p in (ROOT / d).rglob("*.py"))


def violations(tree: ast.AST) -> list[str]:
    found = []
    aliases: set[str] = set(BANNED_NAMES)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("sympy.parsing"):
                found.append(f"line {node.lineno}: import from {node.module}")
            for alias in node.names:
                if alias.name in BANNED_NAMES:
                    aliases.add(alias.asname or alias.name)
                    found.append(f"line {node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sympy.parsing"):
                    found.append(f"line {node.lineno}: import {alias.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in BANNED_BUILTINS:
            found.append(f"line {node.lineno}: call of {func.id}()")
        elif isinstance(func, ast.Attribute) and func.attr in BANNED_BUILTINS and isinstance(func.value, ast.Name) and func.value.id == "builtins":
            found.append(f"line {node.lineno}: call of builtins.{func.attr}()")
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in aliases:
            found.append(f"line {node.lineno}: call of {name}()")
        if name == "S" and not all(isinstance(a, ast.Constant) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool) for a in node.args):
            found.append(f"line {node.lineno}: S() on something that is not a number literal")
    return found


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_source_never_evaluates_text(path):
    bad = violations(ast.parse(path.read_text(), filename=str(path)))
    assert not bad, f"{path.relative_to(ROOT)}: " + "; ".join(bad)


@pytest.mark.parametrize(
    "code",
    [
        "eval(x)",
        "exec('1')",
        "import builtins\nbuiltins.eval(s)",
        "from sympy import sympify\nsympify(t)",
        "from sympy import sympify as sy\nsy(t)",
        "import sympy\nsympy.sympify(t)",
        "from sympy.parsing.sympy_parser import parse_expr as pe\npe(t)",
        "from sympy import S\nS('x+1')",
        "import sympy\nsympy.S(text)",
    ],
)
def test_scanner_catches(code):
    assert violations(ast.parse(code))


@pytest.mark.parametrize("code", ["model.eval()", "re.compile('a+')", "from sympy import S\nS(1) / 2", "x.evaluate()"])
def test_scanner_allows(code):
    assert not violations(ast.parse(code))


def test_scan_covers_the_tree():
    files = {str(p.relative_to(ROOT)) for p in source_files()}
    assert "envs/base.py" in files and "rewards/extract.py" in files and len(files) > 10
