"""SFT examples: R1 completions written by the task solvers, or read from a JSONL file.

An example is a dict ``{"prompt", "completion"}`` plus optional metadata (``env``,
``difficulty``, ``seed``, ``answer``, ``solve_rate``). ``prompt`` is the problem text (the user
turn; the system prompt is added when it is rendered) or a list of chat messages;
``completion`` is the assistant's text, ``<think>...</think><answer>...</answer>``.

Solver examples come only from the ``"train"`` split (:func:`thinkgym.splits.problem_stream`),
and each one is checked before use: stepping its env with the completion must earn reward 1.0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


import thinkgym
from thinkgym.mix import EnvSpec, draw_problems
from thinkgym.splits import ProblemRef
from thinkgym.envs.registry import env_info
from thinkgym.errors import DataFileError, UserError

Example = dict[str, Any]
_SFT_TAG = 0x5F7  # SFT's draws, apart from GRPO's (rank, step, round) keys


class NoExplainError(UserError):
    """An env in the mix cannot write worked solutions (multi-turn, or no ``explain``)."""


def r1_completion(trace: str, answer: str) -> str:
    """The R1 completion for a solver trace: ``<think>\\ntrace\\n</think>\\n<answer>answer</answer>``."""
    return f"<think>\n{trace.strip()}\n</think>\n<answer>{answer}</answer>"


def check_explainable(mix: Sequence[EnvSpec]) -> None:
    """Raise :class:`NoExplainError` naming every env of ``mix`` without solver traces."""
    bad = []
    for spec in mix:
        info = env_info(spec.id)
        env = thinkgym.make(spec.id)
        if info.multi_turn or getattr(type(env.unwrapped), "task_explain", None) is None:
            bad.append(spec.id)
        env.close()
    if bad:
        raise NoExplainError(f"no solver traces for {', '.join(bad)} (multi-turn or no explain()); use a JSONL data file for them")


def train_problems(mix: Sequence[EnvSpec], count: int, seed: int, *, stream: int = 0) -> list[ProblemRef]:
    """``count`` problems from the train split of ``mix``, envs drawn by weight; a pure function
    of ``(mix, count, seed, stream)`` (:func:`thinkgym.mix.draw_problems` keyed by ``stream``)."""
    return draw_problems(list(mix), count, split="train", seed=seed, key=(_SFT_TAG, stream))


def solver_examples(mix: Sequence[EnvSpec], count: int, seed: int, *, stream: int = 0) -> list[Example]:
    """``count`` verified solver examples from the train split of ``mix`` (see :func:`train_problems`);
    a training step uses ``stream=step``."""
    check_explainable(mix)
    specs = {spec.id: spec for spec in mix}
    envs: dict[str, Any] = {}
    examples = []
    try:
        for ref in train_problems(mix, count, seed, stream=stream):
            spec = specs[ref.env_id]
            env = envs.get(spec.id) or envs.setdefault(spec.id, thinkgym.make(spec.id, difficulty=spec.difficulty, **spec.kwargs))
            env.reset(seed=ref.seed)
            completion = r1_completion(env.unwrapped.explain(), ref.answer)
            _, reward, _, _, info = env.step(completion)
            if reward != 1.0:  # a broken trace must never become training data
                raise RuntimeError(f"{spec.id} seed {ref.seed}: the solver's completion scores {reward} ({info.get('reason')})")
            examples.append({"prompt": ref.prompt, "completion": completion, "env": spec.id, "difficulty": spec.difficulty, "seed": ref.seed, "answer": ref.answer})
    finally:
        for env in envs.values():
            env.close()
    return examples


def read_jsonl(path: str | Path) -> list[Example]:
    """Examples from a JSONL file; each line needs ``prompt`` (text or chat messages) and ``completion``."""
    examples = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataFileError(f"{path}:{number}: not JSON: {err}") from None
            problem = _check_example(row)
            if problem:
                raise DataFileError(f"{path}:{number}: {problem}")
            examples.append(row)
    if not examples:
        raise DataFileError(f"{path}: no examples")
    return examples


def write_jsonl(path: str | Path, examples: Iterable[Example]) -> int:
    """Write examples atomically (temporary file, then rename); returns how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    with open(tmp, "w") as handle:
        for example in examples:
            handle.write(json.dumps(example) + "\n")
            count += 1
    tmp.replace(path)
    return count


def _check_example(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "expected an object with 'prompt' and 'completion'"
    if not isinstance(row.get("completion"), str) or not row["completion"]:
        return "'completion' must be a non-empty string"
    prompt = row.get("prompt")
    if isinstance(prompt, str) and prompt:
        return None
    if isinstance(prompt, list) and prompt and all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in prompt):
        return None
    return "'prompt' must be a non-empty string or a list of {role, content} messages"
