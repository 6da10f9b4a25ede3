"""Reading the final answer out of a model's whole completion.

The DeepSeek-R1 format is ``<think>...</think><answer>...</answer>``; the answer is the text of
the *last* ``<answer>...</answer>`` block. Families whose answers are math expressions may also
accept the last ``\\boxed{...}`` when no answer tag is present.
"""

from __future__ import annotations

import string

MAX_ANSWER_CHARS = 4096
"""Answers longer than this are rejected before any parser sees them."""

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class AnswerNotFound(ValueError):
    """The completion holds no readable final answer."""


def extract_answer(completion: str, *, boxed: bool = False) -> str:
    """Return the stripped text of the last ``<answer>...</answer>`` block of ``completion``.

    With ``boxed=True`` the content of the last ``\\boxed{...}`` is used when there is no
    answer block. Raises :class:`AnswerNotFound` when neither is there, when the answer is
    empty or longer than :data:`MAX_ANSWER_CHARS`.
    """
    # Search from the last closing tag backwards: linear time even on megabyte inputs. The tags
    # match in any ASCII case; folding only ASCII letters keeps indices aligned with the text
    # (str.lower() can lengthen non-ASCII text: "\u0130" becomes two characters).
    folded = completion.lower() if completion.isascii() else completion.translate(_ASCII_LOWER)
    end = folded.rfind("</answer>")
    if end != -1:
        start = folded.rfind("<answer>", 0, end)
        if start != -1:
            return _checked(completion[start + len("<answer>") : end])
    if boxed:
        inner = last_boxed(completion)
        if inner is not None:
            return _checked(inner)
        raise AnswerNotFound("no <answer>...</answer> block and no \\boxed{...}")
    raise AnswerNotFound("no <answer>...</answer> block")


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) with balanced braces, else None."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start == -1:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def _checked(answer: str) -> str:
    answer = answer.strip()
    if not answer:
        raise AnswerNotFound("the answer block is empty")
    if len(answer) > MAX_ANSWER_CHARS:
        raise AnswerNotFound(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    return answer
