"""Helpers shared by the logic tasks: reading ``name: value`` answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from thinkgym.envs.answer_text import require_plain
from thinkgym.rewards.verdict import InvalidAnswer

T = TypeVar("T")

TRUTH_WORDS: dict[str, bool] = {
    "true": True, "t": True, "1": True, "yes": True,
    "false": False, "f": False, "0": False, "no": False,
}
"""How a truth value may be written in an answer (case-insensitive)."""


_PAIR_RE = re.compile(
    # A name, then ":", "=", "->", "is" or at least a space, then an optional article and the
    # value: "pt" is not read as p = t, nor "g41" as g4 = 1.
    r"\b(?!and\b)([A-Za-z_][A-Za-z0-9_]*)(?:\s*(?:[:=]|->)\s*|\s+is\s+|\s+)(?:an?\s+)?([A-Za-z0-9_]+)\b",
    re.IGNORECASE | re.ASCII,
)
_GAP_RE = re.compile(r"^[\s,;.(){}\[\]]*(?:\band\b)?[\s,;.(){}\[\]]*$", re.IGNORECASE | re.ASCII)


def parse_assignment(text: str, keys: Mapping[str, str], values: Mapping[str, T], *, what: str = "value") -> dict[str, T]:
    """Read ``A: knight, B = knave; C is a knight`` into ``{"A": ..., "B": ..., "C": ...}``.

    ``keys`` maps each accepted spelling (lower case) of a name to its canonical name;
    ``values`` maps each accepted spelling (lower case) of a value to the value. Pairs are
    separated by commas, semicolons, newlines, spaces or "and"; order and case do not matter.
    Every canonical name must be given exactly once (the same value twice is tolerated).
    Raises :class:`InvalidAnswer` with the reason otherwise.
    """
    require_plain(text)
    wanted = set(keys.values())
    result: dict[str, T] = {}
    pos, pairs = 0, 0
    for match in _PAIR_RE.finditer(text):
        if not _GAP_RE.match(text[pos : match.start()]):
            raise InvalidAnswer(f"cannot read {text[pos:match.start()][:30]!r}; write name: {what}")
        pos, pairs = match.end(), pairs + 1
        if pairs > 4 * len(wanted) + 4:
            raise InvalidAnswer(f"the answer has more than {pairs - 1} pairs, expected {len(wanted)}")
        key = keys.get(match.group(1).lower())
        if key is None:
            raise InvalidAnswer(f"unknown name {match.group(1)[:20]!r}")
        value = values.get(match.group(2).lower())
        if value is None:
            raise InvalidAnswer(f"{match.group(2)[:20]!r} is not a valid {what} for {key}")
        if key in result and result[key] != value:
            raise InvalidAnswer(f"{key} is given two different values")
        result[key] = value
    if not _GAP_RE.match(text[pos:]):
        raise InvalidAnswer(f"cannot read {text[pos:][:30]!r}; write name: {what}")
    if not result:
        raise InvalidAnswer(f"no name: {what} pairs found")
    missing = sorted(wanted - set(result))
    if missing:
        raise InvalidAnswer(f"no {what} given for {', '.join(missing)}")
    return result


def join_names(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
