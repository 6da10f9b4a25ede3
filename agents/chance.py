"""Chance levels: how well an answer that ignores the problem scores on a held-out set.

An accuracy means little beside nothing: on a two-way answer a coin scores 50%, and on a task
whose reference answer is often the same (a shortest distance of 2) a constant scores that share.
:func:`chance_level` measures, without any model, on exactly the problems an evaluation poses
(:func:`thinkgym.agents.evaluate.eval_problems`):

- ``top_reference_share``: the share of the most frequent reference answer;
- ``best_constant_accuracy``: the best score of one constant answer, each of the most frequent
  distinct reference answers (``MAX_CANDIDATES``) submitted to every problem and scored by the
  env's own verifier (which also credits a constant that is *a* correct answer of other
  problems, such as ``none`` or an alternative path);
- ``chance``: the larger of the two.

A task whose chance is ``COUNTED_BELOW`` (20%) or more is shown in reports but does not count
toward a mean gain: a model that learns the frequent answer has learned nothing about the task.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

COUNTED_BELOW = 0.20
"""Tasks with a chance level at or above this do not count toward mean gains."""
MAX_CANDIDATES = 32
"""Distinct reference answers tried as constants (the most frequent first)."""


def chance_level(task: Any, n: int, seed: int, *, response_prefix: str = "<think>\n") -> dict[str, Any]:
    """The chance level of one evaluation task (a :class:`~thinkgym.agents.evaluate.EvalTask`)
    on its ``n`` held-out problems of stream ``seed``; single-turn tasks only."""
    from thinkgym.agents.evaluate import eval_problems

    per_level = eval_problems(task, n, seed)
    try:
        refs = [ref for _, _, level_refs in per_level for ref in level_refs]
        if not refs:
            raise ValueError(f"{task.env_id}: no held-out problems")
        counts = collections.Counter(ref.answer for ref in refs)
        top_answer, top_count = counts.most_common(1)[0]
        best, best_answer = -1, None
        for answer, _ in counts.most_common(MAX_CANDIDATES):
            completion = f"{response_prefix}</think>\n<answer>{answer}</answer>"
            hits = 0
            for env, _, level_refs in per_level:
                for ref in level_refs:
                    env.reset(seed=ref.seed)
                    hits += bool(env.step(completion)[4].get("correct"))
            if hits > best:
                best, best_answer = hits, answer
    finally:
        for env, _, _ in per_level:
            env.close()
    return {
        "chance": max(top_count, best) / len(refs),
        "top_reference_share": top_count / len(refs),
        "top_reference": top_answer,
        "best_constant_accuracy": best / len(refs),
        "best_constant": best_answer,
        "distinct_references": len(counts),
        "n": len(refs),
        "seeds": [ref.seed for ref in refs],
        "counted": max(top_count, best) / len(refs) < COUNTED_BELOW,
    }


def chance_levels(tasks: Sequence[Any], n: int, seed: int, *, response_prefix: str = "<think>\n") -> dict[str, dict[str, Any]]:
    """:func:`chance_level` of every task, by env id."""
    return {task.env_id: chance_level(task, n, seed, response_prefix=response_prefix) for task in tasks}
