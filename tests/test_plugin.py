"""The plugin example is discovered through its entry point once its package is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("plugin_site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT / "examples" / "plugin")],
        check=True, capture_output=True, text=True,
    )
    return target


def run(code_or_args: list[str], site: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, *code_or_args], env=env, capture_output=True, text=True, timeout=120)


def test_plugin_env_is_listed_sampled_and_scored(plugin_site):
    code = (
        "import gymnasium as gym, thinkgym\n"
        "assert 'plugin/SortNumbers-v0' in thinkgym.list_envs(), thinkgym.list_envs()\n"
        "assert thinkgym.list_envs(family='lists') == ['plugin/SortNumbers-v0']\n"
        "env = gym.make('plugin/SortNumbers-v0', difficulty=2)\n"
        "prompt, info = env.reset(seed=3)\n"
        "assert env.unwrapped.family == 'lists'\n"
        "_, r, term, _, _ = env.step('<answer>' + info['answer'] + '</answer>')\n"
        "assert r == 1.0 and term\n"
        "env.reset(seed=3)\n"
        "_, r, *_ = env.step('<answer>' + ', '.join(reversed(info['answer'].split(', '))) + '</answer>')\n"
        "assert r == 0.0\n"
        "print('ok')\n"
    )
    result = run(["-c", code], plugin_site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_plugin_env_shows_in_cli(plugin_site):
    result = run(["-m", "thinkgym", "envs"], plugin_site)
    assert result.returncode == 0, result.stderr
    assert "plugin/SortNumbers-v0" in result.stdout and "lists" in result.stdout
    result = run(["-m", "thinkgym", "sample", "plugin/SortNumbers-v0", "--seed", "1"], plugin_site)
    assert result.returncode == 0 and "Sort these numbers" in result.stdout


def test_without_the_plugin_it_is_absent():
    import thinkgym

    assert "plugin/SortNumbers-v0" not in thinkgym.list_envs()
