"""Text clean-up that turns a math answer as people and models write it into the plain grammar
that :mod:`thinkgym.rewards.mathparse` reads.

Handled here, with regular expressions over bounded input and no evaluation of any kind:
math delimiters (``$...$``, ``\\(...\\)``, ``\\[...\\]``), ``\\boxed{}``, LaTeX spacing and sizing
commands, ``\\text{}``-like commands (their words stay, as units or separators), thousands
separators written ``1{,}000``, degrees (``30^\\circ``), currency signs, mixed numbers
(``2\\frac{1}{2}``), unicode math symbols, and a final answer stated in a short sentence
(``The answer is 7.`` keeps ``7``, ``x = 2 is the answer`` keeps ``x = 2``), and a function
name on the left (``f(x) = 2x``, ``f'(x) = 2``, ``\\frac{dy}{dx} = 3`` keep the right side).

Before anything is cut away, the whole text is checked for what would change its claim: a
word of :func:`thinkgym.rewards.mathlex.refusal` anywhere (``7 is not the answer``,
``\\boxed{7}, or more``), a question mark, ``\\approx`` or a ``~`` that is not LaTeX spacing
glued between two tokens (``5~\\text{cm}``), several ``\\boxed{}`` with different contents, or several sentences that each state a value
(``x is 5 and y is 3``); each raises :class:`ParseError` with the reason.
"""

from __future__ import annotations

import re

from thinkgym.rewards.extract import last_boxed
from thinkgym.rewards.mathlex import ParseError, refusal

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/",
    "\u03c0": " pi ", "\u221e": " oo ", "\u221a": " sqrt", "\u2264": "<=", "\u2265": ">=",
    "\u2260": "!=", "\u00b0": "", "\u00bd": "(1/2)", "\u00bc": "(1/4)", "\u00be": "(3/4)",
    "\u222a": " \\cup ", "\u2009": " ", "\u00a0": " ", "\u202f": " ",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

