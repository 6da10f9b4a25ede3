"""Rollouts through the Gymnasium API: groups of G episodes on the same problem.

The data stream is a pure function of ``(seed, rank, step, round)``: which env each group comes
from, and which problem, are drawn from generators seeded with those numbers (mixed by
``SeedSequence``, never added), and problems come only from the ``"train"`` split of
:func:`thinkgym.splits.problem_stream`. So a resumed run sees exactly the data it would
have seen, and two processes never share problems.

A group is G env instances reset with the same seed. All running episodes of a round generate
together, in one batch. A multi-turn episode continues with the env's observation as the next
user turn; its token sequence interleaves the model's tokens (``mask`` 1: trained) and the
env's text in the chat template (``mask`` 0: never trained).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import thinkgym
from thinkgym.agents.config import EnvSpec, TrainConfig
from thinkgym.agents.generation import encode_chat, generate_ids
from thinkgym.prompts import build_messages
from thinkgym.splits import ProblemRef, problem_stream
from thinkgym.rewards.format import overlong_penalty


def mix_seed(*numbers: int) -> int:
    """A 63-bit seed mixed from ``numbers`` with ``SeedSequence``."""
    state = np.random.SeedSequence([int(n) for n in numbers]).generate_state(2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


@dataclass
class Episode:
    """One completion (or conversation) of a group, and how it was scored."""

    env_id: str
    group: int
    problem: ProblemRef
    messages: list[dict[str, str]]
    token_ids: list[int]
    mask: list[int]
    """1 on the model's own tokens (trained), 0 on prompt and env text."""
    env: Any = None
    done: bool = False
    texts: list[str] = field(default_factory=list)
    correctness: float = 0.0
    formats: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    overlongs: list[float] = field(default_factory=list)
    truncated: bool = False
    success: bool = False
    reward: float = 0.0

    @property
    def completion_tokens(self) -> int:
        return sum(self.mask)

    def components(self) -> dict[str, float]:
        return {
            "correctness": self.correctness,
            "format": float(np.mean(self.formats)) if self.formats else 0.0,
            "answer": float(np.mean(self.answered)) if self.answered else 0.0,
            "overlong": float(np.mean(self.overlongs)) if self.overlongs else 0.0,
        }


class EnvPool:
    """Env instances, made once per (env id, difficulty) and reused across steps: as many as one
    round's episodes need (each episode owns its instance), plus one that draws problems."""

    def __init__(self, mix: Sequence[EnvSpec], group_size: int) -> None:
        self.specs = {spec.id: spec for spec in mix}
        self.group_size = group_size
        self._envs: dict[tuple[str, int], list[Any]] = {}
        self._probes: dict[tuple[str, int], Any] = {}

    def _make(self, env_id: str, difficulty: int) -> Any:
        return thinkgym.make(env_id, difficulty=difficulty, **self.specs[env_id].kwargs)

    def instances(self, env_id: str, difficulty: int, count: int) -> list[Any]:
        """The first ``count`` instances for (env id, difficulty), made on demand."""
        envs = self._envs.setdefault((env_id, difficulty), [])
        while len(envs) < count:
            envs.append(self._make(env_id, difficulty))
        return envs[:count]

    def probe(self, env_id: str, difficulty: int) -> Any:
        """The instance that draws problems (never stepped)."""
        key = (env_id, difficulty)
        if key not in self._probes:
            self._probes[key] = self._make(env_id, difficulty)
        return self._probes[key]


def draw_problems(
    config: TrainConfig, pool: EnvPool, levels: dict[str, int], rank: int, step: int, round_: int
) -> list[ProblemRef]:
    """``config.prompts_per_step`` train-split problems for one round of one step on one process."""
    rng = np.random.default_rng([config.seed, rank, step, round_])
    weights = np.array([spec.weight for spec in config.mix])
    picks = rng.choice(len(config.mix), size=config.prompts_per_step, p=weights / weights.sum())
    problems: list[ProblemRef | None] = [None] * len(picks)
    for env_index in sorted(set(picks.tolist())):
        spec = config.mix[env_index]
        slots = [i for i, pick in enumerate(picks) if pick == env_index]
        level = levels[spec.id]
        stream = problem_stream(
            pool.probe(spec.id, level), spec.id, "train", mix_seed(config.seed, rank, step, round_, env_index), level
        )
        for slot in slots:
            problems[slot] = next(stream)
    return [p for p in problems if p is not None]


