"""Helpers shared by the math tasks: printing sympy objects as answer text, reading answers
with the safe parser of :mod:`thinkgym.rewards.mathparse`, and small random draws."""

from __future__ import annotations

import re

import numpy as np
import sympy

from thinkgym.rewards.equivalence import expressions_equal
from thinkgym.rewards.mathparse import parse_expression
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

X = sympy.Symbol("x")

ANSWER_HINT = (
    "Write math in plain text (^ for powers, * or juxtaposition for products, sqrt(...), pi, e; "
    "log is the natural logarithm) or LaTeX"
)


def to_text(expr: sympy.Basic) -> str:
    """Plain-text form of a sympy object that the answer parser reads back (``x^2 + 3*x``)."""
    text = sympy.sstr(expr, order="lex")
    text = text.replace("**", "^")
    text = re.sub(r"\bE\b", "e", text)
    text = re.sub(r"\bI\b", "i", text)
    return text


def read_expression(answer: str, variables: frozenset[sympy.Symbol] | set[sympy.Symbol] = frozenset({X}), *, evaluate: bool = True) -> sympy.Expr:
    """Parse an expression answer whose variables must be among ``variables``."""
    expr = parse_expression(answer, evaluate=evaluate)
    names = {s.name for s in variables}
    stray = sorted(s.name for s in expr.free_symbols if s.name not in names)
    if stray:
        raise InvalidAnswer(f"unexpected variable(s) {', '.join(stray)}")
    by_name = {s.name: s for s in variables}
    return expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})


def equal_verdict(answer: sympy.Expr, reference: sympy.Expr, reason: str) -> Verdict:
    """1.0 when the expressions are equal (exact comparison), else 0 with ``reason``."""
    canonical = to_text(answer)
    if expressions_equal(answer, reference):
        return Verdict(1.0, canonical=canonical)
    return Verdict(0.0, reason, canonical)


def nonzero_int(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniform integer in [low, high] other than 0."""
    while True:
        value = int(rng.integers(low, high + 1))
        if value:
            return value


def pick(rng: np.random.Generator, options: list | tuple):
    """A uniform choice from a sequence (keeps element types, unlike ``rng.choice``)."""
    return options[int(rng.integers(len(options)))]
