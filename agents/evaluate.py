"""Per-task evaluation of a policy on held-out problems.

Problems come from :func:`thinkgym.splits.problem_stream` with split ``"eval"``: seeds
from a stream that training never draws from, and only prompts whose hash puts them in the
held-out share, so no evaluation prompt is ever a training prompt. The same ``seed``, tasks and
``n`` give the same problems, so two policies evaluated alike are compared on the same set.

Each problem gets one greedy completion (accuracy is greedy pass@1) and, with ``samples`` K > 1,
K sampled ones (pass@k, maj@k). Completions are generated in batches through a
:class:`Sampler`; a multi-turn env is played until its episode ends: after each turn the env's
observation is the next user message, and only the unfinished episodes generate again.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

import thinkgym
from thinkgym.agents.metrics import summarize
from thinkgym.prompts import R1_SYSTEM_PROMPT, build_messages
from thinkgym.splits import problem_stream
from thinkgym.rewards.format import format_reward

Messages = list[dict[str, str]]
MAX_EPISODE_TURNS = 64
"""Hard stop for a multi-turn episode whose env never ends it (its own ``max_turns`` comes first)."""
SUCCESS_KEYS = ("success", "solved", "correct")
"""An episode succeeded when its last step's info sets the first of these keys present to true;
when it sets none, when its return is 1."""


class Sampler(Protocol):
    """Generates one completion per conversation: returns ``(text, number of new tokens)`` pairs."""

    def __call__(self, conversations: Sequence[Messages], *, greedy: bool, seed: int) -> list[tuple[str, int]]: ...


@dataclass(frozen=True)
class EvalTask:
    """One env of the evaluation set: its id, the levels to draw problems from, and env options."""

    env_id: str
    difficulties: tuple[int, ...] = (1,)
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        info = thinkgym.env_info(self.env_id)  # raises UnknownEnvError (a ValueError) with a suggestion
        if not self.difficulties:
            raise ValueError(f"{self.env_id}: no difficulty levels to evaluate")
        for level in self.difficulties:
            if not 1 <= level <= info.max_difficulty:
                raise ValueError(f"{self.env_id}: difficulty must be in 1..{info.max_difficulty}, got {level}")


def tasks_for(env_ids: Sequence[str], difficulty: int | str) -> list[EvalTask]:
    """Eval tasks for ``env_ids`` at one ``difficulty`` or at every level (``"all"``)."""
    tasks = []
    for env_id in env_ids:
        if difficulty == "all":
            levels = tuple(range(1, thinkgym.env_info(env_id).max_difficulty + 1))
        else:
            levels = (int(difficulty),)
        tasks.append(EvalTask(env_id, levels))
    return tasks


def tasks_from_config(config: Any, difficulty: int | str | None = None) -> list[EvalTask]:
    """Eval tasks for a training config's env mix: each env at its mix level and with its
    options, unless ``difficulty`` (a level or ``"all"``) overrides the levels."""
    tasks = []
    for spec in config.mix:
        if difficulty is None:
            levels: tuple[int, ...] = (spec.difficulty,)
        else:
            (levels,) = (t.difficulties for t in tasks_for([spec.id], difficulty))
        tasks.append(EvalTask(spec.id, levels, dict(spec.kwargs)))
    return tasks


@dataclass
class Episode:
    """One greedy or sampled attempt at one problem, played to its end."""

    env: Any
    own_env: bool
    env_id: str
    difficulty: int
    seed: int
    prompt: str
    answer: str
    kind: str
    sample: int
    messages: Messages
    completions: list[str] = field(default_factory=list)
    observations: list[str] = field(default_factory=list)
    tokens: int = 0
    reward: float = 0.0
    done: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    max_turns: int = MAX_EPISODE_TURNS

    def open(self, make_env: Callable[[int], Any]) -> Any:
        """Give a multi-turn episode its own env, reset to its problem; returns the env."""
        self.env = make_env(self.difficulty)
        _, info = self.env.reset(seed=self.seed)
        self.max_turns = min(MAX_EPISODE_TURNS, int(info.get("max_turns", MAX_EPISODE_TURNS)))
        return self.env

    def advance(self, text: str, num_tokens: int) -> None:
        """Step the env with one completion; a single-turn env is reset to this problem first."""
        if not self.own_env:
            self.env.reset(seed=self.seed)
        observation, reward, terminated, truncated, info = self.env.step(text)
        self.completions.append(text)
        self.tokens += int(num_tokens)
        self.reward += float(reward)
        self.info = info
        self.done = terminated or truncated or len(self.completions) >= self.max_turns
        self.observations.append(observation)
        if not self.done:
            self.messages = [*self.messages, {"role": "assistant", "content": text}, {"role": "user", "content": observation}]

    def record(self) -> dict[str, Any]:
        """The line of ``completions.jsonl`` for this episode (the input of :func:`summarize`)."""
        flag = next((self.info[k] for k in SUCCESS_KEYS if self.info.get(k) is not None), None)
        correct = bool(flag) if flag is not None else self.reward >= 1.0
        record = {
            "env_id": self.env_id,
            "difficulty": self.difficulty,
            "seed": self.seed,
            "kind": self.kind,
            "sample": self.sample,
            "prompt": self.prompt,
            "answer": self.answer,
            "completion": self.completions[0] if self.completions else "",
            "extracted": self.info.get("extracted"),
            "canonical": self.info.get("canonical"),
            "correct": correct,
            "reward": self.reward,
            "reason": self.info.get("reason", ""),
            "format": sum(map(format_reward, self.completions)) / max(1, len(self.completions)),
            "tokens": self.tokens,
            "turns": len(self.completions),
        }
        if self.own_env:  # multi-turn: the whole exchange, ending with the env's last reply
            turns = [{"role": "user", "content": self.prompt}]
            for completion, observation in zip(self.completions, self.observations):
                turns += [{"role": "assistant", "content": completion}, {"role": "user", "content": observation}]
            record["transcript"] = turns
        return record


def _split_count(n: int, parts: int) -> list[int]:
    return [n // parts + (i < n % parts) for i in range(parts)]


def _make_env(task: EvalTask, level: int) -> Any:
    return thinkgym.make(task.env_id, difficulty=level, disable_env_checker=True, **dict(task.kwargs))


def _episodes(task: EvalTask, n: int, samples: int, seed: int, system_prompt: str | None) -> tuple[list[Episode], list[Any]]:
    """The episodes of one task (n problems spread over its levels, greedy plus K samples each)
    and the envs opened for them. Single-turn episodes share one env per level; a multi-turn
    episode gets its own env when :meth:`Episode.open` is called."""
    episodes, envs = [], []
    multi_turn = thinkgym.env_info(task.env_id).multi_turn
    attempts = [("greedy", 0)] + ([("sample", i) for i in range(samples)] if samples > 1 else [])
    for level, count in zip(task.difficulties, _split_count(n, len(task.difficulties))):
        if count == 0:
            continue
        env = _make_env(task, level)
        envs.append(env)
        for ref in itertools.islice(problem_stream(env, task.env_id, "eval", seed, level), count):
            for kind, index in attempts:
                episodes.append(
                    Episode(
                        None if multi_turn else env, multi_turn, task.env_id, level, ref.seed, ref.prompt, ref.answer,
                        kind, index, build_messages(ref.prompt, system_prompt), max_turns=MAX_EPISODE_TURNS if multi_turn else 1,
                    )
                )
    return episodes, envs


def _batch_seed(seed: int, *counters: int) -> int:
    return int(np.random.SeedSequence([int(seed), 0x5A4D, *counters]).generate_state(1)[0])


def play(
    episodes: Sequence[Episode],
    sampler: Sampler,
    *,
    batch_size: int,
    seed: int,
    on_done: Callable[[], None] = lambda: None,
    on_batch: Callable[[str], None] = lambda _: None,
) -> None:
    """Generate and step until every episode is done, in batches of similar-length conversations.

    ``on_done`` is called as each episode ends, ``on_batch`` with a short description before
    each generation call (for a progress display)."""
    calls = itertools.count()
    for turn in itertools.count(1):
        active = [e for e in episodes if not e.done]
        if not active:
            break
        for greedy in (True, False):
            group = sorted((e for e in active if (e.kind == "greedy") == greedy), key=lambda e: sum(len(m["content"]) for m in e.messages))
            for start in range(0, len(group), batch_size):
                chunk = group[start : start + batch_size]
                on_batch(f"turn {turn}, batch {start // batch_size + 1}/{-(-len(group) // batch_size)} of {len(chunk)}")
                outputs = sampler([e.messages for e in chunk], greedy=greedy, seed=_batch_seed(seed, next(calls)))
                if len(outputs) != len(chunk):
                    raise RuntimeError(f"the sampler returned {len(outputs)} completions for {len(chunk)} conversations")
                for episode, (text, num_tokens) in zip(chunk, outputs):
                    episode.advance(text, num_tokens)
                    if episode.done:
                        on_done()


@dataclass
class EvalResult:
    results: dict[str, Any]
    records: list[dict[str, Any]]


def evaluate(
    sampler: Sampler,
    tasks: Sequence[EvalTask],
    *,
    model_name: str,
    n: int = 100,
    samples: int = 1,
    seed: int = 0,
    batch_size: int = 32,
    system_prompt: str | None = R1_SYSTEM_PROMPT,
    progress: bool = True,
) -> EvalResult:
    """Evaluate on ``n`` held-out problems per task; returns ``results.json``'s dict and the records."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len({t.env_id for t in tasks}) != len(tasks):
        raise ValueError("each env may appear only once in an evaluation")
    episodes: dict[str, list[Episode]] = {}
    envs: list[Any] = []
    try:
        for task in tasks:
            episodes[task.env_id], opened = _episodes(task, n, samples, seed, system_prompt)
            envs += opened
        everything = [e for task_episodes in episodes.values() for e in task_episodes]
        with tqdm(total=len(everything), desc="eval", unit="ep", disable=not progress, dynamic_ncols=True) as bar:
            # Single-turn problems of every task share batches; multi-turn episodes each hold an
            # env (maybe an engine process), so they are played in waves of one batch.
            single = [e for e in everything if not e.own_env]
            status = bar.set_postfix_str
            play(single, sampler, batch_size=batch_size, seed=_batch_seed(seed, 0), on_done=lambda: bar.update(1), on_batch=status)
            factories = {t.env_id: functools.partial(_make_env, t) for t in tasks}
            multi = [e for e in everything if e.own_env]
            for start in range(0, len(multi), batch_size):
                wave, opened = multi[start : start + batch_size], []
                try:
                    for e in wave:
                        opened.append(e.open(factories[e.env_id]))
                    play(wave, sampler, batch_size=batch_size, seed=_batch_seed(seed, 1, start), on_done=lambda: bar.update(1),
                         on_batch=lambda text: status(f"multi-turn {text}"))
                finally:
                    for env in opened:
                        env.close()
    finally:
        for env in envs:
            env.close()
    records = [e.record() for task_episodes in episodes.values() for e in task_episodes]
    task_results = {
        env_id: summarize([e.record() for e in task_episodes], multi_turn=thinkgym.env_info(env_id).multi_turn)
        for env_id, task_episodes in episodes.items()
    }
    accuracies = [t["accuracy"] for t in task_results.values()]
    results = {
        "model": model_name,
        "tasks": task_results,
        "mean_accuracy": sum(accuracies) / len(accuracies) if accuracies else 0.0,
    }
    return EvalResult(results, records)


def policy_sampler(
    model: Any,
    tokenizer: Any,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    response_prefix: str = "",
    autocast_dtype: Any = None,
) -> Sampler:
    """A :class:`Sampler` over a loaded policy, with batched KV-cache generation.

    ``response_prefix`` (a training config's, e.g. ``"<think>\\n"``) opens every assistant turn:
    it is appended to the prompt tokens and put back in front of the completion text, as in
    training rollouts.
    """
    from thinkgym.agents.generation import encode_chat, generate_ids

    prefix = list(tokenizer(response_prefix, add_special_tokens=False)["input_ids"]) if response_prefix else []

    def sample(conversations: Sequence[Messages], *, greedy: bool, seed: int) -> list[tuple[str, int]]:
        prompts = [encode_chat(tokenizer, c) + prefix for c in conversations]
        completions = generate_ids(
            model, tokenizer, prompts, max_new_tokens=max_new_tokens, temperature=temperature,
            top_p=top_p, greedy=greedy, seed=seed, autocast_dtype=autocast_dtype,
        )
        return [(response_prefix + c.text, c.num_tokens) for c in completions]

    return sample
