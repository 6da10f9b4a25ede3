"""Train and held-out problem streams that never share a problem.

Two guarantees, so that evaluation measures generalisation and not memorisation:

1. Seeds come from separate streams: the seed of problem ``index`` of ``split`` is drawn from
   ``numpy.random.SeedSequence([seed, SPLIT_TAGS[split], index])`` (mixed, never added).
2. Problems are split by a stable hash of their prompt text: a problem belongs to ``"eval"``
   when the BLAKE2b hash of its prompt falls in the first ``EVAL_SHARE`` of the hash range, else
   to ``"train"``. Each stream skips the problems of the other split, so even a task with a small
   problem space (two-number arithmetic) never shows a held-out prompt in training.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

SPLIT_TAGS = {"train": 0x7472, "eval": 0x6576}
EVAL_SHARE = 0.2
MAX_SKIPS = 10_000


@dataclass(frozen=True)
class ProblemRef:
    """A problem identified exactly: reset the env with ``seed`` (and ``difficulty``) to pose it again."""

    env_id: str
    seed: int
    difficulty: int
    prompt: str
    answer: str


def check_split(split: str) -> str:
    if split not in SPLIT_TAGS:
        raise ValueError(f"split must be one of {sorted(SPLIT_TAGS)}, got {split!r}")
    return split


def derive_seed(seed: int, split: str, index: int) -> int:
    """The env seed of candidate ``index`` of ``split``'s stream (63-bit, mixed by SeedSequence)."""
    state = np.random.SeedSequence([int(seed), SPLIT_TAGS[check_split(split)], int(index)]).generate_state(2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def split_of(prompt: str) -> str:
    """``"eval"`` or ``"train"``, by a stable hash of the prompt text."""
    digest = hashlib.blake2b(prompt.encode("utf-8"), digest_size=8).digest()
    return "eval" if int.from_bytes(digest, "big") < EVAL_SHARE * 2**64 else "train"


def problem_stream(env: Any, env_id: str, split: str, seed: int, difficulty: int) -> Iterator[ProblemRef]:
    """Endless stream of the problems of ``split``, from an env built at ``difficulty``.

    Raises ``RuntimeError`` if ``MAX_SKIPS`` candidates in a row belong to the other split
    (a task with almost no distinct problems).
    """
    check_split(split)
    index = skipped = 0
    while True:
        env_seed = derive_seed(seed, split, index)
        index += 1
        prompt, info = env.reset(seed=env_seed)
        if split_of(prompt) != split:
            skipped += 1
            if skipped >= MAX_SKIPS:
                raise RuntimeError(f"{env_id} yields no {split} problems: too few distinct problems")
            continue
        skipped = 0
        yield ProblemRef(env_id, env_seed, difficulty, prompt, info["answer"])
