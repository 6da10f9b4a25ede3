"""Factor a polynomial with integer coefficients completely over the rationals.

Prompt: ``Factor completely: x^3 - 2*x^2 - 5*x + 6`` and the answer format.
Answer: a product of factors, e.g. ``<answer>(x - 1)(x + 2)(x - 3)</answer>`` (any order,
powers for repeated factors, a constant factor in front, LaTeX reads). Reward 1.0 when the
product equals the polynomial *and* every non-constant factor is irreducible over the
rationals; the polynomial written back unfactored, or a partial factorisation, scores 0.

Difficulty: 1 = a monic quadratic; 2 = a cubic, possibly with a common integer factor;
3 = a quartic with a repeated or an irreducible quadratic factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.math.common import X, equal_verdict, nonzero_int, read_expression, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

MAX_DEGREE = 12


@dataclass(frozen=True)
class FactorConfig:
    difficulty: int = 1
    max_root: int = 6
    """Roots of the linear factors are drawn from -max_root..max_root."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_root <= 50:
            raise ValueError(f"max_root must be in 1..50, got {self.max_root}")


@dataclass(frozen=True)
class FactorProblem:
    prompt: str
    answer: str
    polynomial: sympy.Expr
    factored: sympy.Expr


def generate(rng: np.random.Generator, config: FactorConfig) -> FactorProblem:
    m, d = config.max_root, config.difficulty
    count = {1: 2, 2: 3, 3: 3}[d]
    factors: list[sympy.Expr] = [X - nonzero_int(rng, -m, m) for _ in range(count)]
    if d == 3:
        if rng.random() < 0.5:
            factors.append(X**2 + int(rng.integers(1, 10)))  # irreducible over Q
        else:
            factors.append(factors[0])
    content = nonzero_int(rng, 2, 4) if d >= 2 and rng.random() < 0.5 else 1
    factored = sympy.factor(content * sympy.Mul(*factors))
    polynomial = sympy.expand(factored)
    prompt = (
        f"Factor completely over the rationals: {to_text(polynomial)}\n"
        "Answer with a product of irreducible factors, e.g. <answer>2(x - 1)^2 (x + 3)</answer>."
    )
    return FactorProblem(prompt, to_text(factored), polynomial, factored)


def unfactored_part(expr: sympy.Expr) -> sympy.Expr | None:
    """A non-constant factor of ``expr`` (as written) that is reducible over Q, or None."""
    for factor in sympy.Mul.make_args(expr):
        base = factor.base if factor.is_Pow and factor.exp.is_Integer else factor
        if not base.free_symbols:
            continue
        if not base.is_polynomial(X):
            return base
        poly = sympy.Poly(base, X)
        if poly.degree() > MAX_DEGREE or (poly.degree() > 1 and not poly.is_irreducible):
            return base
    return None


def verify(problem: FactorProblem, answer: str) -> Verdict:
    expr = read_expression(answer)
    verdict = equal_verdict(expr, problem.polynomial, "the product is not equal to the polynomial")
    if verdict.score < 1.0:
        return verdict
    rest = unfactored_part(expr)
    if rest is not None:
        return Verdict(0.0, f"the factor {to_text(rest)} can be factored further", verdict.canonical)
    return verdict


def explain(problem: FactorProblem) -> str:
    _, factors = sympy.factor_list(problem.polynomial)
    roots = [str(-f.subs(X, 0)) for f, _ in factors if sympy.degree(f, X) == 1]
    return (
        f"Take out the common factor, then test divisors of the constant term: x = {', '.join(roots)} "
        "are roots, so each gives a linear factor; divide them out and check what remains.\n"
        f"Result: {problem.answer}"
    )


FactorEnv = register_task(
    "thinkgym/Factor-v0", family="math", config=FactorConfig, generate=generate, verify=verify, explain=explain,
    boxed_fallback=True,
)
