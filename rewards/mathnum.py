"""Bounded numeric evaluation of sympy expressions with mpmath.

:func:`evaluate` walks a sympy tree itself (no ``lambdify``, which generates and executes
code) and computes its value at given points for its symbols with a private mpmath context per
thread, so concurrent checks do not share precision settings. Every operation is bounded
before it runs: powers, exponentials and factorials whose result would exceed
:data:`MAX_BITS` bits of magnitude, and trigonometric arguments above ``1e100``, raise
:class:`NumericError`, and a deadline is checked at every node.

An evaluation can also report how many bits of precision its value needs to be trusted
(:class:`Need`): the size of its rational numbers, how far a sum cancels or how small a
negligible term of it is, and arguments where a function hides its input (``cos`` or ``exp`` of
a tiny number, ``atan`` of a huge one). Exact equality (:mod:`thinkgym.rewards.equivalence`)
raises the working precision (:func:`precision`) until it covers that need.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import mpmath
import sympy

MAX_BITS = 1 << 16
"""Largest binary exponent of any intermediate value (about 20,000 decimal digits)."""
DIGITS = 50
"""Working precision in decimal digits."""


class NumericError(ArithmeticError):
    """The expression has no finite value at the point, is too large, or ran out of time."""


class Need:
    """Bits of working precision an evaluation needs (see the module docstring); ``bits`` only grows."""

    __slots__ = ("bits",)

    def __init__(self) -> None:
        self.bits = 0

    def at_least(self, bits: float) -> None:
        if bits > self.bits:
            self.bits = int(min(bits, 4 * MAX_BITS))


_local = threading.local()


def context() -> Any:
    """This thread's mpmath context (created on first use, ``DIGITS`` digits)."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = mpmath.MPContext()
        ctx.dps = DIGITS
    return ctx


@contextlib.contextmanager
def precision(bits: int) -> Iterator[Any]:
    """This thread's context with ``bits`` of working precision inside the block."""
    ctx = context()
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield ctx
    finally:
        ctx.prec = saved


def _unary(name: str) -> Any:
    return lambda ctx, x: getattr(ctx, name)(x)


_FUNCS: dict[type, Any] = {
    sympy.sin: _unary("sin"), sympy.cos: _unary("cos"), sympy.tan: _unary("tan"),
    sympy.cot: _unary("cot"), sympy.sec: _unary("sec"), sympy.csc: _unary("csc"),
    sympy.asin: _unary("asin"), sympy.acos: _unary("acos"), sympy.atan: _unary("atan"),
    sympy.acot: _unary("acot"), sympy.asec: _unary("asec"), sympy.acsc: _unary("acsc"),
    sympy.sinh: _unary("sinh"), sympy.cosh: _unary("cosh"), sympy.tanh: _unary("tanh"),
    sympy.asinh: _unary("asinh"), sympy.acosh: _unary("acosh"), sympy.atanh: _unary("atanh"),
    sympy.coth: _unary("coth"), sympy.Abs: lambda ctx, x: ctx.mpf(abs(x)),
    sympy.sign: lambda ctx, x: ctx.sign(x),
}
# Functions whose value hides a tiny argument (1 + t or 1 - t^2/2) or a huge one (pi/2 - 1/t).
_FLAT_AT_ZERO = {sympy.exp, sympy.cos, sympy.cosh, sympy.sec}
_FLAT_AT_INFINITY = {sympy.atan, sympy.acot, sympy.tanh, sympy.coth}
_TRIG = {sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc}


def evaluate(expr: sympy.Basic, values: Mapping[sympy.Symbol, Any] | None = None, *, deadline: float | None = None,
             need: Need | None = None) -> Any:
    """The value of ``expr`` (an mpmath number) with its symbols set to ``values``.

    With ``need``, also record the precision the value needs (see :class:`Need`). Raises
    :class:`NumericError` when the value is undefined, too large, the expression uses an
    unsupported construct, or ``deadline`` (a ``time.monotonic()`` instant) has passed.
    """
    ctx = context()
    try:
        return _eval(ctx, expr, values or {}, deadline, need)
    except NumericError:
        raise
    except (ZeroDivisionError, ValueError, OverflowError, TypeError, RecursionError) as err:
        raise NumericError(f"{type(err).__name__}: {err}") from None


def magnitude(ctx: Any, value: Any) -> float:
    """An estimate of log2 |value| (``-inf`` for zero)."""
    if value == 0:
        return float("-inf")
    return float(ctx.mag(value))


