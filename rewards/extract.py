"""Reading the final answer out of a model's whole completion.

The DeepSeek-R1 format is ``<think>...</think><answer>...</answer>``; the answer is the text of
the ``<answer>...</answer>`` block. A completion may repeat the block, but blocks that say
different things are several answers, not one: they are refused (a policy that lists candidates
in separate blocks must not be paid for the one that happens to be right). Families whose
answers are math expressions may also accept ``\\boxed{...}`` when no answer tag is present,
under the same rule for several boxes.
"""

from __future__ import annotations

import string

MAX_ANSWER_CHARS = 4096
"""Answers longer than this are rejected before any parser sees them."""

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class AnswerNotFound(ValueError):
    """The completion holds no readable final answer."""


def extract_answer(completion: str, *, boxed: bool = False) -> str:
    """Return the stripped text of the ``<answer>...</answer>`` block of ``completion``.

    With ``boxed=True`` the content of ``\\boxed{...}`` is used when there is no answer block.
    Raises :class:`AnswerNotFound` when neither is there, when two blocks (or boxes) differ,
    when the answer is empty or longer than :data:`MAX_ANSWER_CHARS`.
    """
    # Search from the last closing tag backwards: linear time even on megabyte inputs. The tags
    # match in any ASCII case; folding only ASCII letters keeps indices aligned with the text
    # (str.lower() can lengthen non-ASCII text: "\u0130" becomes two characters).
    folded = completion.lower() if completion.isascii() else completion.translate(_ASCII_LOWER)
    end = folded.rfind("</answer>")
    if end != -1:
        start = folded.rfind("<answer>", 0, end)
        if start != -1:
            answer = _checked(completion[start + len("<answer>") : end])
            _refuse_other_blocks(completion, folded, start, answer)
            return answer
    if boxed:
        inner = last_boxed(completion)
        if inner is not None:
            answer = _checked(inner)
            if any(other.strip() != answer for other in _boxes(completion)):
                raise AnswerNotFound("several \\boxed{...} answers that differ")
            return answer
        raise AnswerNotFound("no <answer>...</answer> block and no \\boxed{...}")
    raise AnswerNotFound("no <answer>...</answer> block")


_MAX_BLOCKS = 64


def _refuse_other_blocks(completion: str, folded: str, last_start: int, answer: str) -> None:
    """Raise :class:`AnswerNotFound` when an earlier complete block says something else."""
    end = last_start
    for _ in range(_MAX_BLOCKS):
        end = folded.rfind("</answer>", 0, end)
        if end == -1:
            return
        start = folded.rfind("<answer>", 0, end)
        if start == -1:
            return
        if completion[start + len("<answer>") : end].strip() != answer:
            raise AnswerNotFound("several <answer> blocks that differ")
        end = start
    raise AnswerNotFound(f"more than {_MAX_BLOCKS} <answer> blocks")


def _boxes(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}``/``\\fbox{...}`` with balanced braces (at most 64)."""
    found: list[str] = []
    pos = 0
    while len(found) < _MAX_BLOCKS:
        starts = [i for i in (text.find("\\boxed{", pos), text.find("\\fbox{", pos)) if i != -1]
        if not starts:
            break
        inner = _balanced(text, text.index("{", min(starts)) + 1)
        if inner is None:
            break
        found.append(inner)
        pos = min(starts) + 1
    return found


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) with balanced braces, else None."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start == -1:
        return None
    return _balanced(text, text.index("{", start) + 1)


def _balanced(text: str, i: int) -> str | None:
    """The text from ``i`` up to the brace that closes the one just before ``i``, else None."""
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
