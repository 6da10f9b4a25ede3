"""Layers point one way: the core below the trainer imports nothing of the agent package, and
library code imports nothing from CLI modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted(p for p in (ROOT / "thinkgym").rglob("*.py") if p.name != "__main__.py")  # __main__: the CLI
LIBRARY = sorted(p for p in (ROOT / "agents").glob("*.py") if not p.name.startswith("cmd_") and p.name != "cli.py")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_does_not_import_the_agent_package(path):
    assert not {m for m in _imports(path) if m.startswith("thinkgym.agents")}


@pytest.mark.parametrize("path", [*LIBRARY, ROOT / "benchmarks" / "grpo_step.py"], ids=lambda p: str(p.relative_to(ROOT)))
def test_library_code_does_not_import_cli_modules(path):
    assert not {m for m in _imports(path) if m.startswith(("thinkgym.agents.cmd_", "thinkgym.agents.cli"))}
