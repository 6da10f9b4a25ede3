"""Math answer equivalence: :func:`math_equal` decides whether a model's answer equals a reference.

Both texts are read by the whitelisted parser of :mod:`thinkgym.rewards.mathparse` (never by
``eval`` or ``sympify``) and compared by value. The comparison is not symmetric: the reference
decides how exact the answer must be.

* An exact reference (no decimal point) needs an exactly equal answer. A decimal in the answer
  stands for the rational it writes (``2.5`` is ``5/2``, ``7.0000007`` is not ``7``).
  Rationals compare exactly; a rational never equals an irrational constant; rational
  functions (polynomials and quotients of them with rational coefficients) compare by an exact
  randomized identity test (evaluation modulo large primes at points derived from both texts);
  other constants and functions compare with mpmath at a working precision that is raised until
  it covers what the values need (:class:`thinkgym.rewards.mathnum.Need`: a term of
  ``10^{-40}`` added to ``e^3`` shows, digit agreement is not taken as equality).
* A decimal reference allows a relative tolerance of 1e-6, but an exact irrational answer is
  not a rounded decimal (``\\pi`` is not ``3.1416``).
* Functions of variables are compared at eight points: three fixed positive ones and five drawn
  from a hash of both texts, with negative and non-integer values, so ``|x|`` is not ``x`` and
  a wrong answer cannot be fitted to the points. A point counts where both sides are finite and
  both real (they must agree) or both non-real and equal; where only one side is real (outside
  its real domain, as ``\\ln x`` for x < 0) the point is skipped, but at least three points and
  half of those where the reference is real must count.
* ``x = 5`` equals ``5``; lists ``1, 2`` and ``x=1 or x=2`` and sets ``\\{1, 2\\}`` compare
  unordered, tuples ordered (a bare list also matches a tuple in order); intervals compare
  their ends and whether each end is closed (an open interval ``(a, b)`` matches the pair
  ``(a, b)``).
* ``10%`` is ``1/10``; with ``percent=True`` (a problem about percentages) it may also stand
  for ``10``.

Work is bounded: the parser's limits cap sizes and magnitudes, the working precision is capped
at :data:`MAX_CHECK_BITS` (a value that needs more is not accepted), and the numeric evaluation
checks a deadline (``timeout`` seconds) at every node, so a call ends in time from any thread
without signals or subprocesses. Any failure (unreadable text, time limit) gives False.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
import time
from collections.abc import Iterator
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

INEXACT_TOLERANCE = 1e-6
DEFAULT_TIMEOUT = 1.0
MAX_VARIABLES = 10
MAX_CHECK_BITS = 16384
"""Most bits of working precision an exact comparison may use (about 4,900 digits)."""
_FIXED_POINTS = 3
_SEEDED_POSITIVE = 1
_SEEDED_MIXED = 4
_PLAIN = re.compile(r"\s*([-+]?)(\d{1,60}(?:\.\d{0,60})?|\.\d{1,60})(?:\s*/\s*(\d{1,60}))?\s*")


class _OutOfTime(Exception):
    pass


def math_equal(answer: str, reference: str, *, timeout: float = DEFAULT_TIMEOUT, percent: bool = False) -> bool:
    """True when ``answer`` states the math value of ``reference`` (see the module doc).

    ``percent=True`` lets ``10%`` also stand for ``10`` (for problems about percentages).
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
        for ref in _readings(reference, percent):
            for ans in _readings(answer, percent):
                if values_equal(ans, ref, deadline=deadline):
                    return True
    except (ParseError, mathnum.NumericError, ArithmeticError, RecursionError, MemoryError):
        return False
    except Exception:  # a parser bug must not crash a rollout; log it to get it fixed
        logger.warning("math_equal failed on %.80r vs %.80r", answer, reference, exc_info=True)
        return False
    return False


