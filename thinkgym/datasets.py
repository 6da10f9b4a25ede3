"""thinkgym problems as a Hugging Face ``datasets.Dataset``, for TRL, verl, SFT, or our own trainer.

Each row is one problem, identified exactly so that any reward function can pose it again::

    prompt      chat messages: the R1 system prompt, then the env's problem as the user turn
    env_id      "thinkgym/Arithmetic-v0"
    seed        the env seed (63-bit int): env.reset(seed=seed) poses the same problem
    difficulty  the env's difficulty level
    answer      a reference answer (for SFT and logging; rewards check properties, not this string)

The mix is read by :func:`thinkgym.mix.parse_mix` (the parser every config and command uses)
and problems are drawn by :func:`thinkgym.mix.draw_problems` from the streams of
:func:`thinkgym.splits.problem_stream`, the same streams evaluation draws from: ``split="eval"`` rows are the held-out problems evaluation scores with the same
``seed``, and no ``"train"`` row ever has a held-out prompt.
"""

from __future__ import annotations

from collections.abc import Mapping

import datasets
import numpy as np

from thinkgym.mix import Mix, MixError, MixSpec, allocate, draw_problems, weights
from thinkgym.mix import parse_mix as _parse_any
from thinkgym.prompts import R1_SYSTEM_PROMPT, build_messages
from thinkgym.splits import check_split
from thinkgym.errors import UserError

__all__ = ["COLUMNS", "MixSpec", "allocate", "build", "dataset_mix", "normalize_mix", "parse_mix"]
COLUMNS = ("prompt", "env_id", "seed", "difficulty", "answer")
_SHUFFLE_TAG = 0x7368  # "sh": the row order's own seed stream, apart from the problems' streams


def dataset_mix(mix: MixSpec) -> Mix:
    """The mix of ``mix`` (:func:`thinkgym.mix.parse_mix`), refusing env options: a row names its
    problem by (env_id, seed, difficulty) only, so a reward function could not pose it again."""
    parsed = _parse_any(mix)
    for spec in parsed:
        if spec.kwargs:
            raise MixError(
                f"{spec.id}: env options {sorted(spec.kwargs)} cannot be named by a dataset row "
                "(env_id, seed, difficulty); register a variant env with those options instead"
            )
    return parsed


def normalize_mix(mix: MixSpec) -> dict[str, float]:
    """``{env_id: weight}`` with weights summing to 1 (see :data:`~thinkgym.mix.MixSpec`).

    Raises ``ValueError`` (:class:`~thinkgym.envs.registry.UnknownEnvError` for unknown ids).
    """
    return weights(dataset_mix(mix))


def parse_mix(mix: MixSpec) -> tuple[dict[str, float], dict[str, int]]:
    """``({env_id: weight}, {env_id: difficulty})``: normalised weights, and each env's level."""
    parsed = dataset_mix(mix)
    return weights(parsed), {spec.id: spec.difficulty for spec in parsed}


def build(
    mix: MixSpec,
    n: int,
    split: str = "train",
    seed: int = 0,
    *,
    difficulty: int | Mapping[str, int] | None = None,
    system_prompt: str | None = R1_SYSTEM_PROMPT,
) -> datasets.Dataset:
    """``n`` problems from the envs of ``mix`` (see :data:`~thinkgym.mix.MixSpec`), in shuffled order;
    each env gets its share of ``n`` by weight (largest remainder).

    ``difficulty`` is one level for every env, or ``{env_id: level}``; envs it does not name
    take the mix entry's difficulty, else 1.
    The same arguments give the same dataset on any machine. Columns: see the module docstring.
    """
    check_split(split)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UserError(f"n must be a positive integer, got {n!r}")
    parsed = dataset_mix(mix)
    if isinstance(difficulty, Mapping):
        levels = dict(difficulty)
    elif difficulty is not None:
        levels = {spec.id: difficulty for spec in parsed}
    else:
        levels = {}
    refs = draw_problems(parsed, n, split=split, seed=seed, levels=levels, exact=True)
    rows = [
        {"prompt": build_messages(ref.prompt, system_prompt), "env_id": ref.env_id, "seed": ref.seed, "difficulty": ref.difficulty, "answer": ref.answer}
        for ref in refs
    ]
    order = np.random.default_rng(np.random.SeedSequence([int(seed), _SHUFFLE_TAG])).permutation(len(rows))
    return datasets.Dataset.from_list([rows[i] for i in order])
