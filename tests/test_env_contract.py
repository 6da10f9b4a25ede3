"""The env contract, checked for every registered env (built-in and plugin) by the same tests."""

from __future__ import annotations

import time
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import thinkgym
from thinkgym.envs.registry import env_info

ENV_IDS = thinkgym.list_envs()
SEEDS = [0, 1, 2]


def levels(env_id: str) -> list[int]:
    return list(range(1, env_info(env_id).max_difficulty + 1))


ENV_LEVELS = [(e, d) for e in ENV_IDS for d in levels(e)]


def make(env_id: str, **kwargs):
    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    return env


def play_reference(env, seed: int) -> tuple[float, dict]:
    """Play an episode by the reference answers; return the episode return and last info."""
    _, info = env.reset(seed=seed)
    total, done, turns = 0.0, False, 0
    while not done:
        _, reward, terminated, truncated, info = env.step(f"<answer>{info['answer']}</answer>")
        total += reward
        done = terminated or truncated
        turns += 1
        assert turns <= 1000, "the episode never ends"
    return total, info


def test_registry_has_reference_tasks():
    assert {"thinkgym/ShortestPath-v0", "thinkgym/Arithmetic-v0"} <= set(ENV_IDS)
    for env_id in ENV_IDS:
        assert env_info(env_id).max_difficulty >= 3


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_check_env(env_id):
    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env warns about render modes, which text envs lack
        check_env(env.unwrapped, skip_render_check=True)
    unwrapped = env.unwrapped
    assert unwrapped.family in thinkgym.envs.families()
    assert unwrapped.max_difficulty >= 3
    assert isinstance(unwrapped.observation_space, gym.spaces.Text)
    assert isinstance(unwrapped.action_space, gym.spaces.Text)
    env.close()


@pytest.mark.parametrize("env_id,difficulty", ENV_LEVELS, ids=[f"{e}-d{d}" for e, d in ENV_LEVELS])
def test_reference_answer_earns_full_reward(env_id, difficulty):
    env = make(env_id, difficulty=difficulty)
    for seed in SEEDS:
        prompt, info = env.reset(seed=seed)
        assert env.unwrapped.observation_space.contains(prompt)
        assert isinstance(info["answer"], str) and info["answer"]
        total, last = play_reference(env, seed)
        assert total == pytest.approx(1.0), f"seed {seed}: reference answer scored {total}: {last.get('reason')}"
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_same_seed_same_problem_and_different_seeds_differ(env_id):
    a, b = make(env_id), make(env_id)
    for seed in SEEDS:
        pa, ia = a.reset(seed=seed)
        pb, ib = b.reset(seed=seed)
        assert (pa, ia["answer"]) == (pb, ib["answer"])
    prompts = {a.reset(seed=s)[0] for s in range(8)}
    assert len(prompts) >= 6, "different seeds should give different problems"
    a.close(), b.close()


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_wrong_answer_earns_less(env_id):
    env = make(env_id)
    for seed in SEEDS:
        env.reset(seed=seed)
        _, reward, *_ , info = env.step("<answer>certainly not the answer 12345</answer>")
        assert reward < 1.0
        assert info["reward_components"]["correctness"] == reward or env.unwrapped.multi_turn
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_bad_configs_raise_value_error(env_id):
    top = env_info(env_id).max_difficulty
    for bad in (0, top + 1, -1, "2", 1.5):
        with pytest.raises(ValueError, match="difficulty"):
            make(env_id, difficulty=bad)
    with pytest.raises(ValueError, match="unknown option"):
        make(env_id, no_such_option=3)


HOSTILE = [
    "",
    "<answer></answer>",
    "<answer>",
    "</answer>",
    "<answer><answer>1</answer>",
    "<think>" * 10000,
    "<answer>" + "9" * 100000 + "</answer>",
    "x" * 1_000_000,
    "<answer>" + "(" * 5000 + "</answer>",
    "<answer>\x00\x01\x02\x1b[31m</answer>",
    "<answer>__import__('os').system('touch /tmp/thinkgym_pwned')</answer>",
    "<answer>9**9**9**9</answer>",
    "<answer>().__class__.__bases__[0].__subclasses__()</answer>",
    "\\boxed{" * 3000,
    "<answer>" + "A -> " * 3000 + "</answer>",
    "<answer>\u202e\ufeff\U0001f600 \u2212 \u00bd</answer>",
]


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_hostile_completions_score_zero_quickly(env_id):
    env = make(env_id)
    for i, completion in enumerate(HOSTILE):
        env.reset(seed=i)
        start = time.perf_counter()
        _, reward, terminated, truncated, info = env.step(completion)
        elapsed = time.perf_counter() - start
        assert reward == 0.0, f"hostile completion #{i} scored {reward}"
        assert elapsed < 2.0, f"hostile completion #{i} took {elapsed:.2f}s"
        assert "reason" in info
    env.close()


def test_unknown_id_suggests_closest():
    with pytest.raises(thinkgym.UnknownEnvError, match="did you mean 'thinkgym/ShortestPath-v0'"):
        thinkgym.make("thinkgym/ShortestPth-v0")


def test_list_envs_filters_by_family():
    assert "thinkgym/ShortestPath-v0" in thinkgym.list_envs(family="graph")
    assert "thinkgym/ShortestPath-v0" not in thinkgym.list_envs(family="math")
    assert thinkgym.list_envs(family="no-such-family") == []