def values_equal(a: Value, b: Value, *, deadline: float | None = None) -> bool:
    """Equality of a parsed answer ``a`` with a parsed reference ``b`` (expressions, equations,
    tuples, sets, intervals)."""
    if isinstance(a, Equation) or isinstance(b, Equation):
        return _equations_equal(a, b, deadline)
    if isinstance(a, SetOf) and isinstance(b, SetOf):
        return _unordered_equal(a.items, b.items, deadline)
    if isinstance(a, SetOf) and len(a.items) == 1 and not isinstance(b, SetOf):
        return values_equal(a.items[0], b, deadline=deadline)
    if isinstance(b, SetOf) and len(b.items) == 1 and not isinstance(a, SetOf):
        return values_equal(a, b.items[0], deadline=deadline)
    if isinstance(a, SetOf) and not a.braced and isinstance(b, Tup):
        return _ordered_equal(a.items, b.items, deadline)
    if isinstance(b, SetOf) and not b.braced and isinstance(a, Tup):
        return _ordered_equal(a.items, b.items, deadline)
    if isinstance(a, Tup) and isinstance(b, Interval) and _is_pair(a):
        return _intervals_equal(Interval(a.items[0], a.items[1], False, False), b, deadline)
    if isinstance(b, Tup) and isinstance(a, Interval) and _is_pair(b):
        return _intervals_equal(a, Interval(b.items[0], b.items[1], False, False), deadline)
    if isinstance(a, Tup) and isinstance(b, Tup):
        return _ordered_equal(a.items, b.items, deadline)
    if isinstance(a, Interval) and isinstance(b, Interval):
        return _intervals_equal(a, b, deadline)
    if isinstance(a, IntervalUnion) and isinstance(b, IntervalUnion):
        return _unordered_equal(a.parts, b.parts, deadline)
    if isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr):
        return expressions_equal(a, b, deadline=deadline)
    return False


def _is_pair(t: Tup) -> bool:
    return len(t.items) == 2 and all(isinstance(v, sympy.Expr) for v in t.items)


def expressions_equal(a: sympy.Expr, b: sympy.Expr, *, deadline: float | None = None) -> bool:
    """Equality of an answer expression ``a`` with a reference expression ``b``: exact unless
    the reference holds a decimal (see the module doc)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if len(symbols) > MAX_VARIABLES:
        return False
    try:
        if b.has(sympy.Float):
            return _inexact_equal(a, b, symbols, deadline)
        return _exact_equal(exact(a), b, symbols, deadline)
    except _OutOfTime:
        return False


def exact(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with each decimal replaced by the rational it writes (``0.1`` -> ``1/10``)."""
    floats = expr.atoms(sympy.Float)
    if not floats:
        return expr
    # The parser keeps at least as many digits as the text had, so the printed digits are the
    # written decimal (checked on random decimals in the tests).
    return expr.xreplace({f: sympy.Rational(str(f)) for f in floats})


# -- exact references -----------------------------------------------------------------------

def _exact_equal(a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol], deadline: float | None) -> bool:
    if a == b:
        return True
    if a.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan) or b.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return False  # infinities are equal only as the same symbol (compared above)
    if not symbols:
        if a.is_Rational and b.is_Rational:
            return False  # distinct rationals (a == b was checked)
        if (a.is_Rational and b.is_rational is False) or (b.is_Rational and a.is_rational is False):
            return False  # a rational is never an irrational constant, however close
        return _compare_at(a, b, {}, deadline)[0] == "equal"
    identity = _rational_identity(a, b, symbols)
    if identity is not None:
        return identity
    return _functions_equal(a, b, symbols, deadline)


