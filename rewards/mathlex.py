"""The tokenizer of the math answer parser: a whitelist of numbers, names, LaTeX commands and
operators; anything else is rejected. Words that are not math (units after the answer, filler
such as ``the answer is``) are dropped. Words that change what the answer claims reject it
(:func:`refusal`): negations (``not``, ``wrong``), hedges (``about``, ``maybe``, any adverb in
``-ly`` but ``exactly``, ``precisely``), bounds (``at least``, ``or more``), alternatives and
conditions (``but``, ``unless``) and operations written in words (``plus``, ``over``). Before
the first math token only filler may stand (``The answer is``, ``so``), not an unknown word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sympy

from thinkgym.rewards.verdict import InvalidAnswer

MAX_TOKENS = 600


class ParseError(InvalidAnswer):
    """The text is not a math answer this grammar reads, or it exceeds a work limit."""


FUNCS: dict[str, Callable[..., Any]] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot, "sec": sympy.sec,
    "csc": sympy.csc, "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
    "arccot": sympy.acot, "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "exp": sympy.exp, "ln": sympy.log,
    "log": sympy.log, "sqrt": sympy.sqrt, "abs": sympy.Abs, "floor": sympy.floor, "ceil": sympy.ceiling,
}
INVERSE = {"sin": "arcsin", "cos": "arccos", "tan": "arctan", "cot": "arccot"}
_SPECIAL = {"frac": "frac", "dfrac": "frac", "tfrac": "frac", "cfrac": "frac", "sqrt": "sqrt",
            "binom": "binom", "dbinom": "binom", "tbinom": "binom"}
_CONSTS = {"pi": "pi", "e": "e", "E": "e", "i": "i", "I": "i", "oo": "oo", "inf": "oo",
           "infinity": "oo", "infty": "oo", "infin": "oo", "emptyset": "empty", "varnothing": "empty"}
_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta kappa lambda mu nu xi rho "
    "sigma tau phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega".split()
)
_CMD_OPS = {
    "cdot": "*", "times": "*", "ast": "*", "div": "/", "le": "<=", "leq": "<=", "leqslant": "<=",
    "ge": ">=", "geq": ">=", "geqslant": ">=", "lt": "<", "gt": ">", "ne": "!=", "neq": "!=",
    "in": "=", "cup": "cup", "pm": "pm", "mp": "pm", "{": "\\{", "}": "\\}", "lbrace": "\\{",
    "rbrace": "\\}", "|": "|", "lvert": "|", "rvert": "|", "vert": "|", "mid": "|",
}
SEPARATORS = frozenset({",", ";", "or", "and"})
REFUSALS = frozenset("""
not no none never neither nor cannot impossible undefined false nothing nowhere nobody without nope nah nay
wrong incorrect untrue mistake mistaken error erroneous invalid bogus fake
about approx approximate approximation around roughly nearly almost close circa ish estimate estimated
estimation order magnitude like something somewhere somewhat some any either whichever whatever
maybe perhaps possibly possible probably probable likely unlikely guess guessing think thought
believe suppose assume assuming seems seem seemingly might may could would should unsure uncertain
unknown unclear doubt
least most more less fewer greater smaller larger bigger higher lower above below under over exceed
exceeds exceeding beyond than between within range upto up bound bounded minimum maximum max
but however although though instead rather else otherwise except unless if when whenever depending
depends
plus minus times divided squared cubed half twice double triple percent percentage
""".split())
"""Words that change what an answer claims: they reject it (see the module docstring)."""
_HONEST_LY = frozenset({"only", "exactly", "precisely", "finally", "simply", "clearly"})
LEADING_FILLER = frozenset("""
the a an final answer answers solution solutions result results value values is are was be equals
equal so thus hence therefore then we get got have has obtain find found it its this that gives give
my our correct right exact only exactly just precisely root roots sum product total number amount
he she they there each child children person people has had spends spent gets pays paid needs need
needed travels traveled covers rides buys bought gives receives costs cost will new price change
speed average area age old now
""".split())
"""Words that may stand before the first math token of an answer (and a capitalised first word,
a name: ``Mia spends 24 dollars``)."""
_SHORT_WORDS = frozenset({"is", "be", "so", "we", "it", "of", "to", "as", "at", "by", "an", "if", "on", "in",
                          "cm", "mm", "km", "kg", "mg", "ml", "ft", "yd", "mi", "lb", "oz", "hr", "pm", "am"})
_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<cmd>\\(?:[a-zA-Z]+|[{}|]))"
    r"|(?P<name>[a-zA-Z]+)"
    r"|(?P<op>\*\*|<=|>=|!=|=<|=>|[-+*/^!%(),;=<>|\[\]{}_'])"
)
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])")

Token = tuple[str, str]


def tokenize(text: str) -> list[Token]:
    """Split cleaned text into (kind, text) tokens; words (units, filler) are dropped."""
    tokens: list[Token] = []
    pos, depth = 0, 0
    while pos < len(text):
        if depth == 0 and (thousands := _THOUSANDS.match(text, pos)):
            tokens.append(("num", thousands.group(0).replace(",", "")))
            pos = thousands.end()
            continue
        match = _TOKEN.match(text, pos)
        if not match:
            raise ParseError(f"unexpected character {text[pos]!r}")
        pos = match.end()
        kind = next(name for name, text in match.groupdict().items() if text is not None)
        value = match.group(0)
        if kind == "ws":
            continue
        if kind == "num":
            tokens.append(("num", value))
        elif kind == "name":
            tokens.extend(_name_tokens(value))
        elif kind == "cmd":
            tokens.append(_command_token(value[1:]))
        else:
            if value in ("(", "[", "{", "\\{"):
                depth += 1
            elif value in (")", "]", "}"):
                depth -= 1
            tokens.append(("op", "^" if value == "**" else value))
        if len(tokens) > MAX_TOKENS:
            raise ParseError(f"more than {MAX_TOKENS} tokens")
    return _drop_words(tokens)


def refusal(word: str) -> bool:
    """Whether ``word`` changes what an answer claims (negation, hedge, bound, alternative)."""
    low = word.lower()
    # adverbs of six letters or more (not names such as Emily)
    return low in REFUSALS or low.endswith("n't") or (low.endswith("ly") and len(low) >= 6 and low not in _HONEST_LY)


def _name_tokens(run: str) -> list[Token]:
    low = run.lower()
    if refusal(low):
        raise ParseError(f"the answer is negated, hedged or conditional ({run!r})")
    if run in _CONSTS or low in ("pi", "infinity", "inf", "oo"):
        return [("const", _CONSTS.get(run, _CONSTS.get(low, "")))]
    if low in SEPARATORS:
        return [("sep", low)]
    if low in _SPECIAL and _SPECIAL[low] != "frac":
        return [("func", _SPECIAL[low])]
    if low in FUNCS:
        return [("func", low)]
    if low in _GREEK:
        return [("sym", low)]
    if low in _SHORT_WORDS:
        return [("word", run)]
    if len(run) >= 3:
        for name in sorted(FUNCS, key=len, reverse=True):  # "sinx" -> sin x
            if low.startswith(name) and len(run) - len(name) <= 2:
                return [("func", name)] + _name_tokens(run[len(name):])
        return [("word", run)]
    return [("const", _CONSTS[c]) if c in ("e", "i", "E", "I") else ("sym", c) for c in run]


def _command_token(name: str) -> Token:
    if name in _CMD_OPS:
        return ("op", _CMD_OPS[name])
    if name in _SPECIAL:
        return ("func", _SPECIAL[name])
    if name in FUNCS or name in ("arcsin", "arccos", "arctan"):
        return ("func", name)
    if name in _CONSTS:
        return ("const", _CONSTS[name])
    if name in _GREEK:
        return ("sym", name)
    raise ParseError(f"unsupported command \\{name}")


def _is_name(tokens: list[Token], i: int) -> bool:
    """A capitalised first word followed by another word is a name (``Mia spends 24``); one
    right before the math (``Nope 7``, ``Nope, 7``) is not."""
    return i == 0 and tokens[0][1].istitle() and len(tokens) > 1 and tokens[1][0] == "word"


def _drop_words(tokens: list[Token]) -> list[Token]:
    """Remove words (units, filler) and an exponent written right after one (``cm^2``); an
    unknown word before the first math token rejects the answer (``supposedly 7``)."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        if (tokens[i][0] == "word" and not out and tokens[i][1].lower() not in LEADING_FILLER
                and tokens[i][1].lower() not in _SHORT_WORDS and not _is_name(tokens, i)):
            raise ParseError(f"cannot read {tokens[i][1]!r} before the answer")
        if tokens[i][0] != "word":
            out.append(tokens[i])
            i += 1
            continue
        i += 1
        if i + 1 < len(tokens) and tokens[i] == ("op", "^") and tokens[i + 1][0] == "num":
            i += 2
        elif i + 3 < len(tokens) and tokens[i] == ("op", "^") and tokens[i + 1] == ("op", "{") and tokens[i + 3] == ("op", "}"):
            i += 4
    if not out:
        raise ParseError("no math in the answer")
    return out