_DROP = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|biggl|biggr|displaystyle|textstyle|limits|nolimits)(?![a-zA-Z])"
    r"|\\[,;:! ]|\\quad|\\qquad|~|\\\$|\$|USD|EUR|\u20ac|\u00a3"
)
_TEXT_CMD = re.compile(
    r"\\(text|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|mathsf|operatorname|rm|bf)\s*\{([^{}]*)\}"
    r"(\s*\^\s*(?:\{\s*\d\s*\}|\d))?"
)
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree")
_THOUSANDS_BRACE = re.compile(r"(\d)(?:\{,\}|\\,)(?=\d{3}(?!\d))")
_MIXED = re.compile(r"(?<![\d.}^_])(\d+)\s*\\[dt]?frac\s*\{(\d+)\}\s*\{(\d+)\}")
_SHORT_ARG = r"(\\[a-zA-Z]+|[a-zA-Z0-9])"
_FRAC_SHORT = re.compile(r"\\([dt]?frac|[dt]?binom)\s*" + _SHORT_ARG + r"\s*" + _SHORT_ARG)
_FRAC_SHORT_FIRST = re.compile(r"\\([dt]?frac|[dt]?binom)\s*" + _SHORT_ARG + r"\s*\{")
_FRAC_SHORT_SECOND = re.compile(r"\\([dt]?frac|[dt]?binom)\s*(\{[^{}]*\})\s*" + _SHORT_ARG)
_SQRT_SHORT = re.compile(r"\\sqrt\s*" + _SHORT_ARG)
_RATE_UNITS = re.compile(r"(?<=[\d\s}])\s*(?:km|m|mi|ft|cm|miles|meters|feet)\s*/\s*(?:h|hr|hour|s|sec|min)\b")
_VERB = re.compile(r"(?i)(?<![\\a-z])(?:is|are|equals|was|be)(?![a-z])\s*:?")
_WORDS = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}\s+[a-zA-Z]{2,}|(?<![\\a-zA-Z])(?i:is|are|equals)(?![a-zA-Z])")
_LABEL = re.compile(r"(?i)^\s*(?:the\s+)?(?:final\s+)?(?:answer|solution|result)\s*:\s*")
_FUNCTION_LHS = re.compile(r"^\s*(?:[a-zA-Z]'*\s*\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])*\s*\)|\\frac\{d[a-zA-Z]?\}\{d[a-zA-Z]\}|d[a-zA-Z]/d[a-zA-Z]|[a-zA-Z]')\s*=(?!=)")
_TRAILING = re.compile(r"[\s.;:]+$")
_ANY_WORD = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]+(?:'[a-zA-Z]+)?")
_APPROX = re.compile(r"(?:^|[\s=(:$])~|\\(?:approx|sim|simeq|cong|lesssim|gtrsim)(?![a-zA-Z])|[\u2248\u2243\u2245\u223c]")
_BOXED_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
# what may follow the verb in "x = 2 is the answer"
_HEAD_TAIL = re.compile(
    r"(?i)\s*(?:(?:the|my|our)\s+)?(?:(?:final|correct|right|exact)\s+)?"
    r"(?:answer|answers|solution|solutions|result|value|values|root|roots)?\s*(?:correct|right)?\s*")


def check_claim(text: str) -> None:
    """Raise :class:`ParseError` when ``text`` negates, hedges or bounds its answer, asks a
    question or states several different boxed answers (see the module docstring)."""
    for match in _ANY_WORD.finditer(text):
        if refusal(match.group(0)):
            raise ParseError(f"the answer is negated, hedged or conditional ({match.group(0)!r})")
    if "?" in text:
        raise ParseError("the answer is a question")
    if _APPROX.search(text):
        raise ParseError("the answer is stated as approximate")
    if text.count("box") > 1 and len(set(_all_boxed(text))) > 1:
        raise ParseError("several different boxed answers")


def _all_boxed(text: str) -> list[str]:
    contents = []
    for match in _BOXED_START.finditer(text):
        depth, start = 1, match.end()
        for j in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                contents.append(text[start:j].strip())
                break
    return contents


def clean(text: str) -> str:
    """Return ``text`` rewritten into the parser's grammar (see the module docstring)."""
    check_claim(text)
    boxed = last_boxed(text)
    if boxed is not None:
        text = boxed
    text = text.strip()
    text = re.sub(r"^\\\[|\\\]$|^\\\(|\\\)$", "", text)
    text = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], text)
    text = _FUNCTION_LHS.sub("", _sentence_tail(text))
    for _ in range(4):  # nested text commands, innermost first
        text, n = _TEXT_CMD.subn(_text_command, text)
        if not n:
            break
    text = _RATE_UNITS.sub(" ", text)
    text = _DEGREES.sub("", text).replace("\\%", "%")
    text = _THOUSANDS_BRACE.sub(r"\1", text)
    text = _DROP.sub(" ", text)
    text = _MIXED.sub(_mixed_number, text)
    text = _FRAC_SHORT.sub(r"\\\1{\2}{\3}", text)
    text = _FRAC_SHORT_FIRST.sub(r"\\\1{\2}{", text)
    text = _FRAC_SHORT_SECOND.sub(r"\\\1\2{\3}", text)
    text = _SQRT_SHORT.sub(r"\\sqrt{\1}", text)
    return _TRAILING.sub("", text).strip()


def _text_command(match: re.Match[str]) -> str:
    """``\\text{ cm}^2`` (words: units or filler) is dropped with its exponent; ``\\text{ or }``
    stays a separator; text with digits and ``\\mathrm{e}``-like math fonts keep their content."""
    command, content, exponent = match.groups()
    if command.startswith(("text", "mbox")) and not re.search(r"\d", content):
        return f" {content} " if content.strip().lower() in ("or", "and") else " "
    return f" {content} {exponent or ''}"


def _sentence_tail(text: str) -> str:
    """``The final answer is 7.`` -> ``7``; text without a sentence verb is returned unchanged."""
    text = _LABEL.sub("", text)
    if not _WORDS.search(text):
        return text
    verbs = list(_VERB.finditer(text))
    if not verbs:
        return text
    if any(re.search(r"[\d\\]", text[v.end() : w.start()]) for v, w in zip(verbs, verbs[1:])):
        raise ParseError("several statements in the answer")  # "x is 5 and y is 3", "it is 5 or it is 3"
    tail = text[verbs[-1].end() :]
    if re.search(r"[\d\\]", tail) is None and re.search(r"[\d\\]", text[: verbs[0].start()]):
        if len(verbs) > 1 or not _HEAD_TAIL.fullmatch(_TRAILING.sub("", tail)):
            raise ParseError(f"cannot read the sentence after the answer ({tail.strip()[:40]!r})")
        return text[: verbs[0].start()]  # "x = 2 is the answer"
    return tail


def _mixed_number(match: re.Match[str]) -> str:
    whole, num, den = match.groups()
    if int(den) == 0 or int(num) >= int(den):
        return match.group(0)
    return f"({whole}+\\frac{{{num}}}{{{den}}})"
