"""Rejection sampling: K completions per problem, keep those the env verifies.

The R1 recipe's third stage: the RL policy answers train-split problems K times each; a
completion is kept when the episode engine (:func:`thinkgym.agents.episodes.play`, the loop
training and evaluation use) finds it correct: stepping an env reset with the problem's seed
with it sets ``info["correct"]``. Kept completions become ``{prompt, completion}`` SFT examples, with
metadata: ``env``, ``difficulty``, ``seed``, ``answer``, ``tokens`` and ``solve_rate`` (the
problem's share of correct samples, which :mod:`thinkgym.agents.pruning` can prune on).

Sampling goes through a :class:`thinkgym.agents.episodes.Sampler` (batched KV-cache generation
over a policy, or a scripted fake in tests): one call per batch of conversations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import thinkgym
from thinkgym.agents.episodes import Episode, Sampler, play
from thinkgym.agents.sft_data import Example
from thinkgym.prompts import build_messages
from thinkgym.splits import ProblemRef
from thinkgym.envs.registry import env_info
from thinkgym.errors import UserError


@dataclass
class Scored:
    """The K sampled completions of one problem and whether each was verified correct."""

    problem: ProblemRef
    texts: list[str] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)

    @property
    def solve_rate(self) -> float:
        return sum(self.correct) / len(self.correct) if self.correct else 0.0


def sample_and_verify(
    sampler: Sampler,
    problems: Sequence[ProblemRef],
    *,
    k: int,
    system_prompt: str | None,
    batch_size: int = 32,
    seed: int = 0,
    env_kwargs: dict[str, dict[str, Any]] | None = None,
) -> list[Scored]:
    """Sample ``k`` completions per problem (batched) and verify each with its env."""
    if k < 1:
        raise UserError(f"k must be >= 1, got {k}")
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1, got {batch_size}")
    multi = sorted({p.env_id for p in problems if env_info(p.env_id).multi_turn})
    if multi:
        raise UserError(f"rejection sampling supports single-turn tasks only; got {', '.join(multi)}")
    envs: dict[tuple[str, int], Any] = {}
    try:
        for p in problems:
            key = (p.env_id, p.difficulty)
            if key not in envs:
                envs[key] = thinkgym.make(p.env_id, difficulty=p.difficulty, **(env_kwargs or {}).get(p.env_id, {}))
        episodes = [
            Episode(p, build_messages(p.prompt, system_prompt), env=envs[(p.env_id, p.difficulty)], own_env=False, sample=i)
            for p in problems
            for i in range(k)
        ]
        play(episodes, sampler, batch_size=batch_size, seed=seed)
    finally:
        for env in envs.values():
            env.close()
    scored = [Scored(p) for p in problems]
    for index, episode in enumerate(episodes):
        item = scored[index // k]
        item.texts.append(episode.texts[0])
        item.tokens.append(episode.tokens)
        item.correct.append(episode.correct)
    return scored


def correct_examples(scored: Sequence[Scored], *, shortest: bool = False) -> list[Example]:
    """SFT examples from the verified completions: all of them, or with ``shortest`` the one
    with the fewest tokens per problem (the earliest on a tie). Duplicate texts of a problem are
    kept once."""
    examples = []
    for item in scored:
        seen: set[str] = set()
        hits = [(tokens, text) for text, tokens, ok in zip(item.texts, item.tokens, item.correct) if ok]
        if shortest and hits:
            hits = [min(hits, key=lambda hit: hit[0])]
        for tokens, text in hits:
            if text in seen:
                continue
            seen.add(text)
            p = item.problem
            examples.append(
                {"prompt": p.prompt, "completion": text, "env": p.env_id, "difficulty": p.difficulty, "seed": p.seed,
                 "answer": p.answer, "tokens": tokens, "solve_rate": item.solve_rate}
            )
    return examples


def summary(scored: Sequence[Scored], kept: int) -> dict[str, Any]:
    """Counts for the report: problems, samples, correct samples, problems solved at least once
    / every time / never, examples kept."""
    samples = sum(len(s.correct) for s in scored)
    return {
        "problems": len(scored),
        "samples": samples,
        "correct_samples": sum(sum(s.correct) for s in scored),
        "solved_problems": sum(any(s.correct) for s in scored),
        "always_solved": sum(bool(s.correct) and all(s.correct) for s in scored),
        "never_solved": sum(not any(s.correct) for s in scored),
        "kept_examples": kept,
    }


def measure_solve_rates(sampler: Sampler, examples: Sequence[Example], *, k: int, system_prompt: str | None, batch_size: int = 32, seed: int = 0) -> list[Example]:
    """Copies of ``examples`` with ``solve_rate``: the share of ``k`` policy samples its env
    verifies, measured once per distinct problem. Examples need ``env``, ``difficulty`` and ``seed``."""
    missing = sum(any(key not in e for key in ("env", "difficulty", "seed")) for e in examples)
    if missing:
        raise UserError(f"{missing} examples lack env/difficulty/seed; cannot pose their problems again")
    keys = sorted({(e["env"], int(e["difficulty"]), int(e["seed"])) for e in examples})
    prompts = {(e["env"], int(e["difficulty"]), int(e["seed"])): e["prompt"] for e in examples}
    refs = [ProblemRef(env, seed_, level, prompts[(env, level, seed_)], "") for env, level, seed_ in keys]
    rates = {key: s.solve_rate for key, s in zip(keys, sample_and_verify(sampler, refs, k=k, system_prompt=system_prompt, batch_size=batch_size, seed=seed))}
    return [{**e, "solve_rate": rates[(e["env"], int(e["difficulty"]), int(e["seed"]))]} for e in examples]
