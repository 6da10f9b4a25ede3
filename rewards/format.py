"""Shaping rewards that look at the form of a completion, not its correctness."""

from __future__ import annotations

import re

# The whole completion must be exactly one think block followed by one answer block.
_R1_FORMAT = re.compile(
    r"\A\s*<think>(?:(?!</?think>).)*</think>\s*<answer>(?:(?!</?answer>).)*</answer>\s*\Z",
    re.DOTALL,
)


def format_reward(completion: str, *, max_chars: int = 65536) -> float:
    """1.0 when ``completion`` is ``<think>...</think><answer>...</answer>`` and nothing else
    (surrounding whitespace allowed, no nested or repeated tags), else 0.0."""
    if len(completion) > max_chars:
        return 0.0
    return 1.0 if _R1_FORMAT.match(completion) else 0.0


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
