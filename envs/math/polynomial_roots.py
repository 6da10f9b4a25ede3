"""Polynomial roots: find every real root of a polynomial with integer coefficients.

Prompt: ``Find all real roots of x^3 - 2*x^2 - 5*x + 6 = 0.`` and the answer format.
Answer: the distinct roots in any order, e.g. ``<answer>-2, 1, 3</answer>``; ``x = -2 or x = 1
or x = 3``, ``\\{-2, 1, 3\\}`` and ``\\frac{1 \\pm \\sqrt{5}}{2}`` also read. Reward 1.0 when
the set of roots is exactly right (a repeated root may be listed once or more), else 0.

Difficulty: 1 = a quadratic with integer roots; 2 = a cubic with integer roots; 3 = a
quadratic with irrational roots ``p \\pm \\sqrt{q}`` times a linear factor, or a quartic with
integer roots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.math.common import X, nonzero_int, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.equivalence import values_equal
from thinkgym.rewards.mathparse import Equation, SetOf, Tup, parse_answer
from thinkgym.rewards.verdict import InvalidAnswer, Verdict


@dataclass(frozen=True)
class PolynomialRootsConfig:
    difficulty: int = 1
    max_root: int = 6
    """Integer roots are drawn from -max_root..max_root."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_root <= 50:
            raise ValueError(f"max_root must be in 1..50, got {self.max_root}")


@dataclass(frozen=True)
class PolynomialRootsProblem:
    prompt: str
    answer: str
    polynomial: sympy.Expr
    roots: tuple[sympy.Expr, ...]


def generate(rng: np.random.Generator, config: PolynomialRootsConfig) -> PolynomialRootsProblem:
    m = config.max_root
    if config.difficulty == 3 and rng.random() < 0.5:
        p, q = int(rng.integers(-4, 5)), int(_nonsquare(rng))
        r = int(rng.integers(-m, m + 1))
        roots = [p + sympy.sqrt(q), p - sympy.sqrt(q), sympy.Integer(r)]
    else:
        count = {1: 2, 2: 3, 3: 4}[config.difficulty]
        roots = [sympy.Integer(int(v)) for v in rng.integers(-m, m + 1, size=count)]
    lead = nonzero_int(rng, -2, 2) if config.difficulty >= 2 else 1
    polynomial = sympy.expand(lead * sympy.Mul(*(X - r for r in roots)))
    distinct = tuple(sorted(set(roots), key=lambda v: float(v)))
    prompt = (
        f"Find all real roots of {to_text(polynomial)} = 0.\n"
        "Answer with the distinct roots separated by commas, e.g. <answer>-2, 1/2, 3 + sqrt(2)</answer>."
    )
    return PolynomialRootsProblem(prompt, ", ".join(to_text(r) for r in distinct), polynomial, distinct)


def _nonsquare(rng: np.random.Generator) -> int:
    while True:
        q = int(rng.integers(2, 13))
        if sympy.sqrt(q).is_irrational:
            return q


def _roots(answer: str) -> list[sympy.Expr]:
    value = parse_answer(answer)
    items = value.items if isinstance(value, (SetOf, Tup)) else (value,)
    roots = []
    for item in items:
        if isinstance(item, Equation) and isinstance(item.lhs, sympy.Symbol):
            item = item.rhs
        if isinstance(item, SetOf):  # x = 1 \pm sqrt(2) inside a list
            roots.extend(_flatten(item))
            continue
        if not isinstance(item, sympy.Expr) or item.free_symbols:
            raise InvalidAnswer("list the roots as numbers, e.g. -2, 3")
        roots.append(item)
    return roots


def _flatten(value: SetOf) -> list[sympy.Expr]:
    out = []
    for item in value.items:
        if isinstance(item, Equation):
            item = item.rhs
        if not isinstance(item, sympy.Expr) or item.free_symbols:
            raise InvalidAnswer("list the roots as numbers")
        out.append(item)
    return out


def verify(problem: PolynomialRootsProblem, answer: str) -> Verdict:
    roots = _roots(answer)
    canonical = ", ".join(str(r) for r in roots)
    if values_equal(SetOf(tuple(roots)), SetOf(problem.roots)):
        return Verdict(1.0, canonical=canonical)
    return Verdict(0.0, "the roots are not exactly the real roots of the polynomial", canonical)


def explain(problem: PolynomialRootsProblem) -> str:
    factored = sympy.factor(problem.polynomial)
    return (
        "Try the divisors of the constant term as rational roots and divide them out; "
        f"the polynomial factors as {to_text(factored)}.\n"
        "Set each factor to zero (the quadratic formula for a quadratic factor): "
        f"{problem.answer}"
    )


PolynomialRootsEnv = register_task(
    "thinkgym/PolynomialRoots-v0", family="math", config=PolynomialRootsConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
