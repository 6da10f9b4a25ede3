"""Bounded numeric evaluation of sympy expressions with mpmath.

:func:`evaluate` walks a sympy tree itself (no ``lambdify``, which generates and executes
code) and computes its value at given points for its symbols with a private mpmath context per
thread, so concurrent checks do not share precision settings. Every operation is bounded
before it runs: powers, exponentials and factorials whose result would exceed
:data:`MAX_BITS` bits of magnitude, and trigonometric arguments above ``1e100``, raise
:class:`NumericError`, and a deadline is checked at every node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import mpmath
import sympy

MAX_BITS = 1 << 16
"""Largest binary exponent of any intermediate value (about 20,000 decimal digits)."""
DIGITS = 50
"""Working precision in decimal digits."""


class NumericError(ArithmeticError):
    """The expression has no finite value at the point, is too large, or ran out of time."""


_local = threading.local()


def context() -> Any:
    """This thread's mpmath context (created on first use, ``DIGITS`` digits)."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = mpmath.MPContext()
        ctx.dps = DIGITS
    return ctx


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
}
_TRIG = {sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc}


def evaluate(expr: sympy.Basic, values: Mapping[sympy.Symbol, Any] | None = None, *, deadline: float | None = None) -> Any:
    """The value of ``expr`` (an mpmath number) with its symbols set to ``values``.

    Raises :class:`NumericError` when the value is undefined, too large, the expression uses an
    unsupported construct, or ``deadline`` (a ``time.monotonic()`` instant) has passed.
    """
    ctx = context()
    try:
        return _eval(ctx, expr, values or {}, deadline)
    except NumericError:
        raise
    except (ZeroDivisionError, ValueError, OverflowError, TypeError, RecursionError) as err:
        raise NumericError(f"{type(err).__name__}: {err}") from None


def magnitude(ctx: Any, value: Any) -> float:
    """An estimate of log2 |value| (``-inf`` for zero)."""
    if value == 0:
        return float("-inf")
    return float(ctx.mag(value))


def _eval(ctx: Any, e: sympy.Basic, values: Mapping[sympy.Symbol, Any], deadline: float | None) -> Any:
    if deadline is not None and time.monotonic() > deadline:
        raise NumericError("time limit reached")
    if e.is_Integer:
        if abs(e.p).bit_length() > MAX_BITS:
            raise NumericError("integer too large")
        return ctx.mpf(int(e.p))
    if e.is_Rational:
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
        total = ctx.mpf(0)
        for arg in e.args:
            total += _eval(ctx, arg, values, deadline)
        return _checked(ctx, total)
    if e.is_Mul:
        product = ctx.mpf(1)
        for arg in e.args:
            product *= _eval(ctx, arg, values, deadline)
            _checked(ctx, product)
        return product
    if e.is_Pow:
        base, exp = (_eval(ctx, a, values, deadline) for a in e.args)
        return _power(ctx, base, exp)
    return _function(ctx, e, values, deadline)


def _function(ctx: Any, e: sympy.Basic, values: Mapping[sympy.Symbol, Any], deadline: float | None) -> Any:
    func = type(e)
    args = [_eval(ctx, a, values, deadline) for a in e.args]
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
