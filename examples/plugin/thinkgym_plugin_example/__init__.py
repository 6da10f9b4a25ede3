"""An example thinkgym plugin: sort a list of integers.

Prompt: ``Sort these numbers in ascending order: 5, -2, 9``.
Answer: the numbers in ascending order, separated by commas or spaces (``-2, 5, 9``).
Reward 1.0 when the answer is the same multiset of numbers in non-decreasing order, else 0.

Install it (``pip install -e examples/plugin``) and ``thinkgym envs`` lists
``plugin/SortNumbers-v0`` in the family ``lists``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from thinkgym import register_task
from thinkgym.rewards import InvalidAnswer, Verdict


@dataclass(frozen=True)
class SortConfig:
    difficulty: int = 1
    length: int | None = None
    """How many numbers (default 4, 7 or 12 by difficulty)."""

    def __post_init__(self) -> None:
        if self.length is None:
            object.__setattr__(self, "length", {1: 4, 2: 7, 3: 12}[self.difficulty])
        if not 2 <= self.length <= 100:
            raise ValueError(f"length must be in 2..100, got {self.length}")


@dataclass(frozen=True)
class SortProblem:
    prompt: str
    answer: str
    numbers: tuple[int, ...]


def generate(rng: np.random.Generator, config: SortConfig) -> SortProblem:
    numbers = tuple(int(x) for x in rng.integers(-99, 100, size=config.length))
    prompt = (
        f"Sort these numbers in ascending order: {', '.join(map(str, numbers))}\n"
        "Answer with the sorted numbers separated by commas, e.g. <answer>1, 2, 3</answer>."
    )
    return SortProblem(prompt, ", ".join(map(str, sorted(numbers))), numbers)


def verify(problem: SortProblem, answer: str) -> Verdict:
    tokens = [t for t in re.split(r"[\s,;]+", answer.strip("[]() ")) if t]
    if not tokens or len(tokens) > 4 * len(problem.numbers) or not all(re.fullmatch(r"[+-]?\d{1,6}", t) for t in tokens):
        raise InvalidAnswer("expected integers separated by commas")
    values = [int(t) for t in tokens]
    canonical = ", ".join(map(str, values))
    if sorted(values) != sorted(problem.numbers):
        return Verdict(0.0, "not the same numbers", canonical)
    if values != sorted(values):
        return Verdict(0.0, "not in ascending order", canonical)
    return Verdict(1.0, canonical=canonical)


SortNumbersEnv = register_task("plugin/SortNumbers-v0", family="lists", config=SortConfig, generate=generate, verify=verify)
