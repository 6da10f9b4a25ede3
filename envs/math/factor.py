"""Factor a polynomial with integer coefficients completely over the rationals.

Prompt: ``Factor completely: x^3 - 2*x^2 - 5*x + 6`` and the answer format.
Answer: a product of factors, e.g. ``<answer>(x - 1)(x + 2)(x - 3)</answer>`` (any order,
powers for repeated factors, a constant factor in front, LaTeX reads). Reward 1.0 when the
product, as written, is exactly the polynomial (polynomial identity with rational coefficients:
the prompt's polynomial plus ``10^(-40)`` is a different polynomial) *and* every non-constant
factor is irreducible over the rationals; the polynomial written back unfactored, a partial
factorisation, decimals, or a quotient (``(x-1)^3 / (x-1)``) score 0. Every posed polynomial has
at least two irreducible factors, so the polynomial itself is never the answer.

Difficulty: 1 = a monic quadratic; 2 = a cubic, possibly with a common integer factor;
3 = a quartic with a repeated or an irreducible quadratic factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.levels import TaskConfig, within
from thinkgym.envs.math.common import X, evaluated, nonzero_int, read_expression, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

MAX_DEGREE = 12


@dataclass(frozen=True)
class FactorConfig(TaskConfig):
    max_root: int = 6
    """Roots of the linear factors are drawn from -max_root..max_root."""

    def validate(self) -> None:
        within(self, "max_root", 1, 50)


@dataclass(frozen=True)
class FactorProblem:
    prompt: str
    answer: str
    polynomial: sympy.Expr
    factored: sympy.Expr


EXAMPLE = sympy.expand(2 * (X - 1) ** 2 * (X + 3))  # the polynomial of the format line's answer


def generate(rng: np.random.Generator, config: FactorConfig) -> FactorProblem:
    """At least two irreducible factors, so the polynomial is never its own factorisation, and
    never the format example's polynomial."""
    while True:
        problem = _draw(rng, config)
        if problem.polynomial != EXAMPLE:
            return problem


def _draw(rng: np.random.Generator, config: FactorConfig) -> FactorProblem:
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


def written_factors(expr: sympy.Expr) -> list[tuple[sympy.Expr, int]]:
    """(base, exponent) of each factor of a product as written (nested products and integer
    powers opened); raises :class:`InvalidAnswer` for anything but a product of polynomials."""
    out, stack = [], [(expr, 1)]
    while stack:
        node, exp = stack.pop()
        if node.is_Mul:
            stack.extend((a, exp) for a in node.args)
        elif node.is_Pow and node.base.free_symbols and evaluated(node.exp).is_Integer:
            power = int(evaluated(node.exp))
            if power < 1:
                raise InvalidAnswer("a factor with a negative or zero power is not a polynomial factor")
            stack.append((node.base, exp * power))
        elif node.free_symbols and not evaluated(node).is_polynomial(X):
            raise InvalidAnswer(f"{to_text(evaluated(node))} is not a polynomial")
        else:
            out.append((node, exp))
    return out


def _irreducible(poly: sympy.Poly) -> bool:
    return poly.degree() <= 1 or (poly.degree() <= MAX_DEGREE and poly.set_domain(sympy.QQ).is_irreducible)


def verify(problem: FactorProblem, answer: str) -> Verdict:
    written = read_expression(answer, evaluate=False)
    if written.has(sympy.Float):
        return Verdict(0.0, "write exact coefficients, not decimals", to_text(evaluated(written)))
    factors = written_factors(written)
    target = sympy.Poly(problem.polynomial, X)
    if sum(sympy.degree(evaluated(b), X) * e for b, e in factors) != target.degree():
        return Verdict(0.0, "the product is not equal to the polynomial", to_text(evaluated(written)))
    value = evaluated(written)
    canonical = to_text(value)
    # Exact polynomial equality with rational coefficients: a term as small as 10^-40 counts.
    if sympy.Poly(value, X) != target:
        return Verdict(0.0, "the product is not equal to the polynomial", canonical)
    for base, _ in factors:
        if base.free_symbols and not _irreducible(sympy.Poly(evaluated(base), X)):
            return Verdict(0.0, f"the factor {to_text(evaluated(base))} can be factored further", canonical)
    return Verdict(1.0, canonical=canonical)


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
