"""Shaping rewards that look at the form of a completion, not its correctness."""

from __future__ import annotations

_THINK, _END_THINK = "<think>", "</think>"
_ANSWER, _END_ANSWER = "<answer>", "</answer>"


def format_reward(completion: str, *, max_chars: int = 65536) -> float:
    """1.0 when ``completion`` is ``<think>...</think><answer>...</answer>`` and nothing else
    (surrounding whitespace allowed, no nested or repeated tags), else 0.0.

    The same language as the regular expression
    ``\\A\\s*<think>((?!</?think>).)*</think>\\s*<answer>((?!</?answer>).)*</answer>\\s*\\Z``
    (DOTALL), checked with a few substring searches: a tempered regex steps through every
    character and costs tens of microseconds on a long think block.
    """
    if len(completion) > max_chars:
        return 0.0
    text = completion.strip()  # str.strip and the regex's \s agree: both use str.isspace
    if not (text.startswith(_THINK) and text.endswith(_END_ANSWER)):
        return 0.0
    close = text.find(_END_THINK, len(_THINK))
    if close == -1 or text.find(_THINK, len(_THINK), close) != -1:
        return 0.0
    rest = text[close + len(_END_THINK) :].lstrip()
    if not rest.startswith(_ANSWER) or len(rest) < len(_ANSWER) + len(_END_ANSWER):
        return 0.0
    body = rest[len(_ANSWER) : -len(_END_ANSWER)]
    return 0.0 if _ANSWER in body or _END_ANSWER in body else 1.0


def overlong_penalty(num_tokens: int, max_tokens: int, buffer_tokens: int) -> float:
    """DAPO's soft over-length penalty, in [-1, 0].

    0 up to ``max_tokens - buffer_tokens``; then falls linearly to -1 at ``max_tokens``;
    -1 beyond.
    """
    if buffer_tokens <= 0 or max_tokens <= buffer_tokens:
        raise ValueError("need 0 < buffer_tokens < max_tokens")
    start = max_tokens - buffer_tokens
    if num_tokens <= start:
        return 0.0
    if num_tokens >= max_tokens:
        return -1.0
    return -(num_tokens - start) / buffer_tokens
