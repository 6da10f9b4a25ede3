"""The registry is Gymnasium's: specs are the one source of truth, variants are specs with kwargs,
built-in task modules are imported when their env is made or described."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap

import gymnasium as gym
import pytest

import thinkgym
from thinkgym.envs import chess, graph, logic, math, registry
from thinkgym.envs.graph.shortest_path import ShortestPathEnv

FAMILIES = {"math": math, "logic": logic, "graph": graph, "chess": chess}
HEAVY = ("sympy", "networkx", "chess")


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("module", ["thinkgym.rewards", "thinkgym.rewards.extract", "thinkgym"])
def test_importing_imports_no_task(module):
    out = run_python(f"""
        import sys
        import {module}
        tasks = [m for m in sys.modules if m.count(".") == 3 and m.startswith("thinkgym.envs.")]
        heavy = [m for m in sys.modules if m.split(".")[0] in {HEAVY!r}]
        print(sorted(tasks), sorted(heavy))
    """)
    assert out == "[] []"


def test_listing_imports_no_task_and_making_imports_one():
    out = run_python("""
        import sys, gymnasium as gym, thinkgym
        assert len(thinkgym.list_envs()) >= 42 and "math" in thinkgym.families()
        assert thinkgym.list_envs(family="graph")
        assert not [m for m in sys.modules if m.startswith("thinkgym.envs.graph.")]
        gym.make("thinkgym/ShortestPath-v0").reset(seed=0)
        print(sorted(m for m in sys.modules if m.count(".") == 3 and m.startswith("thinkgym.envs.")))
    """)
    assert out == "['thinkgym.envs.graph.common', 'thinkgym.envs.graph.shortest_path']"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_declares_exactly_the_envs_its_modules_register(family):
    package = FAMILIES[family]
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")  # registering again is a no-op
    declared = set(package.TASKS)
    assert set(thinkgym.list_envs(family=family)) == declared
    for env_id in declared:
        info = thinkgym.env_info(env_id)
        assert info.family == family and gym.spec(env_id).entry_point == info.entry_point


@pytest.fixture
def variant():
    env_id = "test/ShortestPathHops-v0"
    registry.register_env(env_id, ShortestPathEnv, kwargs={"weighted": False})
    yield env_id
    registry.unregister(env_id)


def test_a_variant_is_a_spec_with_kwargs(variant):
    assert variant in thinkgym.list_envs(family="graph")
    info = thinkgym.env_info(variant)
    assert info.kwargs == {"weighted": False} and info.entry_point == thinkgym.env_info("thinkgym/ShortestPath-v0").entry_point
    assert gym.spec(variant).kwargs == {"weighted": False}
    env = thinkgym.make(variant, difficulty=2, disable_env_checker=True)
    assert env.unwrapped.config.weighted is False and env.unwrapped.difficulty == 2
    prompt, _ = env.reset(seed=0)
    assert "weight" not in prompt.split("\n")[0]
    plain, _ = thinkgym.make("thinkgym/ShortestPath-v0", difficulty=2, disable_env_checker=True).reset(seed=0)
    assert "weight" in plain
    registry.register_env(variant, ShortestPathEnv, kwargs={"weighted": False})  # the same again: a no-op
    with pytest.raises(ValueError, match="already registered"):
        registry.register_env(variant, ShortestPathEnv, kwargs={"weighted": True})


def test_a_variant_with_an_unknown_option_is_refused():
    with pytest.raises(ValueError, match="unknown option"):
        registry.register_env("test/Bad-v0", ShortestPathEnv, kwargs={"wieghted": False})
    assert "test/Bad-v0" not in gym.registry


def test_register_task_takes_kwargs():
    from thinkgym.envs.graph import shortest_path as sp

    env_id = "test/DirectedPath-v0"
    try:
        registry.register_task(env_id, family="graph", config=sp.ShortestPathConfig, generate=sp.generate,
                               verify=sp.verify, kwargs={"directed": True})
        env = thinkgym.make(env_id, disable_env_checker=True)
        assert env.unwrapped.config.directed is True
    finally:
        registry.unregister(env_id)


def test_gymnasium_registry_is_the_source_of_truth(variant):
    gym.registry.pop(variant)
    assert variant not in thinkgym.list_envs()
    with pytest.raises(thinkgym.UnknownEnvError, match="did you mean 'thinkgym/ShortestPath-v0'"):
        thinkgym.env_info("thinkgym/ShortestPth-v0")
    with pytest.raises(thinkgym.UnknownEnvError):
        thinkgym.env_info(variant)


def test_declared_envs_are_imported_when_described(tmp_path, monkeypatch):
    (tmp_path / "lazy_toy_env.py").write_text(textwrap.dedent('''
        from thinkgym.envs.graph.shortest_path import ShortestPathEnv

        class LazyToyEnv(ShortestPathEnv):
            """A toy subclass, declared before it is imported."""
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.declare("test/LazyToy-v0", "lazy_toy_env:LazyToyEnv", family="graph")
    try:
        assert "test/LazyToy-v0" in thinkgym.list_envs() and "lazy_toy_env" not in sys.modules
        assert thinkgym.env_info("test/LazyToy-v0").description == "A toy subclass, declared before it is imported."
        assert "lazy_toy_env" in sys.modules
    finally:
        registry.unregister("test/LazyToy-v0")
        sys.modules.pop("lazy_toy_env", None)
    with pytest.raises(ValueError, match="must look like"):
        registry.declare("no-namespace", "x:Y", family="graph")
