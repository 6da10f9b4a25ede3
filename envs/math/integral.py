"""Indefinite integrals, checked by differentiating the answer.

Prompt: ``Find an antiderivative of f(x) = 3*x^2 + cos(x).`` and the answer format.
Answer: any antiderivative F(x), with or without a constant, e.g.
``<answer>x^3 + sin(x) + C</answer>`` (LaTeX reads). Reward 1.0 when F'(x), differentiated for
real x (d/dx |x| = sign(x)), equals f(x) as :func:`thinkgym.rewards.equivalence.expressions_equal`
decides: exactly for rational functions, else at positive and negative points where both are
real (so ``ln|x|`` and ``ln(x)`` both count for 1/x, but ``x|x|/2`` is no antiderivative of x).

Difficulty: 1 = polynomials; 2 = sums with sin, cos, exp, 1/x or sqrt; 3 = integrands that
need a substitution or integration by parts (derivatives of products and compositions).
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

_REAL_X = sympy.Symbol("x", real=True)
CONSTANTS = frozenset(sympy.symbols("C c K k"))


@dataclass(frozen=True)
class IntegralConfig(TaskConfig):
    """The difficulty picks how the antiderivative is composed (see ``calculus_common.elementary``)."""


@dataclass(frozen=True)
class IntegralProblem:
    prompt: str
    answer: str
    integrand: sympy.Expr
    antiderivative: sympy.Expr


def generate(rng: np.random.Generator, config: IntegralConfig) -> IntegralProblem:
    while True:
        antiderivative = elementary(rng, config.difficulty)
        antiderivative = sympy.Add(*(t for t in sympy.Add.make_args(antiderivative) if t.has(X)))  # drop constants
        integrand = sympy.diff(antiderivative, X)
        if integrand.has(X):
            break
    prompt = (
        f"Find an antiderivative F(x) of f(x) = {to_text(integrand)}, i.e. F'(x) = f(x).\n"
        f"{ANSWER_HINT}; a constant of integration is optional. Answer e.g. <answer>x^3 + sin(x) + C</answer>."
    )
    return IntegralProblem(prompt, to_text(antiderivative) + " + C", integrand, antiderivative)


def verify(problem: IntegralProblem, answer: str) -> Verdict:
    text = answer.split("=", 1)[1] if answer.lstrip().startswith("\\int") and "=" in answer else answer
    expr = read_expression(text, CONSTANTS | {X})
    derivative = sympy.diff(expr.xreplace({X: _REAL_X}), _REAL_X).xreplace({_REAL_X: X})
    verdict = equal_verdict(derivative, problem.integrand, "the derivative of the answer is not the integrand")
    return Verdict(verdict.score, verdict.reason, to_text(expr))


def explain(problem: IntegralProblem) -> str:
    return (
        f"Look for F with F'(x) = {to_text(problem.integrand)}: try F(x) = {to_text(problem.antiderivative)}; "
        f"differentiating gives back {to_text(sympy.diff(problem.antiderivative, X))}, which is f(x).\n"
        f"F(x) = {problem.answer}"
    )


IntegralEnv = register_task(
    "thinkgym/Integral-v0", family="math", config=IntegralConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