def _compare_at(a: sympy.Expr, b: sympy.Expr, point: dict[sympy.Symbol, Any], deadline: float | None) -> tuple[str, bool, bool]:
    """The exact values of a and b at ``point`` (symbols to exact dyadic or decimal values):
    ``equal``, ``differ`` or ``undefined``, and whether each value is real. The working
    precision is raised until it covers the need of both values; a value that needs more than
    :data:`MAX_CHECK_BITS` counts as differing."""
    bits = mathnum.context().prec
    kinds = None
    while True:
        need = mathnum.Need()
        with mathnum.precision(bits) as ctx:
            values = {s: _point_value(ctx, v) for s, v in point.items()}
            try:
                va = mathnum.evaluate(a, values, deadline=deadline, need=need)
                vb = mathnum.evaluate(b, values, deadline=deadline, need=need)
            except mathnum.NumericError:
                if deadline is not None and time.monotonic() > deadline:
                    raise _OutOfTime from None
                return "undefined", False, False
            if not (ctx.isfinite(va) and ctx.isfinite(vb)):
                return "undefined", False, False
            if kinds is None:
                kinds = _is_real(ctx, va), _is_real(ctx, vb)
                if kinds[0] != kinds[1]:
                    return "differ", *kinds  # outside one side's real domain: no need to look closer
            scale = max(abs(va), abs(vb))
            if scale == 0:
                return "equal", *kinds
            diff = abs(va - vb)
            if diff > ctx.ldexp(scale, -(bits - need.bits - 32)):
                return "differ", *kinds
            if bits >= 3 * need.bits + 96:
                return "equal", *kinds
        bits = 3 * need.bits + 128
        if bits > MAX_CHECK_BITS:
            return "differ", *kinds  # the values would need more precision than a check may use


def _point_value(ctx: Any, value: Any) -> Any:
    if isinstance(value, str):
        return ctx.mpf(value)
    return ctx.ldexp(value, -_DYADIC_BITS)


