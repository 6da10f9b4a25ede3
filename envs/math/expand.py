"""Expand a product of polynomials into a sum of monomials.

Prompt: ``Expand (2*x + 3)*(x - 1)^2`` and the answer format.
Answer: the expanded polynomial, e.g. ``<answer>2x^3 - x^2 - 4x + 3</answer>`` (terms in any
order, ``*`` optional, LaTeX reads). Reward 1.0 when the answer, as written, is a sum of
monomials with like terms collected (no parentheses left around a sum, no power of a sum, no
two terms with the same monomial) *and* has exactly the coefficients of the expanded product
(polynomial identity, decided exactly; no decimals). An equal but unexpanded answer, such as
the prompt's product echoed back or ``2(x + 1)``, scores 0. The posed product is never already
expanded: every factor is a sum of two nonzero terms.

Difficulty: 1 = two linear factors; 2 = three linear factors or a squared one; 3 = up to four
factors, some quadratic, in x and y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.levels import TaskConfig, within
from thinkgym.envs.math.common import X, evaluated, flat_args, nonzero_int, read_expression, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

Y = sympy.Symbol("y")


@dataclass(frozen=True)
class ExpandConfig(TaskConfig):
    max_coefficient: int = 5
    """Coefficients of the factors are drawn from -max_coefficient..max_coefficient."""

    def validate(self) -> None:
        within(self, "max_coefficient", 1, 50)


@dataclass(frozen=True)
class ExpandProblem:
    prompt: str
    answer: str
    product: sympy.Expr
    expanded: sympy.Expr


def _factor(rng: np.random.Generator, c: int, variables: list[sympy.Symbol], quadratic: bool) -> sympy.Expr:
    """``a v + b``, ``a v + b w`` or ``v^2 + b w`` with a, b nonzero and w another variable than v
    (with w = v, ``4y - 4y`` would be 0 and ``4y + 2y`` a monomial)."""
    v = variables[int(rng.integers(len(variables)))]
    lead = nonzero_int(rng, 1, min(c, 3)) if not quadratic else 1
    term = lead * v**2 if quadratic else lead * v
    others = [w for w in variables if w != v]
    second = others[0] if others and rng.random() < 0.5 else 1
    return term + nonzero_int(rng, -c, c) * second


EXAMPLE = sympy.expand((2 * X + 3) * (X - 1) ** 2)  # the format line's answer


def generate(rng: np.random.Generator, config: ExpandConfig) -> ExpandProblem:
    """Draw until the problem is not degenerate: every factor is a sum of two terms (never 0 or
    a monomial), the product is not already expanded, and it is not the format example."""
    while True:
        problem = _draw(rng, config)
        if not is_expanded(problem.product) and problem.expanded != EXAMPLE:
            return problem


def _draw(rng: np.random.Generator, config: ExpandConfig) -> ExpandProblem:
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
    """True when ``expr`` (evaluated or as written) is a sum of monomials: each term a product of
    numbers and variables to positive integer powers, no sum inside a product or a power."""
    for term in flat_args(expr, sympy.Add):
        for factor in flat_args(term, sympy.Mul):
            if factor.is_Pow:
                exponent = evaluated(factor.exp)
                if not (exponent.is_Integer and (factor.base.is_Number or (factor.base.is_Symbol and exponent > 0))):
                    return False
            elif not (factor.is_Symbol or factor.is_Number):
                return False
    return True


def verify(problem: ExpandProblem, answer: str) -> Verdict:
    variables = sorted(problem.expanded.free_symbols | {X}, key=lambda s: s.name)
    written = read_expression(answer, set(variables), evaluate=False)
    value = evaluated(written)
    canonical = to_text(value)
    if written.has(sympy.Float):
        return Verdict(0.0, "write exact coefficients, not decimals", canonical)
    if not is_expanded(written):
        return Verdict(0.0, "the answer is not written as a sum of monomials", canonical)
    # Polynomial identity, decided exactly: the coefficients must be those of the expansion.
    if sympy.Poly(value, *variables) != sympy.Poly(problem.expanded, *variables):
        return Verdict(0.0, "the answer is not equal to the product", canonical)
    if len(flat_args(written, sympy.Add)) != len(sympy.Add.make_args(problem.expanded)):
        return Verdict(0.0, "collect like terms: the answer has terms with the same monomial or zero terms", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: ExpandProblem) -> str:
    return (
        f"Multiply out {to_text(problem.product)} term by term and collect like powers.\n"
        f"Result: {problem.answer}"
    )


ExpandEnv = register_task(
    "thinkgym/Expand-v0", family="math", config=ExpandConfig, generate=generate, verify=verify, explain=explain,
    boxed_fallback=True,
)
