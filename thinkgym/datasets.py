"""thinkgym problems as a Hugging Face ``datasets.Dataset``, for TRL, verl, SFT, or our own trainer.

Each row is one problem, identified exactly so that any reward function can pose it again::

    prompt      chat messages: the R1 system prompt, then the env's problem as the user turn
    env_id      "thinkgym/Arithmetic-v0"
    seed        the env seed (63-bit int): env.reset(seed=seed) poses the same problem
    difficulty  the env's difficulty level
    answer      a reference answer (for SFT and logging; rewards check properties, not this string)

Problems come from :func:`thinkgym.agents.splits.problem_stream`, the same streams evaluation
draws from: ``split="eval"`` rows are the held-out problems evaluation scores with the same
``seed``, and no ``"train"`` row ever has a held-out prompt.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Union

import datasets
import numpy as np

from thinkgym.agents.prompts import R1_SYSTEM_PROMPT, build_messages
from thinkgym.agents.splits import check_split, problem_stream
from thinkgym.envs.registry import env_info, make

MixSpec = Union[str, "os.PathLike[str]", Sequence[str], Mapping[str, float]]
"""An env id, a list of env ids, ``{env_id: weight}``, or a YAML file holding one of those."""
COLUMNS = ("prompt", "env_id", "seed", "difficulty", "answer")
_SHUFFLE_TAG = 0x7368  # "sh": the row order's own seed stream, apart from the problems' streams


def normalize_mix(mix: MixSpec) -> dict[str, float]:
    """``{env_id: weight}`` with weights summing to 1, from an env id, a list of ids (equal
    weights), a ``{env_id: weight}`` mapping, or the path of a YAML file holding one of those
    under ``mix:`` (or ``envs:``). Raises ``ValueError`` (``UnknownEnvError``) on bad input."""
    if isinstance(mix, os.PathLike) or (isinstance(mix, str) and mix.endswith((".yaml", ".yml"))):
        return normalize_mix(_mix_from_yaml(os.fspath(mix)))
    if isinstance(mix, str):
        mix = [mix]
    if isinstance(mix, Mapping):
        weights = dict(mix)
    elif isinstance(mix, Sequence):
        if len(set(mix)) != len(mix):
            raise ValueError(f"env ids repeat in the mix {list(mix)}; give a {{env_id: weight}} mapping instead")
        weights = dict.fromkeys(mix, 1.0)
    else:
        raise ValueError(f"a mix must be an env id, a list of env ids or a {{env_id: weight}} mapping, got {mix!r}")
    if not weights:
        raise ValueError("the mix is empty: give at least one env id")
    for env_id, weight in weights.items():
        env_info(env_id)  # did-you-mean error for unknown ids
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"the weight of {env_id} must be a finite number >= 0, got {weight!r}")
    total = float(sum(weights.values()))
    if total <= 0:
        raise ValueError("all weights in the mix are 0")
    return {env_id: float(w) / total for env_id, w in weights.items()}


def _mix_from_yaml(path: str) -> object:
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if isinstance(data, Mapping):
        for key in ("mix", "envs"):
            if key in data:
                return data[key]
    raise ValueError(f"{path} has no 'mix:' (or 'envs:') entry with env ids or {{env_id: weight}}")


def allocate(weights: Mapping[str, float], n: int) -> dict[str, int]:
    """Split ``n`` rows between envs in proportion to ``weights`` (largest remainder, ties by id)."""
    exact = {env_id: w * n for env_id, w in weights.items()}
    counts = {env_id: int(math.floor(x)) for env_id, x in exact.items()}
    by_remainder = sorted(exact, key=lambda e: (counts[e] - exact[e], e))
    for env_id in by_remainder[: n - sum(counts.values())]:
        counts[env_id] += 1
    return counts


def build(
    mix: MixSpec,
    n: int,
    split: str = "train",
    seed: int = 0,
    *,
    difficulty: int | Mapping[str, int] = 1,
    system_prompt: str | None = R1_SYSTEM_PROMPT,
) -> datasets.Dataset:
    """``n`` problems from the envs of ``mix`` (see :func:`normalize_mix`), in shuffled order.

    ``difficulty`` is one level for every env, or ``{env_id: level}`` (envs not named get 1).
    The same arguments give the same dataset on any machine. Columns: see the module docstring.
    """
    check_split(split)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    weights = normalize_mix(mix)
    rows = []
    for env_id, count in allocate(weights, n).items():
        if count == 0:
            continue
        level = difficulty.get(env_id, 1) if isinstance(difficulty, Mapping) else difficulty
        env = make(env_id, difficulty=level, disable_env_checker=True)
        for ref in itertools.islice(problem_stream(env, env_id, split, seed, level), count):
            rows.append(
                {
                    "prompt": build_messages(ref.prompt, system_prompt),
                    "env_id": ref.env_id,
                    "seed": ref.seed,
                    "difficulty": ref.difficulty,
                    "answer": ref.answer,
                }
            )
        env.close()
    order = np.random.default_rng(np.random.SeedSequence([int(seed), _SHUFFLE_TAG])).permutation(len(rows))
    return datasets.Dataset.from_list([rows[i] for i in order])
