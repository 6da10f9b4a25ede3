"""Held-out problems never appear in the training stream."""

from __future__ import annotations

import itertools

import gymnasium as gym
import pytest

from thinkgym.splits import derive_seed, problem_stream, split_of


def test_seeds_differ_between_splits_and_are_stable():
    assert derive_seed(0, "train", 5) == derive_seed(0, "train", 5)
    train = {derive_seed(0, "train", i) for i in range(1000)}
    evals = {derive_seed(0, "eval", i) for i in range(1000)}
    assert not train & evals
    with pytest.raises(ValueError, match="split"):
        derive_seed(0, "test", 1)


@pytest.mark.parametrize("env_id", ["thinkgym/Arithmetic-v0", "thinkgym/ShortestPath-v0"])
def test_no_eval_prompt_among_first_10000_training_prompts(env_id):
    env = gym.make(env_id, disable_env_checker=True)
    evals = {p.prompt for p in itertools.islice(problem_stream(env, env_id, "eval", 0, 1), 100)}
    train = {p.prompt for p in itertools.islice(problem_stream(env, env_id, "train", 0, 1), 10_000)}
    assert len(evals) > 50
    assert not evals & train
    assert all(split_of(p) == "eval" for p in evals)


def test_stream_is_deterministic():
    env = gym.make("thinkgym/Arithmetic-v0", disable_env_checker=True)
    a = [p.seed for p in itertools.islice(problem_stream(env, "x", "eval", 3, 1), 5)]
    b = [p.seed for p in itertools.islice(problem_stream(env, "x", "eval", 3, 1), 5)]
    assert a == b
