"""Data pruning for SFT sets: the seed's question whether downsampling SFT and reasoning data
helps. Each rule is a small pure function over examples that returns the kept examples and the
dropped ones; :func:`prune` applies the chosen rules in a fixed order and counts the drops per
reason.

Rules, in the order applied:

1. ``duplicate``: a prompt seen before (whitespace-normalised text, or the chat messages)
   keeps only its first example;
2. ``always_solved`` / ``never_solved``: problems the current policy solves in every / none of
   its samples (``solve_rate`` 1 / 0, from :mod:`thinkgym.agents.rejection`): nothing to learn
   there, or (for never-solved ones) data off the policy's reach;
3. ``env_share`` / ``difficulty_share``: no env (difficulty) may hold more than the given share
   of the result; over-represented groups keep their first examples.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from thinkgym.agents.sft_data import Example
from thinkgym.errors import UserError

Split = tuple[list[Example], list[Example]]


@dataclass
class PruneReport:
    """What pruning did: examples before and after, drops per reason, counts per env."""

    before: int
    after: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    envs_before: dict[str, int] = field(default_factory=dict)
    envs_after: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"examples: {self.before} -> {self.after}"]
        out += [f"dropped ({reason}): {count}" for reason, count in self.dropped.items()]
        out += [f"  {env}: {self.envs_before.get(env, 0)} -> {self.envs_after.get(env, 0)}" for env in sorted(self.envs_before)]
        return out


def prompt_key(example: Example) -> str:
    prompt = example["prompt"]
    return " ".join(prompt.split()) if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)


def drop_duplicates(examples: Sequence[Example]) -> Split:
    """Keep the first example of each prompt."""
    seen: set[str] = set()
    kept, dropped = [], []
    for example in examples:
        key = prompt_key(example)
        (dropped if key in seen else kept).append(example)
        seen.add(key)
    return kept, dropped


def drop_by_solve_rate(examples: Sequence[Example], *, solved: bool) -> Split:
    """Drop the examples whose ``solve_rate`` is 1 (``solved=True``) or 0 (``solved=False``)."""
    missing = sum("solve_rate" not in e for e in examples)
    if missing:
        raise UserError(f"{missing} examples lack 'solve_rate'; measure it (thinkgym prune --model M) or use sample-correct's output")
    hit = (lambda rate: rate >= 1.0) if solved else (lambda rate: rate <= 0.0)
    kept = [e for e in examples if not hit(float(e["solve_rate"]))]
    dropped = [e for e in examples if hit(float(e["solve_rate"]))]
    return kept, dropped


def cap_share(examples: Sequence[Example], key: str, max_share: float) -> Split:
    """Keep at most a ``max_share`` of the result from any one value of ``key`` (``env`` or
    ``difficulty``): the largest per-group cap ``c`` with ``c <= max_share * kept`` where every
    group keeps its first ``min(size, c)`` examples."""
    if not 0 < max_share <= 1:
        raise UserError(f"max share must be in (0, 1], got {max_share}")
    missing = sum(key not in e for e in examples)
    if missing:
        raise UserError(f"{missing} examples lack {key!r}; cannot cap its share")
    sizes = Counter(str(e[key]) for e in examples)
    cap = max(sizes.values(), default=0)
    while cap > 0 and cap > max_share * sum(min(n, cap) for n in sizes.values()) + 1e-9:
        cap -= 1
    if cap == 0 and examples:
        raise UserError(f"no {key} share of {max_share} is possible with {len(sizes)} distinct {key} value(s)")
    taken: Counter[str] = Counter()
    kept, dropped = [], []
    for example in examples:
        group = str(example[key])
        taken[group] += 1
        (kept if taken[group] <= cap else dropped).append(example)
    return kept, dropped


def prune(
    examples: Sequence[Example],
    *,
    dedup: bool = False,
    drop_solved: bool = False,
    drop_unsolved: bool = False,
    max_env_share: float | None = None,
    max_difficulty_share: float | None = None,
) -> tuple[list[Example], PruneReport]:
    """Apply the chosen rules (see the module docstring) and report drops per reason."""
    current = list(examples)
    report = PruneReport(before=len(current), envs_before=dict(Counter(str(e.get("env", "?")) for e in current)))
    rules: list[tuple[str, Any]] = []
    if dedup:
        rules.append(("duplicate", drop_duplicates))
    if drop_solved:
        rules.append(("always_solved", lambda xs: drop_by_solve_rate(xs, solved=True)))
    if drop_unsolved:
        rules.append(("never_solved", lambda xs: drop_by_solve_rate(xs, solved=False)))
    if max_env_share is not None:
        rules.append(("env_share", lambda xs: cap_share(xs, "env", max_env_share)))
    if max_difficulty_share is not None:
        rules.append(("difficulty_share", lambda xs: cap_share(xs, "difficulty", max_difficulty_share)))
    for reason, rule in rules:
        current, dropped = rule(current)
        report.dropped[reason] = len(dropped)
    report.after = len(current)
    report.envs_after = dict(Counter(str(e.get("env", "?")) for e in current))
    return current, report
