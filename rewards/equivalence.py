"""Math answer equivalence: :func:`math_equal` decides whether a model's answer equals a reference.

Both texts are read by the whitelisted parser of :mod:`thinkgym.rewards.mathparse` (never by
``eval`` or ``sympify``) and compared by value:

* expressions: numerically at fixed points for their variables, with 50-digit mpmath
  arithmetic (:mod:`thinkgym.rewards.mathnum`). Two exact expressions (no decimal point) must
  agree to 25 significant digits (or within 1e-32 near zero) at every point, which decides
  equality of the integers, rationals, radicals and elementary expressions that answers are
  made of; when either side is a decimal the relative tolerance is 1e-6, but a decimal never
  equals an exact irrational (``3.1416`` is not ``\\pi``). Variables take positive values,
  so branch choices such as ``sqrt(x^2) = x`` are accepted;
* ``x = 5`` equals ``5``; lists ``1, 2`` and ``x=1 or x=2`` and sets ``\\{1, 2\\}`` compare
  unordered, tuples ordered (a bare list also matches a tuple in order); intervals compare
  their ends and whether each end is closed (an open interval ``(a, b)`` matches the pair
  ``(a, b)``); ``50%`` equals both ``0.5`` and ``50``.

Work is bounded: the parser's limits cap sizes and magnitudes, and the numeric evaluation
checks a deadline (``timeout`` seconds) at every node, so a call ends in time from any thread
without signals or subprocesses. Any failure (unreadable text, time limit) gives False.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from thinkgym.rewards import mathnum
from thinkgym.rewards.mathparse import (
    MAX_CHARS,
    Equation,
    Interval,
    IntervalUnion,
    ParseError,
    SetOf,
    Tup,
    Value,
    parse_answer,
)

logger = logging.getLogger(__name__)

EXACT_TOLERANCE = 1e-25
INEXACT_TOLERANCE = 1e-6
DEFAULT_TIMEOUT = 1.0
MAX_VARIABLES = 10
_POINTS = 3
_PLAIN = re.compile(r"\s*([-+]?)(\d{1,60}(?:\.\d{0,60})?|\.\d{1,60})(?:\s*/\s*(\d{1,60}))?\s*")


def math_equal(answer: str, reference: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True when ``answer`` and ``reference`` state the same math value (see the module doc).

    Never raises on the content of either text and returns within about ``timeout`` seconds.
    """
    if not isinstance(answer, str) or not isinstance(reference, str):
        return False
    if len(answer) > MAX_CHARS or len(reference) > MAX_CHARS:
        return False
    plain = _plain_equal(answer, reference)
    if plain is not None:
        return plain
    deadline = time.monotonic() + timeout
    try:
        for ref in _readings(reference):
            for ans in _readings(answer):
                if values_equal(ans, ref, deadline=deadline):
                    return True
    except (ParseError, mathnum.NumericError, ArithmeticError, RecursionError, MemoryError):
        return False
    except Exception:  # a parser bug must not crash a rollout; log it to get it fixed
        logger.warning("math_equal failed on %.80r vs %.80r", answer, reference, exc_info=True)
        return False
    return False


def values_equal(a: Value, b: Value, *, deadline: float | None = None) -> bool:
    """Equality of two parsed answers (expressions, equations, tuples, sets, intervals)."""
    if isinstance(a, Equation) or isinstance(b, Equation):
        return _equations_equal(a, b, deadline)
    if isinstance(a, SetOf) and isinstance(b, SetOf):
        return _unordered_equal(a.items, b.items, deadline)
    for x, y in ((a, b), (b, a)):
        if isinstance(x, SetOf) and len(x.items) == 1 and not isinstance(y, SetOf):
            return values_equal(x.items[0], y, deadline=deadline)
        if isinstance(x, SetOf) and not x.braced and isinstance(y, Tup):
            return _ordered_equal(x.items, y.items, deadline)
        if isinstance(x, Tup) and isinstance(y, Interval) and len(x.items) == 2 and all(
                isinstance(v, sympy.Expr) for v in x.items):
            x = Interval(x.items[0], x.items[1], False, False)
            return _intervals_equal(x, y, deadline)
    if isinstance(a, Tup) and isinstance(b, Tup):
        return _ordered_equal(a.items, b.items, deadline)
    if isinstance(a, Interval) and isinstance(b, Interval):
        return _intervals_equal(a, b, deadline)
    if isinstance(a, IntervalUnion) and isinstance(b, IntervalUnion):
        return _unordered_equal(a.parts, b.parts, deadline)
    if isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr):
        return expressions_equal(a, b, deadline=deadline)
    return False