def _eval(ctx: Any, e: sympy.Basic, values: Mapping[sympy.Symbol, Any], deadline: float | None, need: Need | None) -> Any:
    if deadline is not None and time.monotonic() > deadline:
        raise NumericError("time limit reached")
    if e.is_Integer:
        if abs(e.p).bit_length() > MAX_BITS:
            raise NumericError("integer too large")
        return ctx.mpf(int(e.p))
    if e.is_Rational:
        if need is not None:  # p/q can approximate an irrational to about 2^-2n with n-bit p, q
            need.at_least(max(abs(e.p).bit_length(), e.q.bit_length()))
        return ctx.mpf(int(e.p)) / int(e.q)
    if e.is_Float:
        return ctx.mpf(e._mpf_)
    if e.is_Symbol:
        if e not in values:
            raise NumericError(f"no value for symbol {e}")
        return values[e]
    if e is sympy.pi:
        return +ctx.pi
    if e is sympy.E:
        return +ctx.e
    if e is sympy.I:
        return ctx.mpc(0, 1)
    if e is sympy.oo:
        return ctx.inf
    if e is sympy.S.NegativeInfinity:
        return -ctx.inf
    if e.is_Add:
        terms = [_eval(ctx, arg, values, deadline, need) for arg in e.args]
        total = _checked(ctx, ctx.fsum(terms))
        if need is not None:
            _sum_need(ctx, terms, total, need)
        return total
    if e.is_Mul:
        product = ctx.mpf(1)
        for arg in e.args:
            product *= _eval(ctx, arg, values, deadline, need)
            _checked(ctx, product)
        return product
    if e.is_Pow:
        base, exp = (_eval(ctx, a, values, deadline, need) for a in e.args)
        if need is not None and exp != 0 and magnitude(ctx, exp) < -8:
            need.at_least(-2 * magnitude(ctx, exp))  # x^t = 1 + t log x
        return _power(ctx, base, exp)
    return _function(ctx, e, values, deadline, need)


def _sum_need(ctx: Any, terms: list[Any], total: Any, need: Need) -> None:
    """A sum needs the bits that separate its largest term from its smallest one (a negligible
    term must still show) and from the total (what cancels)."""
    mags = [magnitude(ctx, t) for t in terms if t != 0]
    if not mags:
        return
    top = max(mags)
    need.at_least(top - min(mags))
    if total == 0:
        need.at_least(ctx.prec + 64)  # everything cancelled at this precision: look closer
    else:
        need.at_least(top - magnitude(ctx, total))


def _function(ctx: Any, e: sympy.Basic, values: Mapping[sympy.Symbol, Any], deadline: float | None,
              need: Need | None) -> Any:
    func = type(e)
    args = [_eval(ctx, a, values, deadline, need) for a in e.args]
    if need is not None and args and args[0] != 0 and ctx.isfinite(args[0]):
        size = magnitude(ctx, args[0])
        if func in _FLAT_AT_ZERO and size < -8:
            need.at_least(-2 * size)
        elif func in _FLAT_AT_INFINITY and size > 3:
            need.at_least(3 * min(float(abs(args[0])), MAX_BITS) if func in (sympy.tanh, sympy.coth) else 2 * size)
    if func in _FUNCS:
        if func in _TRIG and abs(args[0]) > 1e100:
            raise NumericError("trigonometric argument too large")
        return _checked(ctx, _FUNCS[func](ctx, args[0]))
    if func is sympy.exp:
        if ctx.re(args[0]) > MAX_BITS / 2:
            raise NumericError("exponential too large")
        return ctx.exp(args[0])
    if func is sympy.log:
        if args[0] == 0:
            raise NumericError("log of zero")
        value = ctx.log(args[0])
        return value / ctx.log(args[1]) if len(args) == 2 else value
    if func in (sympy.factorial, sympy.gamma):
        x = args[0] + (1 if func is sympy.factorial else 0)
        if abs(x) > 5000:
            raise NumericError("factorial argument too large")
        return ctx.gamma(x)
    if func is sympy.binomial:
        if abs(args[0]) > 5000 or abs(args[1]) > 5000:
            raise NumericError("binomial argument too large")
        return ctx.binomial(args[0], args[1])
    if func in (sympy.floor, sympy.ceiling):
        if ctx.im(args[0]) != 0:
            raise NumericError("floor of a complex number")
        return (ctx.floor if func is sympy.floor else ctx.ceil)(args[0])
    raise NumericError(f"cannot evaluate {func.__name__}")


def _power(ctx: Any, base: Any, exp: Any) -> Any:
    if base == 0:
        if ctx.re(exp) > 0:
            return ctx.mpf(0)
        raise NumericError("zero to a non-positive power")
    if not ctx.isfinite(base) or not ctx.isfinite(exp):
        raise NumericError("power of an infinite value")
    if abs(exp) * max(abs(magnitude(ctx, base)), 1.0) > MAX_BITS:
        raise NumericError("power too large")
    return _checked(ctx, ctx.power(base, exp))


def _checked(ctx: Any, value: Any) -> Any:
    if ctx.isnan(value):
        raise NumericError("undefined value")
    if ctx.isfinite(value) and value != 0 and abs(magnitude(ctx, value)) > MAX_BITS:
        raise NumericError("value too large")
    return value
