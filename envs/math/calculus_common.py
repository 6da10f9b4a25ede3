"""Random elementary functions of x for the calculus tasks, built as sympy objects."""

from __future__ import annotations

import numpy as np
import sympy

from thinkgym.envs.math.common import X, nonzero_int, pick


def polynomial(rng: np.random.Generator, degree: int, c: int = 5) -> sympy.Expr:
    """A polynomial in x of exactly ``degree`` with small integer coefficients."""
    coeffs = [nonzero_int(rng, -c, c)] + [int(v) for v in rng.integers(-c, c + 1, size=degree)]
    return sympy.Add(*(a * X ** (degree - i) for i, a in enumerate(coeffs)))


def elementary(rng: np.random.Generator, difficulty: int) -> sympy.Expr:
    """Level 1: a polynomial; 2: a sum with one of sin, cos, exp, log; 3: a product or a
    composition (product rule, chain rule)."""
    if difficulty == 1:
        return polynomial(rng, int(rng.integers(2, 4)))
    a = nonzero_int(rng, -3, 3)
    inner = a * X
    simple = pick(rng, [sympy.sin(inner), sympy.cos(inner), sympy.exp(inner), sympy.log(X), sympy.sqrt(X)])
    if difficulty == 2:
        return nonzero_int(rng, -4, 4) * simple + polynomial(rng, int(rng.integers(1, 3)))
    kind = int(rng.integers(3))
    if kind == 0:
        return polynomial(rng, 1, 3) * simple
    if kind == 1:
        outer = pick(rng, [sympy.sin, sympy.cos, sympy.exp])
        return outer(polynomial(rng, 2, 3))
    return polynomial(rng, int(rng.integers(2, 4)), 3) ** int(rng.integers(2, 4))