def start_episodes(config: TrainConfig, tokenizer: Any, pool: EnvPool, problems: Sequence[ProblemRef], first_group: int) -> list[Episode]:
    """G episodes per problem, each env reset with the problem's seed (the same problem)."""
    episodes = []
    used: dict[tuple[str, int], int] = defaultdict(int)  # instances handed out per (env id, difficulty)
    for offset, problem in enumerate(problems):
        key = (problem.env_id, problem.difficulty)
        envs = pool.instances(*key, used[key] + config.group_size)[used[key] :]
        used[key] += config.group_size
        for env in envs:
            prompt, _ = env.reset(seed=problem.seed)
            messages = build_messages(prompt, config.system_prompt)
            ids = encode_chat(tokenizer, messages) + prefix_ids(tokenizer, config.response_prefix)
            episodes.append(Episode(problem.env_id, first_group + offset, problem, messages, ids, [0] * len(ids), env=env))
    return episodes


def run_episodes(model: Any, tokenizer: Any, episodes: list[Episode], config: TrainConfig, seed: int, autocast: torch.dtype | None) -> None:
    """Play every episode to its end (or ``max_turns``), generating each turn in one batch."""
    eos_text = tokenizer.eos_token or ""
    for turn in range(config.max_turns):
        running = [e for e in episodes if not e.done]
        if not running:
            break
        completions = generate_ids(
            model,
            tokenizer,
            [e.token_ids for e in running],
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
            seed=mix_seed(seed, turn),
            autocast_dtype=autocast,
        )
        for episode, completion in zip(running, completions):
            episode.token_ids += completion.completion_ids
            episode.mask += [1] * completion.num_tokens
            text = config.response_prefix + completion.text
            episode.texts.append(text)
            episode.truncated = episode.truncated or completion.truncated
            observation, reward, terminated, truncated, info = episode.env.step(text)
            episode.correctness += float(reward)
            episode.formats.append(float(info.get("reward_components", {}).get("format", 0.0)))
            episode.answered.append(float(info.get("extracted") is not None))
            if config.overlong_buffer:
                episode.overlongs.append(overlong_penalty(completion.num_tokens, config.max_new_tokens, config.overlong_buffer))
            episode.success = bool(info.get("correct", episode.correctness >= 1.0))
            if terminated or truncated or turn == config.max_turns - 1:
                episode.done = True
                continue
            env_ids = continuation_ids(tokenizer, episode.messages, text, observation, not completion.truncated, eos_text)
            env_ids += prefix_ids(tokenizer, config.response_prefix)
            episode.messages += [{"role": "assistant", "content": text}, {"role": "user", "content": observation}]
            episode.token_ids += env_ids
            episode.mask += [0] * len(env_ids)
    for episode in episodes:
        parts = episode.components()
        episode.reward = (
            parts["correctness"]
            + config.format_weight * parts["format"]
            + config.answer_weight * parts["answer"]
            + config.overlong_weight * parts["overlong"]
        )


def prefix_ids(tokenizer: Any, prefix: str) -> list[int]:
    return list(tokenizer(prefix, add_special_tokens=False)["input_ids"]) if prefix else []


def continuation_ids(
    tokenizer: Any, messages: list[dict[str, str]], reply: str, observation: str, ended: bool, eos_text: str
) -> list[int]:
    """Token ids that follow the model's reply tokens to pose ``observation`` as the next user
    turn: the rest of the chat template's closing of the assistant turn (after the stop token
    the model produced, or all of it when the reply was cut off), the user turn and the next
    assistant generation prompt."""
    before = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": reply}], tokenize=False)
    after = tokenizer.apply_chat_template(
        messages + [{"role": "assistant", "content": reply}, {"role": "user", "content": observation}],
        tokenize=False,
        add_generation_prompt=True,
    )
    if not after.startswith(before):
        raise ValueError("the chat template renders a conversation differently once it grows; multi-turn envs need a prefix-stable template")
    stripped = reply.strip()
    cut = before.rfind(stripped) + len(stripped) if stripped and stripped in before else len(before)
    closing = before[cut:] if stripped in before else eos_text
    if ended and closing.startswith(eos_text):
        closing = closing[len(eos_text) :]
    return list(tokenizer(closing + after[len(before) :], add_special_tokens=False)["input_ids"])


def pad_left(episodes: Sequence[Episode], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Left-padded ``input_ids``, ``attention_mask`` and completion ``mask``, all ``[B, L]``, and
    ``keep``: the width of the trailing window that holds every model token (logits are only
    computed there)."""
    width = max(len(e.token_ids) for e in episodes)
    ids = torch.full((len(episodes), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(episodes), width), dtype=torch.long)
    mask = torch.zeros((len(episodes), width), dtype=torch.float32)
    keep = 1
    for row, e in enumerate(episodes):
        n = len(e.token_ids)
        ids[row, width - n :] = torch.tensor(e.token_ids)
        attention[row, width - n :] = 1
        mask[row, width - n :] = torch.tensor(e.mask, dtype=torch.float32)
        first = e.mask.index(1) if 1 in e.mask else n - 1
        keep = max(keep, n - first)
    return ids, attention, mask, min(keep, width - 1)
