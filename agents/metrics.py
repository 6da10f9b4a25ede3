"""Evaluation metrics: small pure functions over scored completions.

* ``pass_at_k(n, c, k)``: the unbiased estimator of Chen et al. (2021), the probability that at
  least one of ``k`` answers drawn without replacement from ``n`` samples, ``c`` of them correct,
  is correct: ``1 - C(n - c, k) / C(n, k)``.
* ``majority_correct``: maj@k, the answer given most often (compared in the verifier's
  canonical form) decides; ties go to the answer seen first.
* ``wilson_interval``: the Wilson score 95% interval of a proportion, sound at 0 and at n.
* ``difference_interval``: Newcombe's hybrid score interval for the difference of two
  proportions, built from the two Wilson intervals; ``paired_difference_interval`` the same for
  two sets of outcomes on the same problems (before/after training).
* ``summarize``: the per-task entry of ``results.json`` from the scored records of one task.

A record (one line of ``completions.jsonl``) is a dict with ``difficulty``, ``seed``, ``kind``
(``"greedy"`` or ``"sample"``), ``correct`` (bool), ``reward`` (the episode return),
``canonical`` (the verifier's canonical answer or None), ``format`` (the R1 format reward of the
first turn, 0 or 1) and ``tokens`` (completion tokens, all turns).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Z95 = 1.959963984540054
"""The two-sided 95% quantile of the standard normal distribution."""


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct (``1 <= k <= n``)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # 1 - C(n-c, k) / C(n, k) as a product: no huge binomials.
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def pass_k_values(samples: int) -> list[int]:
    """The k reported for ``samples`` draws per problem: 1, the powers of two below, and ``samples``."""
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64) if k < samples]
    return ks + [samples]


def majority_correct(canonicals: Sequence[str | None], correct: Sequence[bool]) -> bool:
    """maj@k: whether the most frequent readable answer is right (False when none is readable)."""
    if len(canonicals) != len(correct):
        raise ValueError("canonicals and correct must have the same length")
    counts = Counter(c for c in canonicals if c is not None)
    if not counts:
        return False
    top = max(counts.values())
    winner = next(c for c in canonicals if c is not None and counts[c] == top)
    return any(ok for c, ok in zip(canonicals, correct) if c == winner)


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``successes / n``; (0, 1) when ``n`` is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, not 1 - 1e-16
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def difference_interval(p1: float, ci1: Sequence[float], p2: float, ci2: Sequence[float]) -> tuple[float, float]:
    """Newcombe's 95% interval for ``p2 - p1`` from each proportion's Wilson interval.

    It treats the two samples as independent, so for before/after runs on the same problems
    (positively correlated) it is conservative: wider than a paired interval.
    """
    (l1, u1), (l2, u2) = ci1, ci2
    d = p2 - p1
    return d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def paired_difference_interval(before: Sequence[bool], after: Sequence[bool]) -> tuple[float, float]:
    """Newcombe's (1998, method 10) 95% interval for ``mean(after) - mean(before)`` when both
    are outcomes on the same problems, in the same order: it uses the correlation of the pairs,
    so it is narrower than :func:`difference_interval` when the outcomes agree."""
    if len(before) != len(after):
        raise ValueError(f"paired outcomes need equal lengths, got {len(before)} and {len(after)}")
    n = len(before)
    both = sum(1 for b, a in zip(before, after) if a and b)
    lost = sum(1 for b, a in zip(before, after) if b and not a)
    gained = sum(1 for b, a in zip(before, after) if a and not b)
    neither = n - both - lost - gained
    p_after, p_before = (both + gained) / max(n, 1), (both + lost) / max(n, 1)
    (la, ua), (lb, ub) = wilson_interval(both + gained, n), wilson_interval(both + lost, n)
    denom = (both + gained) * (lost + neither) * (both + lost) * (gained + neither)
    # Newcombe's corrected phi: 0 for a small positive association (at most n/2), then shifted.
    cross = both * neither - gained * lost
    cross = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = cross / math.sqrt(denom) if denom else 0.0
    d = p_after - p_before
    below = math.sqrt(max(0.0, (p_after - la) ** 2 - 2 * phi * (p_after - la) * (ub - p_before) + (ub - p_before) ** 2))
    above = math.sqrt(max(0.0, (ua - p_after) ** 2 - 2 * phi * (ua - p_after) * (p_before - lb) + (p_before - lb) ** 2))
    return max(-1.0, d - below), min(1.0, d + above)


def mean_paired_difference_interval(pairs: Sequence[tuple[Sequence[bool], Sequence[bool]]], z: float = Z95) -> tuple[float, float, float]:
    """``(mean, lo, hi)``: the mean over tasks of ``mean(after) - mean(before)``, each task's
    outcomes paired on the same problems, with a normal 95% interval. The tasks are independent
    samples, so the variance of the mean is ``sum(s_t^2 / n_t) / T^2``, with ``s_t^2`` the sample
    variance of task t's per-problem differences (each -1, 0 or +1)."""
    if not pairs:
        raise ValueError("need at least one task")
    means, variance = [], 0.0
    for before, after in pairs:
        if len(before) != len(after) or not before:
            raise ValueError(f"paired outcomes need equal, non-zero lengths, got {len(before)} and {len(after)}")
        diffs = [float(a) - float(b) for b, a in zip(before, after)]
        n = len(diffs)
        mean = sum(diffs) / n
        means.append(mean)
        variance += (sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 1.0) / n
    t = len(pairs)
    centre = sum(means) / t
    half = z * math.sqrt(variance) / t
    return centre, max(-1.0, centre - half), min(1.0, centre + half)


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _group_problems(records: Iterable[Mapping[str, Any]]) -> dict[tuple[int, int], dict[str, list]]:
    problems: dict[tuple[int, int], dict[str, list]] = defaultdict(lambda: {"greedy": [], "sample": []})
    for r in records:
        problems[(int(r["difficulty"]), int(r["seed"]))][r["kind"]].append(r)
    return problems


