"""The red team over the registry: every exploit class of :data:`thinkgym.envs.checker.ATTACKS`
against every single-turn env, at the easiest and the hardest level. A reward of 1.0 means a
correct answer, so each attack (wrong by construction, see the checker's module doc) must score 0.

A new env is covered without edits. The class-specific attacks that need a family's own
knowledge (factorisations, engine-graded moves, graph properties) are in the family suites:
``test_hacks_math_reader.py``, ``test_hacks_math_tasks.py``, ``test_hacks_chess.py``,
``test_hacks_graph.py`` and ``test_hacks_logic.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import gymnasium as gym
import numpy as np
import pytest

import thinkgym
from thinkgym.envs import checker, registry
from thinkgym.envs.checker import ATTACKS, Case, check_env, check_red_team, plain_number
from thinkgym.envs.registry import env_info
from thinkgym.rewards.verdict import InvalidAnswer

SINGLE_TURN = [e for e in thinkgym.list_envs() if not env_info(e).multi_turn]


def seeds_for(env_id: str) -> tuple[int, ...]:
    # Engine-graded envs generate a position with a search per reset: one seed keeps it fast.
    return (0,) if env_info(env_id).requires else checker.SEEDS


@pytest.mark.parametrize("env_id", SINGLE_TURN, ids=SINGLE_TURN)
def test_every_attack_scores_zero(env_id):
    top = env_info(env_id).max_difficulty
    findings = []
    for level in sorted({1, top}):
        findings += check_red_team(env_id, level, seeds_for(env_id))
    by_class: dict[str, list[str]] = {}
    for f in findings:
        by_class.setdefault(f.check, []).append(str(f))
    report = "\n".join(f"{name}: {len(rows)} hit(s), e.g.\n  " + "\n  ".join(rows[:3]) for name, rows in by_class.items())
    assert not findings, f"{len(findings)} wrong answers earned credit:\n{report}"


# -- the attacks themselves are wrong, independently of any verifier -------------------------------
@pytest.mark.parametrize("text,value", [
    ("7", Fraction(7)), ("-12", Fraction(-12)), ("3/4", Fraction(3, 4)), ("-2.50", Fraction(5, 2) * -1),
    (" 10 ", Fraction(10)), ("0.1", Fraction(1, 10)),
])
def test_plain_number_reads_plain_numbers(text, value):
    assert plain_number(text) == value


@pytest.mark.parametrize("text", ["7 + 1", "x", "1/0", "1.5/2", "1e5", "", "7%", "--7", "seven"])
def test_plain_number_refuses_everything_else(text):
    assert plain_number(text) is None


@pytest.mark.parametrize("reference", ["7", "-3", "5/2", "0", "2.5"])
def test_numeric_attacks_never_state_the_reference_value(reference):
    """An attack that is a single plain number is provably not the reference's value (the others
    are wrong by their form: several values, an unevaluated expression, a qualifier)."""
    case = Case(prompt="Compute 3 + 4 * 1 and 12 - 5.\ne.g. <answer>-7/12</answer>", reference=reference, other=None)
    ref = plain_number(reference)
    singles = 0
    for name in ATTACKS:
        for attack in ATTACKS[name](case):
            body = re.search(r"<answer>(.*)</answer>", attack.completion, re.S).group(1)
            if plain_number(body) is not None:
                singles += 1
                assert plain_number(body) != ref, (name, attack)
    assert singles >= 5


def test_near_miss_values_are_off_by_a_provable_amount():
    case = Case(prompt="Compute 3 + 4", reference="7", other=None)
    bodies = [re.search(r"<answer>(.*)</answer>", a.completion).group(1) for a in ATTACKS["near-miss"](case)]
    assert "7 + 10^(-40)" in bodies and "7%" in bodies
    decimal = next(b for b in bodies if plain_number(b) is not None)
    assert plain_number(decimal) != 7 and abs(plain_number(decimal) - 7) < Fraction(7, 10**6)


def test_hedges_offer_a_different_candidate():
    case = Case(prompt="Is it valid?", reference="valid", other="invalid")
    texts = [a.completion for a in ATTACKS["hedge"](case)]
    assert any("valid or invalid" in t for t in texts) and any("invalid or valid" in t for t in texts)
    # a reference that is already a list gets no "or" hedge: "1, 2 or 3" would be a list, not a hedge
    listed = Case(prompt="Roots?", reference="1, 2", other="3")
    assert not any("3" in a.completion for a in ATTACKS["hedge"](listed))


# -- the checker finds what a gullible verifier lets through ---------------------------------------
@dataclass(frozen=True)
class _SumConfig:
    difficulty: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.difficulty <= 3:
            raise ValueError("difficulty must be in 1..3")


@dataclass(frozen=True)
class _SumProblem:
    prompt: str
    answer: str


def _sum_generate(rng: np.random.Generator, config: _SumConfig) -> _SumProblem:
    a, b = (int(v) for v in rng.integers(10 * config.difficulty, 100 * config.difficulty, size=2))
    return _SumProblem(f"Compute {a} + {b}. Answer like <answer>12</answer>.", str(a + b))


def _gullible_verify(problem: _SumProblem, answer: str) -> float:
    """Reads the first number anywhere in the text: what the red team is there to catch."""
    match = re.search(r"-?\d+", answer)
    if not match:
        raise InvalidAnswer("no number")
    return float(int(match.group(0)) == int(problem.answer))


def _strict_verify(problem: _SumProblem, answer: str) -> float:
    """Only the reference, digit for digit (stricter than any real verifier should be)."""
    return float(answer.strip() == problem.answer)


@pytest.fixture
def toy_envs():
    ids = {"thinkgym_test/GullibleSum-v0": _gullible_verify, "thinkgym_test/StrictSum-v0": _strict_verify}
    for env_id, verify in ids.items():
        registry.register_task(env_id, family="math", config=_SumConfig, generate=_sum_generate, verify=verify)
    yield list(ids)
    for env_id in ids:
        registry.unregister(env_id)
        gym.registry.pop(env_id, None)


def test_checker_reports_a_gullible_verifier(toy_envs):
    gullible, _ = toy_envs
    findings = check_red_team(gullible, 1)
    classes = {f.check for f in findings}
    assert {"red-team:negation", "red-team:hedge", "red-team:near-miss"} <= classes
    assert all(f.env_id == gullible and f.difficulty == 1 for f in findings)
    assert "scored 1.0 but is wrong" in str(findings[0])


def test_checker_passes_a_strict_verifier(toy_envs):
    """No attack is the reference itself: a verifier that accepts only the reference passes."""
    _, strict = toy_envs
    assert check_env(strict) == []


def test_check_env_is_public():
    assert thinkgym.envs.check_env is check_env
    assert check_env("thinkgym/Arithmetic-v0", seeds=(0,), red_team=False) == []
