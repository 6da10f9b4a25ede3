"""A whitelisted parser for math answers in plain text and a LaTeX subset; builds sympy objects.

Nothing here evaluates text as code: the tokenizer of :mod:`thinkgym.rewards.mathlex` and a
recursive-descent parser read numbers, variables, ``+ - * / ^`` (and ``**``), ``!`` and ``%``,
parentheses, ``|x|``, known functions
(``sin``, ``\\sin``, ``\\arcsin``, ``sin^{-1}``, ``ln``, ``\\log_{2}``, ``exp``, ``sqrt``,
``\\sqrt[3]{}``, ``\\frac``, ``\\binom``, ...), constants (``pi``, ``e``, ``i``, ``oo``,
``\\infty``), implicit multiplication (``2x``, ``(x+1)(x-1)``), equations (``x = 5``),
inequalities on one variable (``x > 3``), tuples ``(1, 2)``, intervals ``[0, 1)`` and their
unions ``\\cup``, sets ``\\{1, 2\\}``, ``\\pm``, and lists separated by commas, ``or`` or
``and``; words such as units are dropped. Each piece is built with sympy constructors.

Work is bounded before sympy sees it: at most :data:`MAX_CHARS` characters,
:data:`MAX_TOKENS` tokens, :data:`MAX_DEPTH` nested groups, :data:`MAX_DIGITS` digits per
number, numeric exponents up to :data:`MAX_EXPONENT` with results up to ``2**65536``, and
factorials and binomials of at most :data:`MAX_FACTORIAL`. Anything else raises
:class:`ParseError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import sympy

from thinkgym.rewards import mathnum
from thinkgym.rewards.mathlex import FUNCS, INVERSE, MAX_TOKENS, SEPARATORS, ParseError, Token, tokenize  # noqa: F401
from thinkgym.rewards.mathtext import clean

MAX_CHARS = 2000
MAX_DEPTH = 40
MAX_DIGITS = 400
MAX_EXPONENT = 1000
MAX_FACTORIAL = 1000
MAX_ITEMS = 64
MAX_SYMBOLS = 8


@dataclass(frozen=True)
class Tup:
    """An ordered tuple ``(a, b, ...)`` (or a bracketed list of three or more items)."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class SetOf:
    """Unordered values: ``\\{1, 2\\}`` (``braced``) or a bare list ``1, 2`` / ``x=1 or x=2``."""

    items: tuple[Value, ...]
    braced: bool = False


@dataclass(frozen=True)
class Interval:
    lo: sympy.Expr
    hi: sympy.Expr
    left_closed: bool
    right_closed: bool


@dataclass(frozen=True)
class IntervalUnion:
    parts: tuple[Interval, ...]


@dataclass(frozen=True)
class Equation:
    lhs: Value
    rhs: Value


@dataclass(frozen=True)
class _Alt:
    """The values of an expression with ``\\pm`` in it, e.g. ``1 \\pm 2`` -> (3, -1)."""

    items: tuple[Any, ...]


Value = Union[sympy.Expr, Tup, SetOf, Interval, IntervalUnion, Equation]

_RELOPS = frozenset({"=", "<", ">", "<=", ">=", "!=", "=<", "=>"})
_STARTERS = frozenset({"num", "sym", "const", "func"})


def parse_answer(text: str, *, evaluate: bool = True, percent_as_fraction: bool = True) -> Value:
    """Parse a whole answer (expression, equation, tuple, set, interval, list); see module doc.

    ``evaluate=False`` keeps the written structure (``2^3*5`` stays a product of powers);
    ``percent_as_fraction`` reads ``50%`` as ``1/2`` (else as ``50``). Raises :class:`ParseError`.
    """
    if not isinstance(text, str) or len(text) > MAX_CHARS:
        raise ParseError(f"the answer must be a string of at most {MAX_CHARS} characters")
    try:
        return _Parser(tokenize(clean(text)), evaluate, percent_as_fraction).parse()
    except ParseError:
        raise
    except (ValueError, TypeError, ArithmeticError, RecursionError) as err:  # sympy rejecting a construct
        raise ParseError(f"cannot build the expression: {type(err).__name__}") from None


