"""Polynomial roots: find every real root of a polynomial with integer coefficients.

Prompt: ``Find all real roots of x^3 - 2*x^2 - 5*x + 6 = 0.`` and the answer format.
Answer: the distinct roots in any order, e.g. ``<answer>-2, 1, 3</answer>``; ``x = -2 or x = 1
or x = 3``, ``\\{-2, 1, 3\\}`` and ``\\frac{1 \\pm \\sqrt{5}}{2}`` also read. Reward 1.0 when
the set of roots is exactly right (a repeated root may be listed once or more), else 0: each
listed value must be an exact root (checked exactly, so a decimal approximation of an
irrational root scores 0) and written as a simplified number (integers, decimals, fractions in
lowest terms and roots of integers; ``6/3``, ``2 + 1`` or ``sqrt(4)`` score 0). The polynomial
always has a nonzero root, so ``0`` alone never answers it.

Difficulty: 1 = a quadratic with integer roots; 2 = a cubic with integer roots; 3 = a
quadratic with irrational roots ``p \\pm \\sqrt{q}`` times a linear factor, or a quartic with
integer roots.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from thinkgym.envs.levels import TaskConfig, within
from thinkgym.envs.math.common import X, computed_number, nonzero_int, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.mathparse import Equation, SetOf, Tup, parse_answer
from thinkgym.rewards.verdict import InvalidAnswer, Verdict


@dataclass(frozen=True)
class PolynomialRootsConfig(TaskConfig):
    max_root: int = 6
    """Integer roots are drawn from -max_root..max_root."""

    def validate(self) -> None:
        within(self, "max_root", 1, 50)


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
    if all(r == 0 for r in roots):  # "x^2 = 0" is no problem: shift one root
        roots[-1] = sympy.Integer(nonzero_int(rng, -m, m))
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
    """The listed roots, each a real number in simplified form (see ``computed_number``)."""
    value = parse_answer(answer, evaluate=False)
    items = list(value.items) if isinstance(value, (SetOf, Tup)) else [value]
    roots = []
    while items:
        item = items.pop(0)
        if isinstance(item, Equation) and isinstance(item.lhs, sympy.Symbol) and item.lhs.name == "x":
            item = item.rhs
        if isinstance(item, SetOf) and not item.braced:  # x = 1 \pm sqrt(2) inside a list
            items[:0] = item.items
            continue
        if not isinstance(item, sympy.Expr) or item.free_symbols:
            raise InvalidAnswer("list the roots as numbers, e.g. -2, 3")
        roots.append(computed_number(item))
    return roots


def _is_root(polynomial: sympy.Poly, roots: tuple[sympy.Expr, ...], r: sympy.Expr) -> bool:
    """Exactly: Horner's rule in fractions for a rational r; otherwise r must be within 1e-9 of
    one of the real roots (they are at least 0.15 apart) and symbolically equal to it."""
    if r.is_Rational:
        value = Fraction(0)
        for c in polynomial.all_coeffs():
            value = value * Fraction(int(r.p), int(r.q)) + int(c)
        return value == 0
    v = complex(r.evalf(20))
    return any(abs(v - t) < 1e-9 and sympy.expand(r - root) == 0 for root, t in zip(roots, _numeric(roots)))


@functools.lru_cache(maxsize=256)
def _numeric(roots: tuple[sympy.Expr, ...]) -> tuple[complex, ...]:
    return tuple(complex(r.evalf(20)) for r in roots)


def verify(problem: PolynomialRootsProblem, answer: str) -> Verdict:
    roots = _roots(answer)
    canonical = ", ".join(str(r) for r in roots)
    polynomial = sympy.Poly(problem.polynomial, X)
    stray = next((r for r in roots if not _is_root(polynomial, problem.roots, r)), None)
    if stray is not None:
        return Verdict(0.0, f"{stray} is not a root of the polynomial", canonical)
    # Every listed value is now exactly one of the real roots: are they all there?
    listed = _numeric(tuple(roots))
    missing = [t for t in _numeric(problem.roots) if not any(abs(t - v) < 1e-9 for v in listed)]
    if missing:
        return Verdict(0.0, f"a real root is missing ({len(missing)} of {len(problem.roots)})", canonical)
    return Verdict(1.0, canonical=canonical)


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
