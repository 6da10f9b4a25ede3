"""Every task that provides ``explain`` writes a trace that is correct R1 training data: the
trace ends with the reference answer, and ``<think>trace</think><answer>answer</answer>`` earns
the full reward, at every difficulty and for several seeds (parametrized over the registry)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import thinkgym
from thinkgym.envs.registry import env_info

SEEDS = [0, 1, 2]


def _explain_of(env_id: str):
    return getattr(type(thinkgym.make(env_id).unwrapped), "task_explain", None)


EXPLAINED = [e for e in thinkgym.list_envs() if not env_info(e).multi_turn and _explain_of(e) is not None]
CASES = [(e, d) for e in EXPLAINED for d in range(1, env_info(e).max_difficulty + 1)]


def ends_with_answer(trace: str, answer: str) -> bool:
    """The reference answer is in the trace's last lines, as many as the answer has
    (whitespace-insensitively): a trace may close with ``So 9 + 6 = 15`` for the answer ``9 + 6``,
    or with the nine rows of a sudoku grid."""
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    height = max(1, len([line for line in answer.strip().splitlines() if line.strip()]))
    squash = lambda text: "".join(text.split())  # noqa: E731
    return squash(answer) in squash("".join(lines[-height:]))


def test_ends_with_answer_checks_the_last_line():
    assert ends_with_answer("a\nSo 9 + 6 = 15", "9+6")
    assert not ends_with_answer("the answer is 15\nbut wait", "15")
    assert ends_with_answer("fill\n1 2\n2 1", "1 2\n2 1")
    assert not ends_with_answer("1 2\n2 1\ndone", "1 2\n2 1")


def test_most_tasks_explain():
    single = [e for e in thinkgym.list_envs() if not env_info(e).multi_turn]
    assert len(EXPLAINED) >= 0.75 * len(single), f"only {len(EXPLAINED)} of {len(single)} single-turn tasks explain"


@pytest.mark.parametrize(("env_id", "difficulty"), CASES, ids=[f"{e}-d{d}" for e, d in CASES])
def test_explain_trace_earns_full_reward(env_id, difficulty):
    env = gym.make(env_id, difficulty=difficulty, disable_env_checker=True)
    for seed in SEEDS:
        _, info = env.reset(seed=seed)
        trace = env.unwrapped.explain()
        answer = info["answer"]
        assert isinstance(trace, str) and trace.strip(), f"seed {seed}: empty trace"
        assert ends_with_answer(trace, answer), f"seed {seed}: the trace's last lines lack the answer {answer!r}: ...{trace[-160:]!r}"
        assert "<think>" not in trace and "</answer>" not in trace, f"seed {seed}: trace contains R1 tags"
        _, reward, terminated, _, step_info = env.step(f"<think>{trace}</think><answer>{answer}</answer>")
        assert terminated
        assert reward == 1.0, f"seed {seed}: reward {reward} ({step_info.get('reason')})"
        assert step_info["reward_components"]["format"] == 1.0
