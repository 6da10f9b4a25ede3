"""The training config: one dataclass, YAML presets in ``configs/``, ``key=value`` overrides.

``load_config(path, overrides)`` reads a YAML preset, applies overrides (values parsed as YAML:
``steps=20``, ``beta=0``, ``lora=true``, ``mix='[{id: thinkgym/Arithmetic-v0}]'``) and
validates everything before any model is loaded. Every problem is a :class:`ConfigError` (a
``ValueError``) whose message lists all the problems found.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from thinkgym.agents.grpo import ADVANTAGE_SCALES, AGGREGATIONS, DIVERGENCES
from thinkgym.errors import UserError
from thinkgym.mix import EnvSpec, parse_mix
from thinkgym.prompts import R1_SYSTEM_PROMPT


class ConfigError(UserError):
    """A training config that cannot run; the message lists every problem."""


LR_SCHEDULES = ("constant", "linear", "cosine")


@dataclass
class TrainConfig:
    """Everything a GRPO run needs. YAML presets in ``configs/`` set these fields."""

    # -- what to train, on what ----------------------------------------------------------------
    model: str = "default"
    """Policy: ``default`` (SmolLM2-135M-Instruct), a model/run/checkpoint directory, or a hub name."""
    mix: list[EnvSpec] = field(default_factory=lambda: [EnvSpec("thinkgym/Arithmetic-v0")])
    """The env mix: list of {id, weight, difficulty, kwargs} (any form :func:`thinkgym.mix.parse_mix` reads)."""
    seed: int = 0
    """Seed of the data stream, sampling and initialisation."""
    output_dir: str = "runs/grpo"
    """Run directory: config, logs, samples, checkpoints."""
    system_prompt: str | None = R1_SYSTEM_PROMPT
    """System prompt of every chat (None: none)."""
    response_prefix: str = ""
    """Text that opens every assistant turn, e.g. ``"<think>\\n"`` as in DeepSeek-R1's template: part
    of the prompt (not trained), and put back in front of the completion when it is scored."""

    # -- rollouts --------------------------------------------------------------------------------
    steps: int = 100
    """Optimizer steps (batches) to train for."""
    prompts_per_step: int = 4
    """Groups (distinct problems) per step and process."""
    group_size: int = 8
    """G: completions per problem."""
    max_new_tokens: int = 128
    """Most tokens per completion (per turn for multi-turn envs)."""
    max_turns: int = 4
    """Most model turns per episode of a multi-turn env."""
    stop_strings: list[str] = field(default_factory=list)
    """A completion (a turn) ends at the first of these, e.g. ``["</answer>"]``: text after the
    answer block is never sampled, trained or scored. Evaluations of a run use the same."""
    temperature: float = 1.0
    """Sampling temperature."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    dynamic_sampling: bool = True
    """Drop groups whose rewards are all equal (no signal) and refill them (DAPO)."""
    max_refill_rounds: int = 2
    """Extra generation rounds per step to refill dropped groups."""

    # -- rewards ---------------------------------------------------------------------------------
    format_weight: float = 0.2
    """Weight of the R1 format reward added to the env's correctness reward."""
    answer_weight: float = 0.0
    """Weight of a shaping term that is 1 when the env could read an answer block at all."""
    overlong_buffer: int = 0
    """DAPO soft over-length penalty over the last this many tokens (0: off)."""
    overlong_weight: float = 1.0
    """Weight of the over-length penalty."""

    # -- objective -------------------------------------------------------------------------------
    beta: float = 0.04
    """Weight of the divergence from the reference policy (0: no reference model at all)."""
    divergence: str = "k3"
    """Divergence estimator: k1, k2, k3, forward_kl, js, chi2, hellinger, none."""
    epsilon: float = 0.2
    """Lower clip range of the ratio."""
    epsilon_high: float | None = None
    """Upper clip range (DAPO clip-higher); None: epsilon."""
    aggregation: str = "seq-mean"
    """Loss aggregation: seq-mean, token-mean, dr-grpo."""
    advantage_scale: str = "group"
    """Advantage scaling: group, batch, none."""
    sequence_ratio: bool = False
    """GSPO: one importance ratio per sequence."""
    mu: int = 1
    """Optimisation passes over each batch."""

    # -- optimisation ----------------------------------------------------------------------------
    learning_rate: float = 1e-6
    """AdamW peak learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_steps: int = 0
    """Linear warm-up steps."""
    lr_schedule: str = "constant"
    """After warm-up: constant, linear (to 0) or cosine (to 0)."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm (0: no clipping)."""
    max_nonfinite_steps: int = 3
    """A step whose loss or gradients are not finite skips its update (logged and counted); stop
    the run after this many such steps in a row (0: never stop)."""
    micro_batch_size: int = 8
    """Sequences per forward/backward (gradient accumulation over the batch)."""
    bf16: bool = True
    """bf16 autocast for generation and forwards (weights stay float32)."""
    lora: bool = False
    """Train LoRA adapters (peft) instead of all weights; the reference is the base model."""
    lora_rank: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA alpha."""
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Module names that get adapters."""

    # -- curriculum ------------------------------------------------------------------------------
    curriculum: bool = False
    """Move each env's difficulty with its rolling success rate."""
    curriculum_window: int = 32
    """Episodes in the rolling success rate."""
    curriculum_up: float = 0.8
    """Raise the difficulty when the success rate reaches this."""
    curriculum_down: float = 0.2
    """Lower the difficulty when the success rate falls to this."""

    # -- bookkeeping -----------------------------------------------------------------------------
    checkpoint_every: int = 0
    """Checkpoint every this many steps (0: only at the end)."""
    keep_checkpoints: int = 2
    """Keep the newest this many checkpoints (0: all)."""
    samples_per_step: int = 2
    """Completions per step written to samples.jsonl."""
    tensorboard: bool = True
    """Also log to TensorBoard when it is installed."""
    progress: bool = True
    """Show a progress bar."""

    @property
    def sequences_per_step(self) -> int:
        return self.prompts_per_step * self.group_size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def yaml_error_text(err: yaml.YAMLError) -> str:
    """A YAML syntax error in one line: what is wrong and where (PyYAML's own text spans lines)."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


COLD_START = "cold_start"
"""The run config's cold-start section (SFT fields), read by ``thinkgym run``."""
RUN_SECTIONS = (COLD_START,)
"""Sections of a run config that ``thinkgym run`` reads (:mod:`thinkgym.agents.cmd_run`) and the
GRPO config leaves alone, so ``thinkgym train`` and ``eval --mix`` take ``configs/default.yaml``."""


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """A validated :class:`TrainConfig` from a YAML preset and ``key=value`` overrides (a run
    config's ``cold_start:`` section is not a GRPO field and is skipped)."""
    raw = read_config_mapping(path, [o for o in overrides if not o.startswith(tuple(f"{s}." for s in RUN_SECTIONS))])
    for section in RUN_SECTIONS:
        raw.pop(section, None)
    return config_from_dict(raw)