def _summarize_problems(problems: Mapping[tuple[int, int], Mapping[str, list]], multi_turn: bool) -> dict[str, Any]:
    greedy = [p["greedy"][0] for p in problems.values() if p["greedy"]]
    n = len(greedy)
    hits = sum(bool(r["correct"]) for r in greedy)
    entry: dict[str, Any] = {
        "accuracy": hits / n if n else 0.0,
        "n": n,
        "ci95": list(wilson_interval(hits, n)),
        "mean_reward": _mean(float(r["reward"]) for r in greedy),
        "format_rate": _mean(float(r["format"]) for r in greedy),
        "mean_completion_tokens": _mean(float(r["tokens"]) for r in greedy),
    }
    sampled = [p["sample"] for p in problems.values() if p["sample"]]
    samples = min((len(s) for s in sampled), default=0)
    if samples > 1:
        entry["pass@k"] = {
            str(k): _mean(pass_at_k(samples, sum(bool(r["correct"]) for r in s[:samples]), k) for s in sampled)
            for k in pass_k_values(samples)
        }
        if not multi_turn and any(r["canonical"] is not None for s in sampled for r in s):
            entry["maj@k"] = {
                str(samples): _mean(
                    float(majority_correct([r["canonical"] for r in s[:samples]], [bool(r["correct"]) for r in s[:samples]]))
                    for s in sampled
                )
            }
        else:
            entry["maj@k"] = {}
    else:
        entry["pass@k"] = {"1": entry["accuracy"]}
        entry["maj@k"] = {}
    if multi_turn:
        entry["mean_return"] = entry["mean_reward"]
        entry["success_rate"] = entry["accuracy"]
        entry["mean_turns"] = _mean(float(r.get("turns", 1)) for r in greedy)
    return entry


def summarize(records: Iterable[Mapping[str, Any]], *, multi_turn: bool = False) -> dict[str, Any]:
    """The ``results.json`` entry of one task from its records (see the module docstring).

    ``accuracy`` is greedy pass@1 (for multi-turn envs: the success rate), ``ci95`` its Wilson
    interval; ``pass@k`` comes from the sampled answers when there are at least two per problem
    (else ``{"1": accuracy}``); ``by_difficulty`` holds the same metrics per level.
    """
    problems = _group_problems(records)
    entry = _summarize_problems(problems, multi_turn)
    entry["multi_turn"] = multi_turn
    levels = sorted({d for d, _ in problems})
    entry["by_difficulty"] = {
        str(level): _summarize_problems({k: v for k, v in problems.items() if k[0] == level}, multi_turn)
        for level in levels
    }
    return entry
