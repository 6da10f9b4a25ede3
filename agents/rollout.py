"""Rollouts through the Gymnasium API: groups of G episodes on the same problem.

The data stream is a pure function of ``(seed, rank, step, round)``: which env each group comes
from, and which problem, are drawn from generators seeded with those numbers (mixed by
``SeedSequence``, never added), and problems come only from the ``"train"`` split of
:func:`thinkgym.splits.problem_stream`. So a resumed run sees exactly the data it would
have seen, and two processes never share problems.

A group is G env instances reset with the same seed. Episodes are played by the one episode
engine (:func:`thinkgym.agents.episodes.play`, which evaluation and rejection sampling use
too; success is ``info["correct"]``); all running episodes of a round generate together, in one
batch, through :class:`TokenPolicy`, which keeps the token ids: a multi-turn episode's sequence
interleaves the model's tokens (``mask`` 1: trained) and the env's text in the chat template
(``mask`` 0: never trained).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

import thinkgym
from thinkgym.agents.config import EnvSpec, TrainConfig
from thinkgym.agents.episodes import Episode, Reply, play
from thinkgym.agents.generation import encode_chat, generate_ids
from thinkgym.prompts import build_messages
from thinkgym.mix import draw_problems as draw_mix
from thinkgym.mix import mix_seed  # noqa: F401  (re-exported: the run's seed mixer)
from thinkgym.splits import ProblemRef
from thinkgym.envs.registry import env_info
from thinkgym.rewards.format import overlong_penalty
from thinkgym.errors import UserError


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
    """``config.prompts_per_step`` train-split problems for one round of one step on one process
    (:func:`thinkgym.mix.draw_problems` keyed by ``(rank, step, round)``)."""
    return draw_mix(
        config.mix, config.prompts_per_step, split="train", seed=config.seed, key=(rank, step, round_), levels=levels,
        make_env=lambda spec, level: pool.probe(spec.id, level),
    )


def start_episodes(config: TrainConfig, tokenizer: Any, pool: EnvPool, problems: Sequence[ProblemRef], first_group: int) -> list[Episode]:
    """G episodes per problem, each with its own env reset with the problem's seed (the same
    problem), and the prompt's token ids (mask 0)."""
    episodes = []
    used: dict[tuple[str, int], int] = defaultdict(int)  # instances handed out per (env id, difficulty)
    for offset, problem in enumerate(problems):
        key = (problem.env_id, problem.difficulty)
        envs = pool.instances(*key, used[key] + config.group_size)[used[key] :]
        used[key] += config.group_size
        messages = build_messages(problem.prompt, config.system_prompt)
        ids = encode_chat(tokenizer, messages) + prefix_ids(tokenizer, config.response_prefix)
        multi_turn = env_info(problem.env_id).multi_turn
        for env in envs:
            episode = Episode(problem, messages, max_turns=config.max_turns if multi_turn else 1, multi_turn=multi_turn,
                              group=first_group + offset, token_ids=list(ids), mask=[0] * len(ids))
            episode.start(env)
            episodes.append(episode)
    return episodes


class TokenPolicy:
    """The engine's :class:`~thinkgym.agents.episodes.Policy` for training: it generates from each
    episode's token ids and keeps them, with the loss mask (1 on sampled tokens, 0 on the env's
    text spliced in between turns, rendered by the chat template)."""

    def __init__(self, model: Any, tokenizer: Any, config: TrainConfig, autocast: torch.dtype | None) -> None:
        self.model, self.tokenizer, self.config, self.autocast = model, tokenizer, config, autocast
        self.eos_text = tokenizer.eos_token or ""
        self.prefix = prefix_ids(tokenizer, config.response_prefix)

    def reply(self, episodes: Sequence[Episode], *, greedy: bool, seed: int) -> list[Reply]:
        config = self.config
        completions = generate_ids(
            self.model, self.tokenizer, [e.token_ids for e in episodes], max_new_tokens=config.max_new_tokens,
            temperature=config.temperature, top_p=config.top_p, greedy=greedy, seed=seed, autocast_dtype=self.autocast,
            stop_strings=config.stop_strings,
        )
        for episode, completion in zip(episodes, completions):
            episode.token_ids += completion.completion_ids
            episode.mask += [1] * completion.num_tokens
        return [Reply(config.response_prefix + c.text, c.num_tokens, c.truncated, c.stop_string) for c in completions]

    def observe(self, episode: Episode, reply: Reply, observation: str) -> None:
        ended = not reply.truncated and reply.stop_string is None  # the model's own stop token ended the turn
        env_ids = continuation_ids(self.tokenizer, episode.messages, reply.text, observation, ended, self.eos_text)
        env_ids += self.prefix
        episode.token_ids += env_ids
        episode.mask += [0] * len(env_ids)


def run_episodes(model: Any, tokenizer: Any, episodes: list[Episode], config: TrainConfig, seed: int, autocast: torch.dtype | None) -> None:
    """Play every episode to its end (or ``max_turns``) through the episode engine, every
    running episode of a turn in one generation batch; then set each one's shaped reward."""
    play(episodes, TokenPolicy(model, tokenizer, config, autocast), batch_size=max(1, len(episodes)), seed=seed)
    for episode in episodes:
        episode.reward = shaped_reward(episode, config)


def shaped_reward(episode: Episode, config: TrainConfig) -> float:
    """The env's return plus the weighted shaping terms (see :meth:`components`)."""
    parts = components(episode, config)
    return (
        parts["correctness"]
        + config.format_weight * parts["format"]
        + config.answer_weight * parts["answer"]
        + config.overlong_weight * parts["overlong"]
    )


def components(episode: Episode, config: TrainConfig) -> dict[str, float]:
    """The reward's parts: the env's return, and the per-turn means of the R1 format reward, of
    whether an answer block was read, and of the over-length penalty (0 when it is off)."""
    overlongs = [overlong_penalty(n, config.max_new_tokens, config.overlong_buffer) for n in episode.turn_tokens] if config.overlong_buffer else []
    return {
        "correctness": episode.correctness,
        "format": float(np.mean(episode.formats)) if episode.formats else 0.0,
        "answer": float(np.mean(episode.answered)) if episode.answered else 0.0,
        "overlong": float(np.mean(overlongs)) if overlongs else 0.0,
    }


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
        raise UserError("the chat template renders a conversation differently once it grows; multi-turn envs need a prefix-stable template")
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
