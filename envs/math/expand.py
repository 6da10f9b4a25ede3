"""Expand a product of polynomials into a sum of monomials.

Prompt: ``Expand (2*x + 3)*(x - 1)^2`` and the answer format.
Answer: the expanded polynomial, e.g. ``<answer>2x^3 - x^2 - 4x + 3</answer>`` (terms in any
order, ``*`` optional, LaTeX reads). Reward 1.0 when the answer equals the product *and* is
written as a sum of monomials (no parentheses left around a sum, no power of a sum); an equal
but unexpanded answer scores 0.

Difficulty: 1 = two linear factors; 2 = three linear factors or a squared one; 3 = up to four
factors, some quadratic, in x and y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.math.common import X, equal_verdict, nonzero_int, read_expression, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

Y = sympy.Symbol("y")


@dataclass(frozen=True)
class ExpandConfig:
    difficulty: int = 1
    max_coefficient: int = 5
    """Coefficients of the factors are drawn from -max_coefficient..max_coefficient."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_coefficient <= 50:
            raise ValueError(f"max_coefficient must be in 1..50, got {self.max_coefficient}")


@dataclass(frozen=True)
class ExpandProblem:
    prompt: str
    answer: str
    product: sympy.Expr
    expanded: sympy.Expr


def _factor(rng: np.random.Generator, c: int, variables: list[sympy.Symbol], quadratic: bool) -> sympy.Expr:
    v = variables[int(rng.integers(len(variables)))]
    lead = nonzero_int(rng, 1, min(c, 3)) if not quadratic else 1
    term = lead * v**2 if quadratic else lead * v
    return term + nonzero_int(rng, -c, c) * (variables[-1] if len(variables) > 1 and rng.random() < 0.5 else 1)


def generate(rng: np.random.Generator, config: ExpandConfig) -> ExpandProblem:
    c, d = config.max_coefficient, config.difficulty
    variables = [X, Y] if d == 3 else [X]
    count = {1: 2, 2: 3, 3: int(rng.integers(2, 5))}[d]
    factors = [_factor(rng, c, variables, quadratic=(d == 3 and rng.random() < 0.3)) for _ in range(count)]
    if d == 2 and rng.random() < 0.5:
        factors = [factors[0] ** 2, factors[1]]
    product = sympy.Mul(*factors, evaluate=False)
    expanded = sympy.expand(product)
    names = "x and y" if d == 3 else "x"
    prompt = (
        f"Expand and simplify (a polynomial in {names}): {to_text(product)}\n"
        "Answer with the expanded polynomial as a sum of terms, e.g. <answer>2x^3 - x^2 - 4x + 3</answer>."
    )
    return ExpandProblem(prompt, to_text(expanded), product, expanded)


def is_expanded(expr: sympy.Expr) -> bool:
    """True when ``expr`` is a sum of monomials: no sum inside a product or a power."""
    for term in sympy.Add.make_args(expr):
        for factor in sympy.Mul.make_args(term):
            base = factor.base if factor.is_Pow else factor
            if not (base.is_Symbol or base.is_Number) or (factor.is_Pow and not factor.exp.is_Integer):
                return False
    return True


def verify(problem: ExpandProblem, answer: str) -> Verdict:
    expr = read_expression(answer, problem.expanded.free_symbols | {X})
    verdict = equal_verdict(expr, problem.expanded, "the answer is not equal to the product")
    if verdict.score == 1.0 and not is_expanded(expr):
        return Verdict(0.0, "the answer is equal but not expanded into a sum of terms", verdict.canonical)
    return verdict


def explain(problem: ExpandProblem) -> str:
    return (
        f"Multiply out {to_text(problem.product)} term by term and collect like powers.\n"
        f"Result: {problem.answer}"
    )


ExpandEnv = register_task(
    "thinkgym/Expand-v0", family="math", config=ExpandConfig, generate=generate, verify=verify, explain=explain,
    boxed_fallback=True,
)
