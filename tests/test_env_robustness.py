"""Every registered env survives its exception paths, releases its engine processes on
``close()``, and pickles (for multiprocessing: vector envs, worker pools)."""

from __future__ import annotations

import os
import pickle

import gymnasium as gym
import pytest

import thinkgym
from thinkgym.envs.base import MultiTurnEnv, ReasoningEnv, SingleTurnEnv

ENV_IDS = thinkgym.list_envs()
WRONG = "<answer>definitely not the answer</answer>"


def make(env_id: str) -> ReasoningEnv:
    return gym.make(env_id, disable_env_checker=True).unwrapped


def play(env: ReasoningEnv, info: dict, first: str | None = None) -> tuple[float, list[dict]]:
    """Play one episode by the reference answers (the first action ``first`` when given);
    return the episode return and the step infos."""
    total, infos, done = 0.0, [], False
    action = first
    while not done:
        _, reward, terminated, truncated, info = env.step(action if action is not None else f"<answer>{info['answer']}</answer>")
        action = None
        total += reward
        infos.append(info)
        done = terminated or truncated
        assert len(infos) <= 1000
    return total, infos


def engines(env: ReasoningEnv) -> list:
    from thinkgym.envs.chess.engine import Engine

    return [value for value in vars(env).values() if isinstance(value, Engine)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_env_is_reusable_after_every_exception_path(env_id):
    env = make(env_id)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(WRONG)
    with pytest.raises(ValueError):
        env.reset(seed=0, options={"no_such_option": 1})
    prompt, info = env.reset(seed=0)
    with pytest.raises(TypeError):
        env.step(None)  # not a completion
    reference, _ = play(env, info)
    if isinstance(env, MultiTurnEnv):
        with pytest.raises(gym.error.ResetNeeded):
            env.step(WRONG)  # the episode is over
    # After all that, the env behaves like a fresh one.
    fresh = make(env_id)
    fresh_prompt, fresh_info = fresh.reset(seed=0)
    assert env.reset(seed=0)[0] == prompt == fresh_prompt
    assert reference == pytest.approx(1.0)
    assert play(env, fresh_info)[0] == play(fresh, fresh_info)[0] == reference
    env.close()
    fresh.close()


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_env_pickles_with_its_problem(env_id):
    env = make(env_id)
    prompt, info = env.reset(seed=1)
    copy = pickle.loads(pickle.dumps(env))
    assert copy.problem.prompt == prompt and copy.problem.answer == env.problem.answer
    if isinstance(env, SingleTurnEnv):
        for completion in (f"<answer>{info['answer']}</answer>", WRONG, "no answer"):
            mine, theirs = env.score(completion), copy.score(completion)
            assert (mine["reward_components"], mine["reason"]) == (theirs["reward_components"], theirs["reason"])
    else:
        assert play(copy, info, first=WRONG)[0] == play(env, info, first=WRONG)[0]
    # The copy keeps the seeded stream: the next reset draws the same problem in both.
    assert copy.reset()[0] == env.reset()[0]
    copy.close()
    env.close()


CHESS_ENGINE_ENVS = [e for e in ENV_IDS if "stockfish" in thinkgym.envs.registry.env_info(e).requires]


@pytest.mark.parametrize("env_id", CHESS_ENGINE_ENVS, ids=CHESS_ENGINE_ENVS)
def test_close_releases_engine_processes_and_the_env_still_works(env_id):
    env = make(env_id)
    _, info = env.reset(seed=0)
    play(env, info)
    pids = [engine.pid for engine in engines(env) if engine.pid is not None]
    assert pids, "the env started no engine of its own"
    env.close()
    assert not any(alive(pid) for pid in pids)
    assert all(engine.pid is None for engine in engines(env))
    _, info = env.reset(seed=0)  # a closed env starts a new engine when it needs one
    assert play(env, info)[0] == pytest.approx(1.0)
    env.close()
    env.close()  # closing twice is harmless


def test_best_move_opts_out_of_verifier_isolation(monkeypatch):
    """BestMoveEnv sets ``isolatable = False``: its engine runs in a process of its own already."""
    from thinkgym.rewards import guard

    monkeypatch.setenv("THINKGYM_ISOLATE_VERIFIERS", "1")
    monkeypatch.setattr(guard, "shared_pool", lambda: pytest.fail("the verifier pool was used"))
    import thinkgym.envs.base as base

    monkeypatch.setattr(base, "shared_pool", guard.shared_pool)
    env = make("thinkgym/BestMove-v0")
    assert env.isolatable is False and ReasoningEnv.isolatable is True
    _, info = env.reset(seed=0)
    assert env.step(f"<answer>{info['answer']}</answer>")[1] == 1.0
    env.close()