def read_config_mapping(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of a YAML preset (none when ``path`` is None) with ``key=value`` overrides
    applied; values are read as YAML. Raises :class:`ConfigError` in one line."""
    raw: dict[str, Any] = {}
    if path is not None:
        text = Path(path).read_text()
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {yaml_error_text(err)}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping of config fields")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key=value")
        try:
            raw[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: value is not valid YAML: {yaml_error_text(err)}") from None
    return raw


def typed_values(config_cls: type, raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The entries of ``raw`` that are fields of the dataclass ``config_cls`` with the right
    type (ints widened to floats where a float is wanted; ``mix`` parsed into env specs).
    Unknown keys (with a did-you-mean) and wrong types are appended to ``problems``."""
    names = [f.name for f in dataclasses.fields(config_cls)]
    hints = typing.get_type_hints(config_cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            problems.append(f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        elif key == "mix":
            values["mix"] = parse_mix(value, problems)
        elif hints[key] in (float, float | None) and isinstance(value, str) and _is_number(value):
            values[key] = float(value)  # YAML 1.1 reads "2e-5" (no dot) as a string
        elif _type_ok(value, hints[key]):
            values[key] = float(value) if hints[key] in (float, float | None) and isinstance(value, int) else value
        else:
            problems.append(f"{key} must be {_type_name(hints[key])}, got {value!r}")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def config_from_dict(raw: dict[str, Any]) -> TrainConfig:
    """Build and validate a config; collects every problem into one :class:`ConfigError`."""
    problems: list[str] = []
    config = TrainConfig(**typed_values(TrainConfig, raw, problems))
    problems += validate(config) if not problems else []
    if problems:
        raise ConfigError("invalid training config: " + "; ".join(problems))
    return config


def validate(config: TrainConfig) -> list[str]:
    """Problems with the values of a well-typed config (empty when it can run)."""
    p = []
    checks = [
        (config.group_size >= 2, f"group_size must be >= 2 (GRPO compares completions), got {config.group_size}"),
        (config.steps >= 1, f"steps must be >= 1, got {config.steps}"),
        (config.prompts_per_step >= 1, f"prompts_per_step must be >= 1, got {config.prompts_per_step}"),
        (config.max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {config.max_new_tokens}"),
        (config.max_turns >= 1, f"max_turns must be >= 1, got {config.max_turns}"),
        (all(isinstance(s, str) and s for s in config.stop_strings), f"stop_strings must be non-empty strings, got {config.stop_strings!r}"),
        (config.temperature > 0, f"temperature must be > 0, got {config.temperature}"),
        (0 < config.top_p <= 1, f"top_p must be in (0, 1], got {config.top_p}"),
        (config.max_refill_rounds >= 0, f"max_refill_rounds must be >= 0, got {config.max_refill_rounds}"),
        (config.beta >= 0, f"beta must be >= 0, got {config.beta}"),
        (config.divergence in DIVERGENCES, f"unknown divergence {config.divergence!r}; known: {', '.join(DIVERGENCES)}"),
        (config.aggregation in AGGREGATIONS, f"unknown aggregation {config.aggregation!r}; known: {', '.join(AGGREGATIONS)}"),
        (config.advantage_scale in ADVANTAGE_SCALES, f"unknown advantage_scale {config.advantage_scale!r}; known: {', '.join(ADVANTAGE_SCALES)}"),
        (0 < config.epsilon < 1, f"epsilon must be in (0, 1), got {config.epsilon}"),
        (config.epsilon_high is None or config.epsilon_high > 0, f"epsilon_high must be > 0, got {config.epsilon_high}"),
        (config.mu >= 1, f"mu must be >= 1, got {config.mu}"),
        (config.learning_rate > 0, f"learning_rate must be > 0, got {config.learning_rate}"),
        (config.weight_decay >= 0, f"weight_decay must be >= 0, got {config.weight_decay}"),
        (config.warmup_steps >= 0, f"warmup_steps must be >= 0, got {config.warmup_steps}"),
        (config.lr_schedule in LR_SCHEDULES, f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {config.lr_schedule!r}"),
        (config.max_grad_norm >= 0, f"max_grad_norm must be >= 0, got {config.max_grad_norm}"),
        (config.max_nonfinite_steps >= 0, f"max_nonfinite_steps must be >= 0, got {config.max_nonfinite_steps}"),
        (config.micro_batch_size >= 1, f"micro_batch_size must be >= 1, got {config.micro_batch_size}"),
        (config.lora_rank >= 1, f"lora_rank must be >= 1, got {config.lora_rank}"),
        (0 <= config.curriculum_down < config.curriculum_up <= 1, "need 0 <= curriculum_down < curriculum_up <= 1"),
        (config.curriculum_window >= 1, f"curriculum_window must be >= 1, got {config.curriculum_window}"),
        (config.checkpoint_every >= 0, f"checkpoint_every must be >= 0, got {config.checkpoint_every}"),
        (config.keep_checkpoints >= 0, f"keep_checkpoints must be >= 0, got {config.keep_checkpoints}"),
        (config.overlong_buffer == 0 or 0 < config.overlong_buffer < config.max_new_tokens, "overlong_buffer must be 0 or in (0, max_new_tokens)"),
    ]
    p += [message for ok, message in checks if not ok]
    parse_mix(config.mix, p)  # the one mix validator (also for configs built in code)
    return p


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "") if typing.get_origin(hint) else getattr(hint, "__name__", str(hint))
