"""thinkgym problems as a Hugging Face ``datasets.Dataset``, for TRL, verl, SFT, or our own trainer.

Each row is one problem, identified exactly so that any reward function can pose it again::

    prompt      chat messages: the R1 system prompt, then the env's problem as the user turn
    env_id      "thinkgym/Arithmetic-v0"
    seed        the env seed (63-bit int): env.reset(seed=seed) poses the same problem
    difficulty  the env's difficulty level
    answer      a reference answer (for SFT and logging; rewards check properties, not this string)

Problems come from :func:`thinkgym.splits.problem_stream`, the same streams evaluation
draws from: ``split="eval"`` rows are the held-out problems evaluation scores with the same
``seed``, and no ``"train"`` row ever has a held-out prompt.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

import datasets
import numpy as np
import yaml

from thinkgym.prompts import R1_SYSTEM_PROMPT, build_messages
from thinkgym.splits import check_split, problem_stream
from thinkgym.envs.registry import env_info, make

MixSpec = Union[str, "os.PathLike[str]", Sequence[Any], Mapping[str, float]]
"""An env id; a list of env ids or of ``{id, weight, difficulty}`` entries (the training
config's ``mix:`` format; ``EnvSpec`` objects work too); ``{env_id: weight}``; or the path of a
YAML file (a training config) whose ``mix:`` holds one of those."""
COLUMNS = ("prompt", "env_id", "seed", "difficulty", "answer")
_SHUFFLE_TAG = 0x7368  # "sh": the row order's own seed stream, apart from the problems' streams
_ENTRY_KEYS = {"id", "weight", "difficulty", "kwargs"}


def normalize_mix(mix: MixSpec) -> dict[str, float]:
    """``{env_id: weight}`` with weights summing to 1 (see :data:`MixSpec`).

    Raises ``ValueError`` (:class:`~thinkgym.envs.registry.UnknownEnvError` for unknown ids).
    """
    return parse_mix(mix)[0]


def parse_mix(mix: MixSpec) -> tuple[dict[str, float], dict[str, int]]:
    """``({env_id: weight}, {env_id: difficulty})``: normalised weights, and the difficulty of the
    entries that name one."""
    if isinstance(mix, os.PathLike) or (isinstance(mix, str) and mix.endswith((".yaml", ".yml"))):
        return parse_mix(_mix_from_yaml(os.fspath(mix)))
    if isinstance(mix, str):
        mix = [mix]
    if isinstance(mix, Mapping):
        entries = [{"id": env_id, "weight": weight} for env_id, weight in mix.items()]
    elif isinstance(mix, Sequence):
        entries = [_entry(e) for e in mix]
    else:
        raise ValueError(f"a mix must be an env id, a list of env ids or a {{env_id: weight}} mapping, got {mix!r}")
    if not entries:
        raise ValueError("the mix is empty: give at least one env id")
    weights: dict[str, float] = {}
    levels: dict[str, int] = {}
    for entry in entries:
        env_id, weight = entry["id"], entry.get("weight", 1.0)
        env_info(env_id)  # did-you-mean error for unknown ids
        if env_id in weights:
            raise ValueError(f"{env_id} appears twice in the mix; give it once, with a weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"the weight of {env_id} must be a finite number >= 0, got {weight!r}")
        if entry.get("kwargs"):
            raise ValueError(
                f"{env_id}: env options {sorted(entry['kwargs'])} cannot be named by a dataset row "
                "(env_id, seed, difficulty); register a variant env with those options instead"
            )
        weights[env_id] = float(weight)
        if entry.get("difficulty") is not None:
            levels[env_id] = int(entry["difficulty"])
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("all weights in the mix are 0")
    return {env_id: w / total for env_id, w in weights.items()}, levels


def _entry(entry: Any) -> dict[str, Any]:
    """One mix entry as a dict: an env id, a mapping, or an object with ``id`` (``EnvSpec``)."""
    if isinstance(entry, str):
        return {"id": entry}
    if not isinstance(entry, Mapping):
        if not hasattr(entry, "id"):
            raise ValueError(f"a mix entry must be an env id or have an 'id', got {entry!r}")
        entry = {key: getattr(entry, key) for key in _ENTRY_KEYS if hasattr(entry, key)}
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if "id" not in entry or unknown:
        raise ValueError(f"a mix entry needs an 'id' and may have {sorted(_ENTRY_KEYS - {'id'})}, got {dict(entry)!r}")
    return dict(entry)


def _mix_from_yaml(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if isinstance(data, Mapping) and "mix" in data:
        return data["mix"]
    raise ValueError(f"{path} has no 'mix:' entry (env ids, {{env_id: weight}} or [{{id, weight, difficulty}}])")


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
    difficulty: int | Mapping[str, int] | None = None,
    system_prompt: str | None = R1_SYSTEM_PROMPT,
) -> datasets.Dataset:
    """``n`` problems from the envs of ``mix`` (see :data:`MixSpec`), in shuffled order.

    ``difficulty`` is one level for every env, or ``{env_id: level}``; envs it does not name
    take the mix entry's difficulty, else 1.
    The same arguments give the same dataset on any machine. Columns: see the module docstring.
    """
    check_split(split)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    weights, levels = parse_mix(mix)
    if isinstance(difficulty, Mapping):
        levels = {**levels, **difficulty}
    elif difficulty is not None:
        levels = dict.fromkeys(weights, difficulty)
    rows = []
    for env_id, count in allocate(weights, n).items():
        if count == 0:
            continue
        level = levels.get(env_id, 1)
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
