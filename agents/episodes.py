"""The one episode engine: training rollouts, evaluation, rejection sampling and the recipe all
play episodes here, and all read success from one key.

An :class:`Episode` is one attempt at one problem (a :class:`~thinkgym.splits.ProblemRef`),
played to its end: a single-turn env ends after one step; a multi-turn env's observation
becomes the next user message until the env ends the episode or ``max_turns`` run out.
:func:`play` generates each turn of every unfinished episode in batches through a
:class:`Policy` and steps the envs. Success is ``info["correct"]`` of the episode's last step,
which every thinkgym env sets (``SingleTurnEnv.score``; ``MultiTurnEnv.step`` when the episode
ends solved within the env's budget).

A policy is a plain chat :class:`Sampler` (conversations in, texts out: :class:`ChatPolicy`),
or, for training, one that also keeps each episode's token ids and loss mask
(:class:`thinkgym.agents.rollout.TokenPolicy`); the loop is the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from thinkgym.errors import UserError
from thinkgym.splits import ProblemRef

Messages = list[dict[str, str]]


@dataclass
class Reply:
    """One generated turn."""

    text: str
    num_tokens: int
    truncated: bool = False
    """True when the token budget ran out before a stop token."""
    stop_string: str | None = None
    """The stop string that ended the turn (``text`` ends with it), if one did."""


def first_stop(text: str, stop_strings: Sequence[str]) -> tuple[int, str] | None:
    """Where ``text`` should end for ``stop_strings``: ``(end, stop)`` with ``text[:end]`` ending
    at the earliest-ending occurrence of ``stop``, or None when none occurs."""
    best: tuple[int, str] | None = None
    for stop in stop_strings:
        at = text.find(stop)
        if at != -1 and (best is None or at + len(stop) < best[0]):
            best = (at + len(stop), stop)
    return best


def check_stop_strings(stop_strings: Sequence[str]) -> tuple[str, ...]:
    """``stop_strings`` as a tuple, or a :class:`UserError` for an empty or non-text one."""
    if isinstance(stop_strings, str):
        raise UserError(f"stop strings must be a list of strings, got the string {stop_strings!r}")
    stops = tuple(stop_strings)
    for stop in stops:
        if not isinstance(stop, str) or not stop:
            raise UserError(f"a stop string must be non-empty text, got {stop!r}")
    return stops


class Sampler(Protocol):
    """Generates one completion per conversation: returns ``(text, number of new tokens)`` pairs."""

    def __call__(self, conversations: Sequence[Messages], *, greedy: bool, seed: int) -> list[tuple[str, int]]: ...


class Policy(Protocol):
    """What :func:`play` generates with."""

    def reply(self, episodes: Sequence[Episode], *, greedy: bool, seed: int) -> list[Reply]:
        """One reply per episode, to its conversation so far."""
        ...

    def observe(self, episode: Episode, reply: Reply, observation: str) -> None:
        """Called when an episode goes on after ``reply``, before ``observation`` joins its messages."""
        ...


class ChatPolicy:
    """A :class:`Policy` over a chat :class:`Sampler` (a loaded model, or a scripted fake)."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def reply(self, episodes: Sequence[Episode], *, greedy: bool, seed: int) -> list[Reply]:
        outputs = self.sampler([e.messages for e in episodes], greedy=greedy, seed=seed)
        if len(outputs) != len(episodes):
            raise RuntimeError(f"the sampler returned {len(outputs)} completions for {len(episodes)} conversations")
        return [Reply(text, int(num_tokens)) for text, num_tokens in outputs]

    def observe(self, episode: Episode, reply: Reply, observation: str) -> None:
        pass


