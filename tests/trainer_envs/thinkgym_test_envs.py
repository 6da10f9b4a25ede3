"""Envs for the trainer tests, whose rewards a tiny random model can earn.

A random model never writes ``<answer>`` tags, so the real envs give it reward 0 everywhere
and GRPO has no signal. These give it some. With this folder on ``PYTHONPATH`` the
``*.dist-info`` next to this module makes ``import thinkgym`` load them as a plugin (so
subprocesses see them too).

* ``test/Parity-v0``: single turn; reward 1 when the completion has an even number of characters.
* ``test/Constant-v0``: single turn; reward 0 whatever the completion (a group without signal).
* ``test/Echo-v0``: multi-turn; the env answers every turn with ``Observation N: go on.``; the
  episode ends after two turns; reward 1 on the second turn when it is longer than the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from thinkgym.envs.base import MultiTurnEnv, ReasoningEnv
from thinkgym.envs.registry import register_env


@dataclass(frozen=True)
class TestConfig:
    difficulty: int = 1
    max_turns: int = 4


@dataclass(frozen=True)
class TestProblem:
    prompt: str
    answer: str


def _problem(rng: np.random.Generator) -> TestProblem:
    return TestProblem(f"Write anything about the number {int(rng.integers(10**6))}.", "ok")


class ParityEnv(ReasoningEnv):
    """Reward 1 for an even number of characters."""

    family = "test"
    config_cls = TestConfig

    def generate(self, rng: np.random.Generator) -> TestProblem:
        return _problem(rng)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        reward = float(len(action) % 2 == 0)
        return "", reward, True, False, {"correct": reward == 1.0, "reward_components": {"correctness": reward, "format": 0.0}}


class ConstantEnv(ParityEnv):
    """Reward 0 always."""

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        return "", 0.0, True, False, {"correct": False, "reward_components": {"correctness": 0.0, "format": 0.0}}


class EchoEnv(MultiTurnEnv):
    """Two turns; the env's reply is ``Observation N: go on.``."""

    family = "test"
    config_cls = TestConfig

    def generate(self, rng: np.random.Generator) -> TestProblem:
        self.lengths: list[int] = []
        return _problem(rng)

    def read_action(self, completion: str) -> tuple[str | None, str]:
        self.lengths.append(len(completion))  # the whole completion, so a random model gets signal
        return super().read_action(completion)

    def play(self, move: str | None, error: str) -> tuple[str, float, bool, dict[str, Any]]:
        if len(self.lengths) < 2:
            return f"Observation {len(self.lengths)}: go on.", 0.0, False, {}
        reward = float(self.lengths[1] > self.lengths[0])
        return "", reward, True, {"correct": reward == 1.0}

    def reference_action(self) -> str:
        return "go"


register_env("test/Parity-v0", ParityEnv)
register_env("test/Constant-v0", ConstantEnv)
register_env("test/Echo-v0", EchoEnv)
