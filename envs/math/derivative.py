"""Derivatives of elementary functions of x.

Prompt: ``Differentiate f(x) = x^2*sin(3*x) with respect to x.`` and the answer format.
Answer: f'(x) in any equivalent form, e.g. ``<answer>2x sin(3x) + 3x^2 cos(3x)</answer>``
(``f'(x) = ...`` and LaTeX such as ``\\cos`` and ``\\frac`` also read). Reward 1.0 when the
answer equals the derivative as a function of x, as
:func:`thinkgym.rewards.equivalence.expressions_equal` decides: polynomials exactly, other
functions at fixed and seeded points, negative ones included (``|x|`` is not ``x``), else 0.

Difficulty: 1 = polynomials; 2 = sums with sin, cos, exp, log or sqrt; 3 = products,
compositions and powers of polynomials (product and chain rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.levels import TaskConfig
from thinkgym.envs.math.calculus_common import elementary
from thinkgym.envs.math.common import ANSWER_HINT, X, equal_verdict, read_expression, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class DerivativeConfig(TaskConfig):
    """The difficulty picks how elementary functions are composed (see ``calculus_common.elementary``)."""


@dataclass(frozen=True)
class DerivativeProblem:
    prompt: str
    answer: str
    function: sympy.Expr
    derivative: sympy.Expr


def generate(rng: np.random.Generator, config: DerivativeConfig) -> DerivativeProblem:
    function = elementary(rng, config.difficulty)
    derivative = sympy.diff(function, X)
    prompt = (
        f"Differentiate f(x) = {to_text(function)} with respect to x.\n"
        f"{ANSWER_HINT}. Answer with f'(x), e.g. <answer>2x*cos(x^2) + 3</answer>."
    )
    return DerivativeProblem(prompt, to_text(derivative), function, derivative)


def verify(problem: DerivativeProblem, answer: str) -> Verdict:
    expr = read_expression(answer)  # "f'(x) = ..." and "dy/dx = ..." read as their right side
    return equal_verdict(expr, problem.derivative, "the answer is not the derivative")


def explain(problem: DerivativeProblem) -> str:
    f = problem.function
    terms = sympy.Add.make_args(sympy.expand(f)) if f.is_Add or f.is_polynomial(X) else (f,)
    parts = [f"d/dx [{to_text(t)}] = {to_text(sympy.diff(t, X))}" for t in terms[:8]]
    rule = "term by term (power rule)" if f.is_polynomial(X) else "with the sum, product and chain rules"
    return "\n".join([f"Differentiate {rule}:"] + parts + [f"f'(x) = {problem.answer}"])


DerivativeEnv = register_task(
    "thinkgym/Derivative-v0", family="math", config=DerivativeConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
