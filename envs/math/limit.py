"""Limits of functions of x: rational functions at infinity, removable singularities, and
the standard trigonometric and exponential limits.

Prompt: ``Find the limit of (3*x^2 + 1)/(2*x^2 - x) as x -> oo.`` and the answer format.
Answer: the exact value, e.g. ``<answer>3/2</answer>`` (``\\frac{3}{2}``, ``1.5``, ``oo`` or
``\\infty`` and ``-\\infty`` also read). Reward 1.0 for the right value, else 0.

Difficulty: 1 = ratios of polynomials of equal degree as x -> oo, or a polynomial at a point;
2 = removable singularities ``(x^2 - a^2)/(x - a)`` and rational functions of different degrees
at infinity; 3 = ``sin(a x)/(b x)``, ``(1 - cos(a x))/x^2``, ``(e^{a x} - 1)/(b x)`` at 0 and
``(1 + a/x)^x`` at infinity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.levels import TaskConfig
from thinkgym.envs.math.calculus_common import polynomial
from thinkgym.envs.math.common import ANSWER_HINT, X, nonzero_int, pick, read_expression, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.equivalence import expressions_equal
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class LimitConfig(TaskConfig):
    """The difficulty picks the kind of limit (see ``_case``)."""


@dataclass(frozen=True)
class LimitProblem:
    prompt: str
    answer: str
    function: sympy.Expr
    point: sympy.Expr
    value: sympy.Expr
    hint: str


def _case(rng: np.random.Generator, difficulty: int) -> tuple[sympy.Expr, sympy.Expr, str]:
    if difficulty == 1:
        if rng.random() < 0.5:
            degree = int(rng.integers(1, 3))
            f = polynomial(rng, degree) / polynomial(rng, degree)
            return f, sympy.oo, "divide numerator and denominator by the highest power of x; the limit is the ratio of the leading coefficients"
        f = polynomial(rng, 2)
        return f, sympy.Integer(int(rng.integers(-3, 4))), "a polynomial is continuous, so substitute the point"
    if difficulty == 2:
        if rng.random() < 0.5:
            a = nonzero_int(rng, -5, 5)
            g = polynomial(rng, 1, 4)
            f = sympy.Mul(sympy.expand((X - a) * g), 1 / (X - a), evaluate=False)
            return f, sympy.Integer(a), f"factor (x - {a}) out of the numerator and cancel it, then substitute x = {a}"
        top, bottom = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        f = polynomial(rng, top) / polynomial(rng, bottom)
        return f, pick(rng, [sympy.oo, -sympy.oo]), "compare the degrees and leading coefficients of numerator and denominator"
    a, b = nonzero_int(rng, -5, 5), nonzero_int(rng, 1, 5)
    kind = int(rng.integers(4))
    if kind == 0:
        return sympy.sin(a * X) / (b * X), sympy.Integer(0), "use sin(u)/u -> 1 as u -> 0"
    if kind == 1:
        return (1 - sympy.cos(a * X)) / X**2, sympy.Integer(0), "use (1 - cos u)/u^2 -> 1/2 as u -> 0"
    if kind == 2:
        return (sympy.exp(a * X) - 1) / (b * X), sympy.Integer(0), "use (e^u - 1)/u -> 1 as u -> 0"
    return (1 + sympy.Integer(a) / X) ** X, sympy.oo, "use (1 + a/x)^x -> e^a as x -> oo"


EXAMPLE = sympy.Rational(3, 2)  # the answer shown in the prompt's format line


def generate(rng: np.random.Generator, config: LimitConfig) -> LimitProblem:
    """Draws are repeated until the limit exists and is neither the format example nor the
    point x tends to, so copying either from the prompt never scores."""
    while True:
        function, point, hint = _case(rng, config.difficulty)
        value = sympy.limit(function, X, point)
        if (value.is_finite or value in (sympy.oo, -sympy.oo)) and value not in (EXAMPLE, point):
            break
    where = {sympy.oo: "oo (infinity)", -sympy.oo: "-oo"}.get(point, str(point))
    prompt = (
        f"Find the limit of {to_text(function)} as x -> {where}.\n"
        f"{ANSWER_HINT}. Answer with the exact value (oo for infinity), e.g. <answer>3/2</answer>."
    )
    return LimitProblem(prompt, to_text(value), function, point, value, hint)


def verify(problem: LimitProblem, answer: str) -> Verdict:
    expr = read_expression(answer, set())
    canonical = to_text(expr)
    if expressions_equal(expr, problem.value):
        return Verdict(1.0, canonical=canonical)
    return Verdict(0.0, "that is not the limit", canonical)


def explain(problem: LimitProblem) -> str:
    return f"To find the limit, {problem.hint}.\nThe limit is {problem.answer}"


LimitEnv = register_task(
    "thinkgym/Limit-v0", family="math", config=LimitConfig, generate=generate, verify=verify, explain=explain,
    boxed_fallback=True,
)