def expressions_equal(a: sympy.Expr, b: sympy.Expr, *, deadline: float | None = None) -> bool:
    """Equality of two sympy expressions by evaluation at fixed points (see the module doc)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if len(symbols) > MAX_VARIABLES:
        return False
    return _match(_signature(a, symbols, deadline), _signature(b, symbols, deadline))


@dataclass(frozen=True)
class _Signature:
    """What equality needs to know of an expression: its values at the points for ``symbols``
    (None where undefined, e.g. at a pole), whether it is exact (no decimals), and whether it is
    an exact constant that is not rational (which no decimal equals)."""

    values: tuple[Any, ...]
    exact: bool
    irrational: bool


def _signature(expr: sympy.Expr, symbols: list[sympy.Symbol], deadline: float | None) -> _Signature:
    ctx = mathnum.context()
    values = []
    for point in _points(ctx, symbols):
        try:
            values.append(mathnum.evaluate(expr, point, deadline=deadline))
        except mathnum.NumericError:
            values.append(None)
    exact = not expr.has(sympy.Float)
    irrational = exact and not expr.free_symbols and not (expr.is_Rational or expr.is_infinite)
    return _Signature(tuple(values), exact, bool(irrational))


def _match(a: _Signature, b: _Signature) -> bool:
    if a.exact != b.exact and (a.irrational or b.irrational):
        return False  # a rounded decimal is not an exact irrational
    tolerance = EXACT_TOLERANCE if a.exact and b.exact else INEXACT_TOLERANCE
    ctx = mathnum.context()
    compared = 0
    for va, vb in zip(a.values, b.values):
        if va is None and vb is None:
            continue  # both undefined here: the other points decide
        if va is None or vb is None or not _close(ctx, va, vb, tolerance):
            return False
        compared += 1
    return compared > 0


def _close(ctx: Any, x: Any, y: Any, tolerance: float) -> bool:
    if not (ctx.isfinite(x) and ctx.isfinite(y)):
        return bool(x == y)
    diff = abs(x - y)
    scale = max(abs(x), abs(y))
    # Near zero a relative test is meaningless: allow what 50-digit rounding leaves of a zero
    # (exact) or what a printed decimal can (inexact), but no more: 10^-7 is not 0.
    floor = 1e-32 if tolerance == EXACT_TOLERANCE else 1e-12
    return bool(diff <= tolerance * scale or diff <= floor)


@functools.lru_cache(maxsize=64)
def _point_values(count: int, n_symbols: int) -> tuple[tuple[str, ...], ...]:
    """Decimal strings of positive, irrational-looking values: point k, symbol j."""
    primes = list(sympy.primerange(2, 200))[: count * max(n_symbols, 1)]
    values = []
    for k in range(count):
        row = []
        for j in range(n_symbols):
            frac = sympy.sqrt(primes[k * n_symbols + j]).evalf(45) % 1
            row.append(str(sympy.Rational(1, 2) + 2 * frac))
        values.append(tuple(row))
    return tuple(values)


def _points(ctx: Any, symbols: list[sympy.Symbol]) -> list[dict[sympy.Symbol, Any]]:
    if not symbols:
        return [{}]
    rows = _point_values(_POINTS, len(symbols))
    return [{s: ctx.mpf(v) for s, v in zip(symbols, row)} for row in rows]


def _equations_equal(a: Value, b: Value, deadline: float | None) -> bool:
    if isinstance(a, Equation) and isinstance(b, Equation):
        if isinstance(a.lhs, sympy.Symbol) and isinstance(b.lhs, sympy.Symbol):
            return a.lhs == b.lhs and values_equal(a.rhs, b.rhs, deadline=deadline)
        if all(isinstance(v, sympy.Expr) for v in (a.lhs, a.rhs, b.lhs, b.rhs)):
            return _proportional(a.lhs - a.rhs, b.lhs - b.rhs, deadline)
        return False
    eq, other = (a, b) if isinstance(a, Equation) else (b, a)
    if isinstance(eq.lhs, sympy.Symbol):
        return values_equal(eq.rhs, other, deadline=deadline)
    return False


def _proportional(a: sympy.Expr, b: sympy.Expr, deadline: float | None) -> bool:
    """``a = 0`` and ``b = 0`` are the same equation: a is a nonzero constant times b."""
    ctx = mathnum.context()
    ratios = []
    for point in _points(ctx, sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)):
        try:
            va, vb = mathnum.evaluate(a, point, deadline=deadline), mathnum.evaluate(b, point, deadline=deadline)
        except mathnum.NumericError:
            return False
        if vb == 0 or va == 0:
            if va != vb:
                return False
            continue
        ratios.append(va / vb)
    return bool(ratios) and all(_close(ctx, r, ratios[0], 1e-20) for r in ratios)


def _ordered_equal(xs: tuple[Value, ...], ys: tuple[Value, ...], deadline: float | None) -> bool:
    return len(xs) == len(ys) and all(values_equal(x, y, deadline=deadline) for x, y in zip(xs, ys))


def _unordered_equal(xs: tuple[Any, ...], ys: tuple[Any, ...], deadline: float | None) -> bool:
    """Same elements, ignoring order and repeats (every x is some y and every y some x)."""
    names = {v.lhs for v in xs + ys if isinstance(v, Equation)}
    if len(names) == 1 and isinstance(next(iter(names)), sympy.Symbol):  # x = 1 or x = 2
        xs, ys = tuple(_unwrap(x) for x in xs), tuple(_unwrap(y) for y in ys)
    if all(isinstance(v, sympy.Expr) for v in xs + ys):  # evaluate each element once, not per pair
        symbols = sorted(set().union(*(v.free_symbols for v in xs + ys)), key=lambda s: s.name)
        if len(symbols) > MAX_VARIABLES:
            return False
        sx = [_signature(x, symbols, deadline) for x in xs]
        sy = [_signature(y, symbols, deadline) for y in ys]
        same = _match
    else:
        sx, sy = list(xs), list(ys)

        def same(u: Any, v: Any) -> bool:
            return values_equal(u, v, deadline=deadline)

    return all(any(same(u, v) for v in sy) for u in sx) and all(any(same(v, u) for u in sx) for v in sy)


def _unwrap(value: Value) -> Value:
    """``x = 2`` in a list of values of x stands for 2."""
    if isinstance(value, Equation) and isinstance(value.lhs, sympy.Symbol):
        return value.rhs
    return value


def _intervals_equal(a: Interval, b: Interval, deadline: float | None) -> bool:
    return (
        (a.left_closed, a.right_closed) == (b.left_closed, b.right_closed)
        and expressions_equal(a.lo, b.lo, deadline=deadline)
        and expressions_equal(a.hi, b.hi, deadline=deadline)
    )


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str, percent_as_fraction: bool) -> Value:
    return parse_answer(text, percent_as_fraction=percent_as_fraction)


def _readings(text: str) -> list[Value]:
    """The parses of ``text``: with a percent sign, both ``50% = 1/2`` and ``50% = 50``."""
    readings = [_parse_cached(text, True)]
    if "%" in text:
        readings.append(_parse_cached(text, False))
    return readings


def _plain_equal(answer: str, reference: str) -> bool | None:
    """Fast path for two plain numbers (``-12``, ``0.5``, ``3/4``); None for anything else."""
    a, b = _plain_number(answer), _plain_number(reference)
    if a is None or b is None:
        return None
    (va, exact_a), (vb, exact_b) = a, b
    if exact_a and exact_b:
        return va == vb
    return abs(va - vb) <= Fraction(INEXACT_TOLERANCE) * max(abs(va), abs(vb))


def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    match = _PLAIN.fullmatch(text)
    if not match:
        return None
    sign, number, denominator = match.groups()
    if denominator is not None and int(denominator) == 0:
        return None
    value = Fraction(number) / (int(denominator) if denominator else 1)
    return (-value if sign == "-" else value), "." not in number
