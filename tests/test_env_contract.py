"""The env contract, checked for every registered env (built-in and plugin) by the same tests.

Each test calls one check of the public checker :mod:`thinkgym.envs.checker` (what a plugin
author runs as ``thinkgym.envs.check_env(env_id)``), so the project and its plugins are held to
one contract. The red team is in ``test_reward_hacks.py``.
"""

from __future__ import annotations

import pytest

import thinkgym
from thinkgym.envs import checker
from thinkgym.envs.registry import env_info

ENV_IDS = thinkgym.list_envs()


def levels(env_id: str) -> list[int]:
    return list(range(1, env_info(env_id).max_difficulty + 1))


ENV_LEVELS = [(e, d) for e in ENV_IDS for d in levels(e)]


def no_findings(findings: list[checker.Finding]) -> None:
    assert not findings, "\n".join(map(str, findings))


def test_registry_has_reference_tasks():
    assert {"thinkgym/ShortestPath-v0", "thinkgym/Arithmetic-v0"} <= set(ENV_IDS)
    for env_id in ENV_IDS:
        assert env_info(env_id).max_difficulty >= 3


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_check_env(env_id):
    no_findings(checker.check_api(env_id))


@pytest.mark.parametrize("env_id,difficulty", ENV_LEVELS, ids=[f"{e}-d{d}" for e, d in ENV_LEVELS])
def test_reference_answer_earns_full_reward(env_id, difficulty):
    no_findings(checker.check_reference(env_id, difficulty))


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_same_seed_same_problem_and_different_seeds_differ(env_id):
    no_findings(checker.check_determinism(env_id))


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_each_level_poses_a_different_problem(env_id):
    no_findings(checker.check_levels_differ(env_id))


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_bad_configs_raise_value_error(env_id):
    no_findings(checker.check_bad_configs(env_id))


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_hostile_completions_score_zero_quickly(env_id):
    no_findings(checker.check_hostile(env_id))


def test_unknown_id_suggests_closest():
    with pytest.raises(thinkgym.UnknownEnvError, match="did you mean 'thinkgym/ShortestPath-v0'"):
        thinkgym.make("thinkgym/ShortestPth-v0")


def test_list_envs_filters_by_family():
    assert "thinkgym/ShortestPath-v0" in thinkgym.list_envs(family="graph")
    assert "thinkgym/ShortestPath-v0" not in thinkgym.list_envs(family="math")
    assert thinkgym.list_envs(family="no-such-family") == []
