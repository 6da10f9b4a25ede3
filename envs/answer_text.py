"""Plain-text rules shared by the readers of word and symbol answers (the graph and logic families).

Prompts are printable ASCII and so are honest answers. Characters outside ASCII are where
readers disagree with each other (``\\d`` matches ``"\\u0663"``, ``re.IGNORECASE`` lets
``"\\u017f"`` match ``s``, ``"\\u0131".upper()`` is ``"I"``, a zero-width space splits nothing),
so an answer that needs them to be read is refused with the character named, rather than read
one way by a regex and another way by ``str.lower``.
"""

from __future__ import annotations

from thinkgym.rewards.verdict import InvalidAnswer


def require_plain(text: str, allowed: str = "") -> None:
    """Raise :class:`InvalidAnswer` when ``text`` holds a character outside ASCII other than
    whitespace or one of ``allowed`` (e.g. the arrow ``"\\u2192"`` in paths)."""
    if text.isascii():
        return
    for ch in text:
        if ord(ch) > 127 and ch not in allowed and not ch.isspace():
            raise InvalidAnswer(f"unexpected character U+{ord(ch):04X} in the answer; write it in plain ASCII")