@dataclass
class Episode:
    """One greedy or sampled attempt at one problem, and what each of its steps returned."""

    problem: ProblemRef
    messages: Messages
    env: Any = None
    own_env: bool = True
    """True: ``env`` belongs to this episode and is stepped as it is. False: a single-turn env
    shared by several episodes, reset to this problem before the step."""
    max_turns: int = 1
    multi_turn: bool = False
    kind: str = "sample"
    """``"greedy"`` or ``"sample"``."""
    sample: int = 0
    """Index of the sample among a problem's attempts."""
    group: int = 0
    """GRPO group (episodes of one group share the problem)."""
    token_ids: list[int] = field(default_factory=list)
    """Training: prompt, model and env tokens of the whole conversation (kept by a token policy)."""
    mask: list[int] = field(default_factory=list)
    """Training: 1 on the model's own tokens (trained), 0 on prompt and env text."""
    texts: list[str] = field(default_factory=list)
    """The model's completion of each turn."""
    observations: list[str] = field(default_factory=list)
    turn_tokens: list[int] = field(default_factory=list)
    formats: list[float] = field(default_factory=list)
    """R1 format reward of each turn (reported by the env, not part of its reward)."""
    answered: list[float] = field(default_factory=list)
    """1 for each turn whose answer block the env could read."""
    correctness: float = 0.0
    """The episode return: the sum of the env's rewards."""
    correct: bool = False
    """Success: ``info["correct"]`` of the last step."""
    truncated: bool = False
    """Some turn ran out of tokens."""
    done: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    """``info`` of the last step."""
    reward: float = 0.0
    """Training: the shaped reward (correctness plus weighted shaping terms)."""

    env_id = property(lambda self: self.problem.env_id)
    difficulty = property(lambda self: self.problem.difficulty)
    seed = property(lambda self: self.problem.seed)
    prompt = property(lambda self: self.problem.prompt)
    answer = property(lambda self: self.problem.answer)

    @property
    def success(self) -> bool:
        return self.correct

    @property
    def tokens(self) -> int:
        return sum(self.turn_tokens)

    @property
    def completion_tokens(self) -> int:
        """Training: the tokens that are trained (mask 1)."""
        return sum(self.mask)

    def start(self, env: Any) -> Any:
        """Give the episode its own ``env``, reset to its problem (turns capped by the env's
        ``max_turns``); returns the env."""
        self.env, self.own_env = env, True
        _, info = env.reset(seed=self.seed)
        self.max_turns = min(self.max_turns, int(info.get("max_turns", self.max_turns)))
        return env

    def open(self, make_env: Callable[[int], Any]) -> Any:
        """:meth:`start` with a new env from ``make_env(difficulty)``."""
        return self.start(make_env(self.difficulty))

    def advance(self, reply: Reply) -> str:
        """Step the env with one reply; returns the observation."""
        if not self.own_env:
            self.env.reset(seed=self.problem.seed)
        observation, reward, terminated, truncated, info = self.env.step(reply.text)
        self.texts.append(reply.text)
        self.observations.append(observation)
        self.turn_tokens.append(int(reply.num_tokens))
        self.truncated = self.truncated or reply.truncated
        self.correctness += float(reward)
        self.formats.append(float(info.get("reward_components", {}).get("format", 0.0)))
        self.answered.append(float(info.get("extracted") is not None))
        self.correct = bool(info.get("correct", False))
        self.info = info
        self.done = terminated or truncated or len(self.texts) >= self.max_turns
        return observation

    def record(self) -> dict[str, Any]:
        """The line of an evaluation's ``completions.jsonl`` (the input of :func:`~thinkgym.agents.metrics.summarize`)."""
        record = {
            "env_id": self.env_id,
            "difficulty": self.difficulty,
            "seed": self.seed,
            "kind": self.kind,
            "sample": self.sample,
            "prompt": self.prompt,
            "answer": self.answer,
            "completion": self.texts[0] if self.texts else "",
            "extracted": self.info.get("extracted"),
            "canonical": self.info.get("canonical"),
            "correct": self.correct,
            "reward": self.correctness,
            "reason": self.info.get("reason", ""),
            "format": sum(self.formats) / max(1, len(self.formats)),
            "tokens": self.tokens,
            "turns": len(self.texts),
        }
        if self.multi_turn:  # multi-turn: the whole exchange, ending with the env's last reply
            turns = [{"role": "user", "content": self.prompt}]
            for completion, observation in zip(self.texts, self.observations):
                turns += [{"role": "assistant", "content": completion}, {"role": "user", "content": observation}]
            record["transcript"] = turns
        return record


def batch_seed(seed: int, *counters: int) -> int:
    """The sampling seed of one generation call, mixed from the run's seed and counters."""
    return int(np.random.SeedSequence([int(seed), 0x5A4D, *counters]).generate_state(1)[0])


def play(
    episodes: Sequence[Episode],
    policy: Policy | Sampler,
    *,
    batch_size: int,
    seed: int,
    on_done: Callable[[], None] = lambda: None,
    on_batch: Callable[[str], None] = lambda _: None,
) -> None:
    """Generate and step until every episode is done, in batches of similar-length conversations
    (greedy and sampled attempts apart). ``policy`` is a :class:`Policy` or a chat
    :class:`Sampler`. ``on_done`` is called as each episode ends, ``on_batch`` with a short
    description before each generation call (for a progress display)."""
    if not hasattr(policy, "reply"):
        policy = ChatPolicy(policy)
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
                replies = policy.reply(chunk, greedy=greedy, seed=batch_seed(seed, next(calls)))
                if len(replies) != len(chunk):
                    raise RuntimeError(f"the policy returned {len(replies)} replies for {len(chunk)} episodes")
                for episode, reply in zip(chunk, replies):
                    observation = episode.advance(reply)
                    if episode.done:
                        on_done()
                        continue
                    policy.observe(episode, reply, observation)
                    episode.messages = [*episode.messages, {"role": "assistant", "content": reply.text}, {"role": "user", "content": observation}]
