"""The env mix: one type, one parser and validator, one problem drawer.

A mix is a list of :class:`EnvSpec` (env id, weight, difficulty, env options). Every place that
takes a mix (the GRPO and SFT configs, ``thinkgym.datasets.build``, the TRL reward functions,
``thinkgym export``, ``thinkgym eval --mix``) reads it with :func:`parse_mix`, which accepts

* an env id, optionally with a weight: ``"thinkgym/Arithmetic-v0"``, ``"thinkgym/Arithmetic-v0:2"``;
* a list of those, of ``{id, weight, difficulty, kwargs}`` mappings or of ``EnvSpec`` objects
  (the YAML ``mix:`` entry of a config);
* a ``{env_id: weight}`` mapping;
* the path of a YAML file (a training config) whose ``mix:`` entry holds one of those.

Rules: the id is registered (unknown ids get a did-you-mean), the weight is a finite number
> 0, the difficulty an integer in ``1..max_difficulty``, ``kwargs`` a mapping of env options, each
id appears once, and the mix is not empty. Bad input is one :class:`MixError` (a ``ValueError``)
whose one line lists every problem.

:func:`draw_problems` is the one way problems are drawn from a mix, from the train or the
held-out split of :mod:`thinkgym.splits`: the GRPO rollouts, SFT solver traces, rejection
sampling and dataset export all use it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from thinkgym.errors import UserError
from thinkgym.splits import ProblemRef, check_split, problem_stream

MixSpec = Union[str, "os.PathLike[str]", Sequence[Any], Mapping[str, float]]
"""What :func:`parse_mix` accepts (see the module docstring)."""
ENTRY_KEYS = ("id", "weight", "difficulty", "kwargs")


class MixError(UserError):
    """A mix that cannot be used; the message lists every problem, in one line."""


@dataclass
class EnvSpec:
    """One entry of the env mix."""

    id: str
    """A registered env id (built-in or plugin), e.g. ``thinkgym/Arithmetic-v0``."""
    weight: float = 1.0
    """Relative probability that a problem comes from this env (> 0)."""
    difficulty: int = 1
    """Difficulty level (for training: the starting one; the curriculum may move it)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra env options, passed to ``gym.make``."""


Mix = list[EnvSpec]


def mix_seed(*numbers: int) -> int:
    """A 63-bit seed mixed from ``numbers`` with ``SeedSequence``."""
    state = np.random.SeedSequence([int(n) for n in numbers]).generate_state(2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def parse_mix(value: MixSpec, problems: list[str] | None = None) -> Mix:
    """The validated mix of ``value`` (see the module docstring).

    With ``problems`` (a list), problems are appended to it (prefixed ``"mix: "``) and the valid
    entries returned; without, any problem raises :class:`MixError`."""
    found: list[str] = []
    mix = _parse(value, found)
    if problems is not None:
        problems += [f"mix: {p}" for p in found]
        return mix
    if found:
        raise MixError("invalid env mix: " + "; ".join(found))
    return mix


def _parse(value: Any, problems: list[str]) -> Mix:
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value.endswith((".yaml", ".yml"))):
        return _parse(_mix_of_yaml(os.fspath(value)), problems)
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        value = [{"id": env_id, "weight": weight} for env_id, weight in value.items()]
    elif not isinstance(value, Sequence):
        problems.append(f"a mix is an env id, a list of env entries or a {{env_id: weight}} mapping, got {value!r}")
        return []
    mix = [spec for spec in (_entry(e, problems) for e in value) if spec is not None]
    if not value:
        problems.append("the mix is empty: name at least one env")
    ids = [spec.id for spec in mix]
    problems += [f"{env_id} appears twice in the mix; give it once, with a weight" for env_id in sorted({i for i in ids if ids.count(i) > 1})]
    return mix


def _entry(entry: Any, problems: list[str]) -> EnvSpec | None:
    """One entry as an :class:`EnvSpec`, or None (with the problem recorded)."""
    from thinkgym.envs.registry import UnknownEnvError, env_info

    if isinstance(entry, str):
        env_id, sep, weight = entry.partition(":")
        try:
            entry = {"id": env_id, "weight": float(weight)} if sep else {"id": env_id}
        except ValueError:
            problems.append(f"bad weight in {entry!r}: expected ENV_ID or ENV_ID:WEIGHT")
            return None
    elif isinstance(entry, EnvSpec):
        entry = {key: getattr(entry, key) for key in ENTRY_KEYS}
    if not isinstance(entry, Mapping) or "id" not in entry:
        problems.append(f"a mix entry needs an 'id' (and may have weight, difficulty, kwargs), got {entry!r}")
        return None
    env_id = entry["id"]
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        problems.append(f"mix entry {env_id!r}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(ENTRY_KEYS)}")
        return None
    if not isinstance(env_id, str):
        problems.append(f"a mix entry's id must be an env id string, got {env_id!r}")
        return None
    try:
        info = env_info(env_id)
    except UnknownEnvError as err:
        problems.append(str(err))
        return None
    weight, difficulty, kwargs = entry.get("weight", 1.0), entry.get("difficulty", 1), entry.get("kwargs", {})
    before = len(problems)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
        problems.append(f"the weight of {env_id} must be a finite number > 0, got {weight!r}")
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= info.max_difficulty:
        problems.append(f"{env_id} difficulty must be an integer in 1..{info.max_difficulty}, got {difficulty!r}")
    if not isinstance(kwargs, Mapping):
        problems.append(f"{env_id} kwargs must be a mapping of env options, got {kwargs!r}")
    if len(problems) > before:
        return None
    return EnvSpec(env_id, float(weight), int(difficulty), dict(kwargs))


def _mix_of_yaml(path: str) -> Any:
    import yaml

    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            raise MixError(f"{path}: not valid YAML: {getattr(err, 'problem', None) or str(err).splitlines()[0]}{where}") from None
    if isinstance(data, Mapping) and "mix" in data:
        return data["mix"]
    raise MixError(f"{path} has no 'mix:' entry (env ids, {{env_id: weight}} or [{{id, weight, difficulty, kwargs}}])")


def weights(mix: Mix) -> dict[str, float]:
    """``{env_id: weight}`` with the weights summing to 1."""
    total = sum(spec.weight for spec in mix)
    return {spec.id: spec.weight / total for spec in mix}


def allocate(weights: Mapping[str, float], n: int) -> dict[str, int]:
    """Split ``n`` between envs in proportion to ``weights`` (largest remainder, ties by id)."""
    exact = {env_id: w * n for env_id, w in weights.items()}
    counts = {env_id: int(math.floor(x)) for env_id, x in exact.items()}
    by_remainder = sorted(exact, key=lambda e: (counts[e] - exact[e], e))
    for env_id in by_remainder[: n - sum(counts.values())]:
        counts[env_id] += 1
    return counts


def draw_problems(
    mix: Mix,
    count: int,
    *,
    split: str = "train",
    seed: int,
    key: Sequence[int] = (),
    levels: Mapping[str, int] | None = None,
    exact: bool = False,
    make_env: Callable[[EnvSpec, int], Any] | None = None,
) -> list[ProblemRef]:
    """``count`` problems of ``split`` from ``mix``; a pure function of the arguments.

    Each problem's env is drawn by weight (``exact``: each env gets its share of ``count``,
    largest remainder, in env order). ``key`` names the draw (e.g. ``(rank, step, round)``):
    without one, env ``i``'s problems are the first of ``problem_stream(..., seed, ...)``, the
    stream evaluation scores with the same ``seed``; with one, each env's stream is seeded from
    ``(seed, *key, i)`` (mixed, never added). ``levels`` overrides the entries' difficulties;
    ``make_env(spec, level)`` gives the env that poses problems (default: a new one, closed after)."""
    check_split(split)
    levels = levels or {}
    if exact:
        counts = allocate(weights(mix), count)
        picks = [i for i, spec in enumerate(mix) for _ in range(counts[spec.id])]
    else:
        rng = np.random.default_rng([int(seed), *map(int, key)])
        p = np.array([spec.weight for spec in mix], dtype=float)
        picks = rng.choice(len(mix), size=count, p=p / p.sum()).tolist()
    problems: list[ProblemRef | None] = [None] * len(picks)
    for index in sorted(set(picks)):
        spec = mix[index]
        level = levels.get(spec.id, spec.difficulty)
        env = make_env(spec, level) if make_env else _new_env(spec, level)
        try:
            stream = problem_stream(env, spec.id, split, mix_seed(seed, *key, index) if key else seed, level)
            for slot in [i for i, pick in enumerate(picks) if pick == index]:
                problems[slot] = next(stream)
        finally:
            if make_env is None:
                env.close()
    return [p for p in problems if p is not None]


def _new_env(spec: EnvSpec, level: int) -> Any:
    from thinkgym.envs.registry import make

    return make(spec.id, difficulty=level, disable_env_checker=True, **spec.kwargs)
