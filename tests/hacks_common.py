"""Helpers shared by the family red-team suites (tests/test_hacks_*.py): problems drawn at the
easiest and hardest level, scoring through the verification guard, and disguises."""

from __future__ import annotations

import numpy as np

from thinkgym.rewards.guard import guarded_verify

LEVELS = (1, 3)
SEEDS = range(6)
FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}  # "A" -> U+FF21, "7" -> U+FF17, ...


def problems(module, config_cls, levels=LEVELS, seeds=SEEDS, **options):
    for difficulty in levels:
        for seed in seeds:
            yield module.generate(np.random.default_rng([seed, difficulty]), config_cls(difficulty=difficulty, **options))


def verdict(module, problem, answer):
    return guarded_verify(module.verify, problem, answer)[0]


def assert_scores_zero(module, problem, answers):
    for answer in answers:
        result = verdict(module, problem, answer)
        assert result.score == 0.0 and result.reason, (answer, problem.answer)


def assert_scores_one(module, problem, answers):
    for answer in answers:
        result = verdict(module, problem, answer)
        assert result.score == 1.0, (answer, result.reason)


def fullwidth(text: str) -> str:
    return "".join(FULLWIDTH.get(c, c) for c in text)