def _is_real(ctx: Any, value: Any) -> bool:
    imag = ctx.im(value)
    return imag == 0 or abs(imag) <= ctx.ldexp(abs(value), -(ctx.prec // 2))


def _functions_equal(a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol], deadline: float | None) -> bool:
    """a and b agree at the points (see the module doc on real domains)."""
    compared = reference_real = 0
    for point in _points(a, b, symbols):
        verdict, real_a, real_b = _compare_at(a, b, point, deadline)
        if verdict == "undefined":
            continue
        reference_real += real_b
        if real_a != real_b:
            continue  # outside one side's real domain
        if verdict == "equal":
            compared += 1
        elif real_a:
            return False
    return compared >= max(3, (reference_real + 1) // 2)


_DYADIC_BITS = 10


@functools.lru_cache(maxsize=64)
def _fixed_points(n_symbols: int) -> tuple[tuple[str, ...], ...]:
    """Decimal strings of positive, irrational-looking values: point k, symbol j."""
    primes = list(sympy.primerange(2, 200))[: _FIXED_POINTS * max(n_symbols, 1)]
    values = []
    for k in range(_FIXED_POINTS):
        row = []
        for j in range(n_symbols):
            frac = sympy.sqrt(primes[k * n_symbols + j]).evalf(45) % 1
            row.append(str(sympy.Rational(1, 2) + 2 * frac))
        values.append(tuple(row))
    return tuple(values)


def _seed(a: sympy.Expr, b: sympy.Expr) -> int:
    """A number fixed by both expressions (the same in every process, unlike ``hash``)."""
    digest = hashlib.blake2b(repr((_shape(a), _shape(b))).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


def _shape(e: sympy.Basic) -> tuple[Any, ...]:
    if e.is_Rational:
        return (int(e.p), int(e.q))
    if e.is_Symbol:
        return (e.name,)
    if e.is_Float:
        return (str(e),)
    return (type(e).__name__, *(_shape(arg) for arg in e.args))


def _points(a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol]) -> Iterator[dict[sympy.Symbol, Any]]:
    """The fixed positive points, then points drawn from a hash of both expressions: positive
    ones and ones with negative coordinates in several sign patterns, all non-integers (odd
    multiples of 2^-10, exact in binary)."""
    for row in _fixed_points(len(symbols)):
        yield dict(zip(symbols, row))
    rng = random.Random(_seed(a, b))
    for k in range(_SEEDED_POSITIVE + _SEEDED_MIXED):
        point = {}
        for j, s in enumerate(symbols):
            size = 2 * rng.randrange(128, 3500) + 1  # (0.25 .. 6.8) * 2^10, odd
            negative = k >= _SEEDED_POSITIVE and bool(((k - _SEEDED_POSITIVE + 1) >> (j % 3)) & 1) != (j >= 3 and rng.random() < 0.5)
            point[s] = -size if negative else size
        yield point


# -- exact identity of rational functions -----------------------------------------------------

class _NotRational(Exception):
    pass


class _Unlucky(Exception):
    """The random point hit a pole or a denominator divisible by the prime: draw again."""


@functools.lru_cache(maxsize=1)
def _primes() -> tuple[int, ...]:
    """96 primes near 2^100. Their product has thousands of digits, more than an answer may
    hold, so no answer can be built to vanish modulo whichever two are drawn."""
    rng = random.Random(20240615)
    return tuple(sympy.nextprime(rng.getrandbits(100) | (1 << 99)) for _ in range(96))


def _rational_identity(a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol]) -> bool | None:
    """For rational functions with rational coefficients: whether a and b are the same
    function, by evaluating both modulo two primes at two points (Schwartz-Zippel: a nonzero
    difference of degree d vanishes at a random point with probability at most d/p, p > 2^99).
    None when either side is not such a function."""
    if not (_is_rational_function(a) and _is_rational_function(b)):
        return None
    rng = random.Random(_seed(a, b))
    primes = _primes()
    done = 0
    for _ in range(8):
        p = primes[rng.randrange(len(primes))]
        point = {s: rng.randrange(2, p - 1) for s in symbols}
        try:
            if _mod_value(a, point, p) != _mod_value(b, point, p):
                return False
        except _Unlucky:
            continue
        done += 1
        if done == 2:
            return True
    return None  # too many poles: let the numeric comparison decide


def _is_rational_function(e: sympy.Expr) -> bool:
    stack = [e]
    while stack:
        node = stack.pop()
        if node.is_Rational or node.is_Symbol:
            continue
        if node.is_Add or node.is_Mul:
            stack.extend(node.args)
        elif node.is_Pow and node.args[1].is_Integer:
            stack.append(node.args[0])
        else:
            return False
    return True


def _mod_value(e: sympy.Expr, point: dict[sympy.Symbol, int], p: int) -> int:
    if e.is_Integer:
        return int(e.p) % p
    if e.is_Rational:
        if e.q % p == 0:
            raise _Unlucky
        return int(e.p) * pow(int(e.q), -1, p) % p
    if e.is_Symbol:
        return point[e]
    if e.is_Add:
        return sum(_mod_value(t, point, p) for t in e.args) % p
    if e.is_Mul:
        product = 1
        for t in e.args:
            product = product * _mod_value(t, point, p) % p
        return product
    base, n = _mod_value(e.args[0], point, p), int(e.args[1])
    if n < 0:
        if base == 0:
            raise _Unlucky
        base, n = pow(base, -1, p), -n
    return pow(base, n, p)


# -- decimal references -----------------------------------------------------------------------

def _inexact_equal(a: sympy.Expr, b: sympy.Expr, symbols: list[sympy.Symbol], deadline: float | None) -> bool:
    """b holds a decimal: relative tolerance, but an exact irrational constant is no decimal."""
    if not symbols and not a.has(sympy.Float) and not (a.is_Rational or a.is_infinite):
        return False  # a rounded decimal is not an exact irrational
    ctx = mathnum.context()
    compared = 0
    for point in _points(a, b, symbols) if symbols else [{}]:
        values = {s: _point_value(ctx, v) for s, v in point.items()}
        try:
            va = mathnum.evaluate(a, values, deadline=deadline)
            vb = mathnum.evaluate(b, values, deadline=deadline)
        except mathnum.NumericError:
            if deadline is not None and time.monotonic() > deadline:
                return False
            continue
        if not (ctx.isfinite(va) and ctx.isfinite(vb)):
            if va != vb:
                return False
            continue
        diff = abs(va - vb)
        if not (diff <= INEXACT_TOLERANCE * max(abs(va), abs(vb)) or diff <= 1e-12):
            return False
        compared += 1
    return compared > 0


# -- equations, lists, intervals ---------------------------------------------------------------

def _equations_equal(a: Value, b: Value, deadline: float | None) -> bool:
    if isinstance(a, Equation) and isinstance(b, Equation):
        if isinstance(a.lhs, sympy.Symbol) and isinstance(b.lhs, sympy.Symbol):
            return a.lhs == b.lhs and values_equal(a.rhs, b.rhs, deadline=deadline)
        if all(isinstance(v, sympy.Expr) for v in (a.lhs, a.rhs, b.lhs, b.rhs)):
            return _proportional(exact(a.lhs - a.rhs), b.lhs - b.rhs, deadline)
        return False
    if isinstance(a, Equation):
        return isinstance(a.lhs, sympy.Symbol) and values_equal(a.rhs, b, deadline=deadline)
    return isinstance(b.lhs, sympy.Symbol) and values_equal(a, b.rhs, deadline=deadline)


def _proportional(a: sympy.Expr, b: sympy.Expr, deadline: float | None) -> bool:
    """``a = 0`` and ``b = 0`` are the same equation: a is a nonzero constant times b."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > MAX_VARIABLES:
        return False
    if _is_rational_function(a) and _is_rational_function(b) and not b.has(sympy.Float):
        # a(u) b(v) = a(v) b(u) at random u, v (and a, b not zero) iff a = c b
        rng = random.Random(_seed(a, b))
        primes = _primes()
        for _ in range(8):
            p = primes[rng.randrange(len(primes))]
            u = {s: rng.randrange(2, p - 1) for s in symbols}
            v = {s: rng.randrange(2, p - 1) for s in symbols}
            try:
                au, av, bu, bv = (_mod_value(e, w, p) for e in (a, b) for w in (u, v))
            except _Unlucky:
                continue
            return au * bv % p == av * bu % p and (au, av) != (0, 0) and (bu, bv) != (0, 0)
        return False
    ctx = mathnum.context()
    ratios = []
    for point in _points(a, b, symbols):
        values = {s: _point_value(ctx, v) for s, v in point.items()}
        try:
            va, vb = mathnum.evaluate(a, values, deadline=deadline), mathnum.evaluate(b, values, deadline=deadline)
        except mathnum.NumericError:
            return False
        if vb == 0 or va == 0:
            if va != vb:
                return False
            continue
        ratios.append(va / vb)
    tolerance = INEXACT_TOLERANCE if b.has(sympy.Float) else 1e-20
    return bool(ratios) and all(abs(r - ratios[0]) <= tolerance * abs(ratios[0]) for r in ratios)


def _ordered_equal(xs: tuple[Value, ...], ys: tuple[Value, ...], deadline: float | None) -> bool:
    return len(xs) == len(ys) and all(values_equal(x, y, deadline=deadline) for x, y in zip(xs, ys))


def _unordered_equal(xs: tuple[Any, ...], ys: tuple[Any, ...], deadline: float | None) -> bool:
    """Same elements, ignoring order and repeats: every answer item x is some reference item y
    and every y is some x (answer first in each comparison)."""
    names = {v.lhs for v in xs + ys if isinstance(v, Equation)}
    if len(names) == 1 and isinstance(next(iter(names)), sympy.Symbol):  # x = 1 or x = 2
        xs, ys = tuple(_unwrap(x) for x in xs), tuple(_unwrap(y) for y in ys)
    matches: dict[tuple[int, int], bool] = {}

    def same(i: int, j: int) -> bool:
        if (i, j) not in matches:
            matches[i, j] = values_equal(xs[i], ys[j], deadline=deadline)
        return matches[i, j]

    return (all(any(same(i, j) for j in range(len(ys))) for i in range(len(xs)))
            and all(any(same(i, j) for i in range(len(xs))) for j in range(len(ys))))


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


# -- reading -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str, percent_as_fraction: bool) -> Value:
    return parse_answer(text, percent_as_fraction=percent_as_fraction)


def _readings(text: str, percent: bool) -> list[Value]:
    """The parses of ``text``: ``50%`` is ``1/2``; with ``percent`` also ``50``."""
    readings = [_parse_cached(text, True)]
    if percent and "%" in text:
        readings.append(_parse_cached(text, False))
    return readings


def _plain_equal(answer: str, reference: str) -> bool | None:
    """Fast path for two plain numbers (``-12``, ``0.5``, ``3/4``); None for anything else."""
    a, b = _plain_number(answer), _plain_number(reference)
    if a is None or b is None:
        return None
    (va, _), (vb, exact_b) = a, b
    if exact_b:
        return va == vb  # a decimal answer stands for the rational it writes
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