def parse_expression(text: str, *, evaluate: bool = True) -> sympy.Expr:
    """Parse a single expression; ``y = <expr>`` with a variable on the left also reads as ``<expr>``."""
    value = parse_answer(text, evaluate=evaluate)
    if isinstance(value, Equation) and isinstance(value.lhs, sympy.Symbol):
        value = value.rhs
    if isinstance(value, SetOf) and len(value.items) == 1:
        value = value.items[0]
    if not isinstance(value, sympy.Expr):
        raise ParseError(f"expected a single expression, got a {type(value).__name__.lower()}")
    return value


class _Parser:
    def __init__(self, tokens: list[Token], evaluate: bool, percent_as_fraction: bool) -> None:
        self.tokens = tokens + [("end", "")]
        self.pos = 0
        self.depth = 0
        self.evaluate = evaluate
        self.percent_as_fraction = percent_as_fraction
        self.symbols: dict[str, sympy.Symbol] = {}

    # -- token helpers --------------------------------------------------------------------
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.pos += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token[0] == kind and (text is None or token[1] == text):
            self.pos += 1
            return True
        return False

    def expect_op(self, text: str) -> None:
        if not self.accept("op", text):
            raise ParseError(f"expected {text!r}, found {self.peek()[1]!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(f"nested more than {MAX_DEPTH} levels deep")

    # -- grammar --------------------------------------------------------------------------
    def parse(self) -> Value:
        items = self.items()
        if self.peek()[0] != "end":
            raise ParseError(f"unexpected {self.peek()[1]!r}")
        return _finish(items[0] if len(items) == 1 else SetOf(tuple(items)))

    def items(self, words: bool = True) -> list[Any]:
        """Items separated by commas or semicolons, and with ``words`` also by ``or``/``and``
        (inside brackets and braces only punctuation separates: ``(7 or 8)`` is no pair)."""
        items = [self.item()]
        while self.peek()[1] in SEPARATORS and self.peek()[0] in ("op", "sep"):
            if self.peek()[0] == "sep" and not words:
                raise ParseError(f"{self.peek()[1]!r} inside brackets")
            self.take()
            items.append(self.item())
            if len(items) > MAX_ITEMS:
                raise ParseError(f"more than {MAX_ITEMS} items")
        return items

    def item(self) -> Any:
        """A relation whose sides may be unions: ``x \\in (-\\infty, 0) \\cup (1, \\infty)``."""
        sides, ops = [self.union()], []
        while self.peek()[0] == "op" and self.peek()[1] in _RELOPS:
            ops.append(self.take()[1])
            sides.append(self.union())
        if not ops:
            return sides[0]
        if ops == ["="]:
            return Equation(*sides)
        return _inequality(sides, ops)

    def union(self) -> Any:
        parts = [self.expr()]
        while self.accept("op", "cup"):
            parts.append(self.expr())
        if len(parts) == 1:
            return parts[0]
        return IntervalUnion(tuple(_as_interval(p) for p in parts))

    def expr(self) -> Any:
        value = self.term()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-", "pm"):
            op = self.take()[1]
            right = self.term()
            if op == "pm":
                value = _Alt((self.add(value, right), self.add(value, self.neg(right))))
            else:
                value = self.add(value, right if op == "+" else self.neg(right))
        return value

    def term(self) -> Any:
        value = self.unary()
        while True:
            kind, text = self.peek()
            if kind == "op" and text in ("*", "/"):
                self.take()
                right = self.unary()
                value = self.mul(value, right) if text == "*" else self.div(value, right)
            elif kind in _STARTERS or (kind == "op" and text in ("(", "{")):
                value = self.mul(value, self.power())  # implicit multiplication: 2x, 2(x+1)
            else:
                return value

    def unary(self) -> Any:
        if self.accept("op", "-"):
            return self.neg(self.unary())
        if self.accept("op", "+"):
            return self.unary()
        if self.accept("op", "pm"):
            value = self.unary()
            return _Alt((value, self.neg(value)))
        return self.power()

    def power(self) -> Any:
        base = self.postfix()
        if self.accept("op", "^"):
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            return self.pow(base, exponent)
        return base

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() in (("op", "!"), ("op", "%")):
            if self.take()[1] == "!":
                value = _apply(lambda v: self.factorial(v), value)
            elif self.percent_as_fraction:
                value = self.div(value, sympy.Integer(100))
        return value

    def primary(self) -> Any:
        self.enter()
        try:
            kind, text = self.take()
            if kind == "num":
                return _number(text)
            if kind == "sym":
                return self.symbol(text)
            if kind == "const":
                return _constant(text)
            if kind == "func":
                return self.function(text)
            if kind == "op" and text in ("(", "["):
                return self.bracketed(text)
            if kind == "op" and text == "{":
                items = self.items()
                self.expect_op("}")
                return items[0] if len(items) == 1 else SetOf(tuple(items), braced=True)
            if kind == "op" and text == "\\{":
                items = [] if self.peek() == ("op", "\\}") else self.items(words=False)
                self.expect_op("\\}")
                return SetOf(tuple(items), braced=True)
            if kind == "op" and text == "|":
                value = self.expr()
                self.expect_op("|")
                return _apply(lambda v: sympy.Abs(v, evaluate=self.evaluate), value)
            raise ParseError(f"unexpected {text!r}" if text else "the answer ends too early")
        finally:
            self.depth -= 1

    def bracketed(self, opener: str) -> Any:
        items = self.items(words=False)
        closer = self.take()
        if closer not in (("op", ")"), ("op", "]")):
            raise ParseError(f"expected ')' or ']', found {closer[1]!r}")
        same = (opener == "(") == (closer[1] == ")")
        if len(items) == 1 and same:
            return items[0]
        if len(items) == 2 and not (opener == "(" and same):
            lo, hi = (_expr(v) for v in items)
            return Interval(lo, hi, opener == "[", closer[1] == "]")
        if same:
            return Tup(tuple(items))
        raise ParseError("mismatched brackets")

    def symbol(self, name: str) -> sympy.Symbol:
        if self.accept("op", "_"):
            if self.accept("op", "{"):
                parts = []
                while self.peek()[0] in ("num", "sym"):
                    parts.append(self.take()[1])
                self.expect_op("}")
            else:
                parts = [self.take()[1]] if self.peek()[0] in ("num", "sym") else []
            if not parts:
                raise ParseError("empty subscript")
            name = f"{name}_{''.join(parts)}"
        if name not in self.symbols:
            if len(self.symbols) >= MAX_SYMBOLS:
                raise ParseError(f"more than {MAX_SYMBOLS} variables")
            self.symbols[name] = sympy.Symbol(name)
        return self.symbols[name]

    def group(self) -> Any:
        """A LaTeX argument: ``{...}`` or a single token."""
        if self.accept("op", "{"):
            value = self.expr()
            self.expect_op("}")
            return value
        return self.primary()

    def function(self, name: str) -> Any:
        if name == "frac":
            return self.div(self.group(), self.group())
        if name == "binom" and self.peek() != ("op", "("):
            return self.binomial(self.group(), self.group())
        if name == "sqrt" and self.accept("op", "["):
            index = self.expr()
            self.expect_op("]")
            return self.pow(self.group(), self.div(sympy.Integer(1), index))
        exponent, base = None, None
        for _ in range(2):
            if self.accept("op", "^"):
                exponent = self.group() if self.peek() == ("op", "{") else self.unary()
            elif self.accept("op", "_"):
                base = self.group()
        if self.accept("op", "("):
            args = self.items()
            self.expect_op(")")
        elif self.peek() == ("op", "{"):
            args = [self.group()]
        else:  # \sin 2x: the argument is a product of powers, up to the next operator or function
            arg = self.power()
            while self.peek()[0] in ("num", "sym", "const"):
                arg = self.mul(arg, self.power())
            args = [arg]
        if name == "binom":
            if len(args) != 2:
                raise ParseError("binom takes two arguments")
            return self.binomial(*args)
        if name in INVERSE and exponent is not None and exponent == -1:
            name, exponent = INVERSE[name], None
        if name == "log" and len(args) == 2:
            args, base = args[:1], args[1]
        if len(args) != 1:
            raise ParseError(f"{name} takes one argument")
        value = self.call(name, _expr(args[0]))
        if base is not None:
            value = self.div(value, self.call("log", _expr(base)))
        return value if exponent is None else self.pow(value, exponent)

    # -- building sympy objects, with the work limits ------------------------------------
    def call(self, name: str, arg: sympy.Expr) -> sympy.Expr:
        if name == "sqrt":
            return self.pow(arg, sympy.Rational(1, 2))
        return FUNCS[name](arg, evaluate=self.evaluate)

    def add(self, a: Any, b: Any) -> Any:
        return _apply2(lambda x, y: sympy.Add(x, y, evaluate=self.evaluate), a, b)

    def neg(self, a: Any) -> Any:
        return _apply(lambda x: sympy.Mul(sympy.S.NegativeOne, x, evaluate=self.evaluate), a)

    def mul(self, a: Any, b: Any) -> Any:
        return _apply2(lambda x, y: sympy.Mul(x, y, evaluate=self.evaluate), a, b)

    def div(self, a: Any, b: Any) -> Any:
        def divide(x: sympy.Expr, y: sympy.Expr) -> sympy.Expr:
            if y.is_zero:
                raise ParseError("division by zero")
            return sympy.Mul(x, self.pow(y, sympy.S.NegativeOne), evaluate=self.evaluate)

        return _apply2(divide, a, b)

    def pow(self, a: Any, b: Any) -> Any:
        def power(base: sympy.Expr, exp: sympy.Expr) -> sympy.Expr:
            if not exp.free_symbols:
                e = _approx(exp)
                if abs(e) > MAX_EXPONENT:
                    raise ParseError(f"exponent larger than {MAX_EXPONENT}")
                if not base.free_symbols:
                    b = _approx(base)
                    if b == 0:
                        if mathnum.context().re(e) <= 0:
                            raise ParseError("zero to a non-positive power")
                    elif abs(e) * abs(mathnum.magnitude(mathnum.context(), b)) > mathnum.MAX_BITS:
                        raise ParseError("power too large")
            # sympy looks for square factors of big integers under a root (trial division):
            # keep such roots unevaluated, their value is the same
            big_root = base.is_Rational and exp.is_Rational and not exp.is_Integer and max(
                abs(base.p).bit_length(), base.q.bit_length()) > 128
            return sympy.Pow(base, exp, evaluate=self.evaluate and not big_root)

        return _apply2(power, a, b)

    def factorial(self, a: sympy.Expr) -> sympy.Expr:
        a = _expr(a)
        if not a.free_symbols:
            ctx = mathnum.context()
            n = _approx(a)
            if ctx.im(n) != 0 or not 0 <= ctx.re(n) <= MAX_FACTORIAL or ctx.re(n) != int(ctx.re(n)):
                raise ParseError(f"factorial needs an integer in 0..{MAX_FACTORIAL}")
        return sympy.factorial(a, evaluate=self.evaluate)

    def binomial(self, n: Any, k: Any) -> sympy.Expr:
        n, k = _expr(n), _expr(k)
        for v in (n, k):
            if not v.free_symbols and not abs(_approx(v)) <= MAX_FACTORIAL:
                raise ParseError(f"binomial arguments must be at most {MAX_FACTORIAL}")
        return sympy.binomial(n, k, evaluate=self.evaluate)


def _number(text: str) -> sympy.Expr:
    if len(text) > MAX_DIGITS:
        raise ParseError(f"a number longer than {MAX_DIGITS} digits")
    if text.isdigit():
        return sympy.Integer(int(text))
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise ParseError(f"exponent larger than {MAX_EXPONENT}")
    return sympy.Float(text, max(15, len(mantissa)))


def _constant(name: str) -> Any:
    if name == "empty":
        return SetOf((), braced=True)
    return {"pi": sympy.pi, "e": sympy.E, "i": sympy.I, "oo": sympy.oo}[name]


def _approx(expr: sympy.Expr) -> Any:
    try:
        return mathnum.evaluate(expr)
    except mathnum.NumericError as err:
        raise ParseError(f"cannot evaluate {str(err)[:60]}") from None


def _expr(value: Any) -> sympy.Expr:
    if not isinstance(value, sympy.Expr):
        raise ParseError(f"expected an expression, got a {type(value).__name__.lower()}")
    return value


def _apply(f: Callable[[sympy.Expr], Any], a: Any) -> Any:
    if isinstance(a, _Alt):
        return _Alt(tuple(_apply(f, x) for x in a.items))
    return f(_expr(a))


def _apply2(f: Callable[[sympy.Expr, sympy.Expr], Any], a: Any, b: Any) -> Any:
    if isinstance(a, _Alt):
        return _Alt(tuple(_apply2(f, x, b) for x in a.items))
    if isinstance(b, _Alt):
        return _Alt(tuple(_apply2(f, a, y) for y in b.items))
    return f(_expr(a), _expr(b))


def _as_interval(value: Any) -> Interval:
    if isinstance(value, Interval):
        return value
    if isinstance(value, Tup) and len(value.items) == 2:
        return Interval(_expr(value.items[0]), _expr(value.items[1]), False, False)
    raise ParseError("\\cup joins intervals only")


def _inequality(sides: list[Any], ops: list[str]) -> Interval:
    """``x > 3``, ``3 <= x``, ``1 < x <= 2`` as an interval of the one variable."""
    if "=" in ops or "!=" in ops or len(ops) > 2:
        raise ParseError("unsupported chain of relations")
    ops = [{"=<": "<=", "=>": ">="}.get(op, op) for op in ops]
    if len(ops) == 2:
        if ops[0][0] != ops[1][0] or not isinstance(sides[1], sympy.Symbol):
            raise ParseError("a double inequality needs the variable in the middle")
        lo, hi = sides[0], sides[2]
        lo_op, hi_op = ops
        if ops[0][0] == ">":
            lo, hi, lo_op, hi_op = hi, lo, ops[1], ops[0]
        return Interval(_expr(lo), _expr(hi), lo_op.endswith("="), hi_op.endswith("="))
    left, right = sides
    op = ops[0]
    if isinstance(right, sympy.Symbol) and not isinstance(left, sympy.Symbol):
        left, right, op = right, left, {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
    if not isinstance(left, sympy.Symbol) or _expr(right).free_symbols:
        raise ParseError("an inequality must compare one variable with a constant")
    if op.startswith("<"):
        return Interval(sympy.S.NegativeInfinity, right, False, op == "<=")
    return Interval(right, sympy.oo, op == ">=", False)


def _finish(value: Any) -> Value:
    """Replace the internal ``\\pm`` alternatives by lists, recursively."""
    if isinstance(value, _Alt):
        return SetOf(tuple(_finish(v) for v in value.items))
    if isinstance(value, Tup):
        return Tup(tuple(_finish(v) for v in value.items))
    if isinstance(value, SetOf):
        return SetOf(tuple(_finish(v) for v in value.items), value.braced)
    if isinstance(value, Equation):
        rhs = _finish(value.rhs)
        if isinstance(rhs, SetOf) and not rhs.braced:  # x = 1 \pm 2 -> x = 3 or x = -1
            return SetOf(tuple(Equation(value.lhs, v) for v in rhs.items))
        return Equation(_finish(value.lhs), rhs)
    return value
