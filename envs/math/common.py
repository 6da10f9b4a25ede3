"""Helpers shared by the math tasks: printing sympy objects as answer text, reading answers
with the safe parser of :mod:`thinkgym.rewards.mathparse`, and small random draws."""

from __future__ import annotations

import math
import re
from fractions import Fraction

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
    renamed = {s: by_name[s.name] for s in expr.free_symbols if s != by_name[s.name]}
    return expr.xreplace(renamed) if renamed else expr  # xreplace would evaluate an unevaluated parse


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


# -- numbers in computed form --------------------------------------------------------------
# A task that asks for a value wants the value, not the work: the prompt's expression echoed
# back (``4/3 - 2/3``), unevaluated arithmetic (``3*4 + 1``), an unreduced fraction (``360/6``)
# or a mixed number (read as a sum) equal the value but compute nothing. These helpers read the
# *unevaluated* parse, accept only numbers written as numbers, and return their exact value, so
# no tolerance is involved: a decimal counts with its exact value (``2.5`` is 5/2, ``7.0000007``
# is not 7).

NOT_A_NUMBER = "write the value itself as one number (an integer or a fraction in lowest terms), not an expression to compute"
_PLAIN_NUMBER = re.compile(r"\s*([-+]?)\s*(\d{1,60})(?:(\.\d{0,60})|\s*/\s*(\d{1,60}))?\s*")


def read_number(answer: str, *, decimals: bool = True, integer: bool = False) -> Fraction:
    """The exact value of an answer that is one number in computed form (see :func:`number_value`);
    raises :class:`InvalidAnswer` for anything else (``x = 5`` reads as 5)."""
    match = _PLAIN_NUMBER.fullmatch(answer)
    if match:  # fast path for bare numbers; the same rules as number_value
        sign, whole, point, den = match.groups()
        if point is not None and not decimals:
            raise InvalidAnswer("give an exact fraction, not a decimal")
        signed = f"-{whole}" if sign == "-" else whole
        if den is not None:
            value = _fraction(int(signed), int(den))
        else:
            value = Fraction(signed + (point or "").rstrip("."))
        return _integral(value) if integer else value
    if "%" in answer:
        raise InvalidAnswer("the question does not ask for a percentage")
    return number_value(parse_expression(answer, evaluate=False), decimals=decimals, integer=integer)


def number_value(node: sympy.Expr, *, decimals: bool = True, integer: bool = False) -> Fraction:
    """Exact value of an unevaluated parse that is a number written as one: an integer, a decimal
    (when ``decimals``), or a fraction of two integers in lowest terms (``-7/12``, ``\\frac{7}{-12}``),
    with a sign in front; with ``integer`` the value must be an integer. Raises :class:`InvalidAnswer`."""
    sign, inner = _unsigned(node)
    if inner.is_Integer:
        value = Fraction(int(inner))
    elif inner.is_Float:
        if not decimals:
            raise InvalidAnswer("give an exact fraction, not a decimal")
        value = Fraction(str(inner))  # the digits as written (the float keeps all of them)
    else:
        parts = _ratio(inner)
        if parts is None:
            raise InvalidAnswer(NOT_A_NUMBER)
        value = _fraction(*parts)
    value = -value if sign < 0 else value
    return _integral(value) if integer else value


def computed_number(node: sympy.Expr) -> sympy.Expr:
    """Exact value of an unevaluated parse of a real number in simplified form: numbers as
    :func:`number_value` reads them, combined with roots of integers that are not perfect powers
    (``3 - 2*sqrt(2)``, ``(1 + sqrt(5))/2``); no operation on two plain numbers (``2 + 3``, ``6/3``,
    ``sqrt(4)``) and no rational value written otherwise (``sqrt(2)*sqrt(2)``). Raises
    :class:`InvalidAnswer`."""
    plain = _ratio_or_number(node)
    if plain is not None:
        return sympy.Rational(plain.numerator, plain.denominator)  # a decimal with its exact value
    if not _simplified(node):
        raise InvalidAnswer(NOT_A_NUMBER)
    value = evaluated(node)
    if value.is_Rational:
        raise InvalidAnswer(f"{to_text(value)} is rational: write it as an integer or a fraction")
    return value


def _unsigned(node: sympy.Expr) -> tuple[int, sympy.Expr]:
    if node.is_Mul and len(node.args) == 2 and node.args[0] is sympy.S.NegativeOne:
        return -1, node.args[1]
    return 1, node


def _signed_int(node: sympy.Expr) -> int | None:
    sign, inner = _unsigned(node)
    return sign * int(inner) if inner.is_Integer else None


def _ratio(node: sympy.Expr) -> tuple[int, int] | None:
    """(numerator, denominator) of ``a/b`` with integer literals a and b, else None."""
    if not (node.is_Mul and len(node.args) == 2):
        return None
    for den, num in (node.args, node.args[::-1]):
        if den.is_Pow and den.exp is sympy.S.NegativeOne:
            n, d = _signed_int(num), _signed_int(den.base)
            if n is not None and d is not None:
                return n, d
    return None


def _fraction(n: int, d: int) -> Fraction:
    if d == 0:
        raise InvalidAnswer("division by zero")
    if math.gcd(n, d) != 1:
        raise InvalidAnswer(f"{n}/{d} is not in lowest terms")
    return Fraction(n, d)


def _integral(value: Fraction) -> Fraction:
    if value.denominator != 1:
        raise InvalidAnswer("expected an integer")
    return value


def _ratio_or_number(node: sympy.Expr) -> Fraction | None:
    try:
        return number_value(node)
    except InvalidAnswer:
        return None


def _reciprocal_int(node: sympy.Expr) -> bool:
    return node.is_Pow and node.exp is sympy.S.NegativeOne and _signed_int(node.base) is not None


def _simplified(node: sympy.Expr) -> bool:
    """The structural rules of :func:`computed_number` (``1/b`` counts as a plain number)."""
    if _ratio_or_number(node) is not None:
        return True
    if node.is_Pow:
        exponent = evaluated(node.exp)
        if node.base.is_Integer and node.base > 1 and exponent.is_Rational and exponent.p == 1 and 2 <= exponent.q <= 12:
            return not sympy.integer_nthroot(int(node.base), int(exponent.q))[1]
        return exponent is sympy.S.NegativeOne and _ratio_or_number(node.base) is None and _simplified(node.base)
    if node.is_Add or node.is_Mul:
        sign, inner = _unsigned(node)
        args = inner.args if inner.func is node.func or inner is node else (inner,)
        plain = sum(1 for a in args if _ratio_or_number(a) is not None or _reciprocal_int(a))
        return plain <= 1 and all(_reciprocal_int(a) or _simplified(a) for a in args)
    return False


def evaluated(node: sympy.Expr) -> sympy.Expr:
    """The evaluated form of an unevaluated parse (each node rebuilt with sympy's evaluation)."""
    if node.args:
        return node.func(*(evaluated(a) for a in node.args))
    return node


def flat_args(node: sympy.Expr, kind: type) -> list[sympy.Expr]:
    """The operands of nested unevaluated sums (``kind=sympy.Add``) or products (``sympy.Mul``)."""
    out, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, kind):
            stack.extend(reversed(item.args))
        else:
            out.append(item)
    return out
