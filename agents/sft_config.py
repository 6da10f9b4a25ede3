"""The SFT config: a dataclass with a docstring per field, YAML presets (``configs/sft.yaml``)
and ``key=value`` overrides, validated before any model loads (the same rules as
:mod:`thinkgym.agents.config`, whose mix format it shares)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thinkgym.agents.config import LR_SCHEDULES, ConfigError, read_config_mapping, typed_values
from thinkgym.mix import EnvSpec, parse_mix
from thinkgym.prompts import R1_SYSTEM_PROMPT


@dataclass
class SFTConfig:
    """Supervised fine-tuning on R1 completions (loss on completion tokens only)."""

    # -- what to train, on what ----------------------------------------------------------------
    model: str = "default"
    """Policy: ``default`` (SmolLM2-135M-Instruct), a model/run/checkpoint directory, or a hub name."""
    data: str | None = None
    """A JSONL file of {prompt, completion}; None: solver traces generated from ``mix`` each step."""
    mix: list[EnvSpec] = field(default_factory=lambda: [EnvSpec("thinkgym/Arithmetic-v0")])
    """The env mix for solver traces (train split only): list of {id, weight, difficulty, kwargs}."""
    seed: int = 0
    """Seed of the data order / solver problems."""
    output_dir: str = "runs/sft"
    """Run directory: config, logs, checkpoints."""
    system_prompt: str | None = R1_SYSTEM_PROMPT
    """System prompt of every chat whose prompt is plain text (None: none)."""
    response_prefix: str = ""
    """Text that opens every assistant turn (e.g. ``"<think>\\n"``): when a completion starts with it,
    it is part of the prompt (not trained), as in GRPO rollouts and evaluation."""

    # -- optimisation ----------------------------------------------------------------------------
    steps: int = 50
    """Optimizer steps."""
    batch_size: int = 8
    """Examples per optimizer step (over all processes)."""
    micro_batch_size: int = 8
    """Examples per forward/backward (gradient accumulation over the batch)."""
    max_length: int = 512
    """Most tokens of prompt + completion; longer examples are skipped (and counted)."""
    learning_rate: float = 1e-5
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
    bf16: bool = True
    """bf16 autocast for the forwards (weights stay float32)."""
    lora: bool = False
    """Train LoRA adapters (peft) instead of all weights; checkpoints hold the merged model too."""
    lora_rank: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA alpha."""
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Module names that get adapters."""

    # -- bookkeeping -----------------------------------------------------------------------------
    checkpoint_every: int = 0
    """Checkpoint every this many steps (0: only at the end)."""
    keep_checkpoints: int = 1
    """Keep the newest this many checkpoints (0: all)."""
    progress: bool = True
    """Show a progress bar."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_sft_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> SFTConfig:
    """A validated :class:`SFTConfig` from a YAML preset and ``key=value`` overrides."""
    return sft_config_from_dict(read_config_mapping(path, overrides))


def sft_config_from_dict(raw: dict[str, Any]) -> SFTConfig:
    """Build and validate a config; collects every problem into one :class:`ConfigError`."""
    problems: list[str] = []
    config = SFTConfig(**typed_values(SFTConfig, raw, problems))
    problems += validate_sft(config) if not problems else []
    if problems:
        raise ConfigError("invalid SFT config: " + "; ".join(problems))
    return config


def validate_sft(config: SFTConfig) -> list[str]:
    """Problems with the values of a well-typed config (empty when it can run)."""
    from thinkgym.agents.sft_data import NoExplainError, check_explainable

    checks = [
        (config.steps >= 1, f"steps must be >= 1, got {config.steps}"),
        (config.batch_size >= 1, f"batch_size must be >= 1, got {config.batch_size}"),
        (config.micro_batch_size >= 1, f"micro_batch_size must be >= 1, got {config.micro_batch_size}"),
        (config.max_length >= 8, f"max_length must be >= 8, got {config.max_length}"),
        (config.learning_rate > 0, f"learning_rate must be > 0, got {config.learning_rate}"),
        (config.weight_decay >= 0, f"weight_decay must be >= 0, got {config.weight_decay}"),
        (config.warmup_steps >= 0, f"warmup_steps must be >= 0, got {config.warmup_steps}"),
        (config.lr_schedule in LR_SCHEDULES, f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {config.lr_schedule!r}"),
        (config.max_grad_norm >= 0, f"max_grad_norm must be >= 0, got {config.max_grad_norm}"),
        (config.max_nonfinite_steps >= 0, f"max_nonfinite_steps must be >= 0, got {config.max_nonfinite_steps}"),
        (config.lora_rank >= 1, f"lora_rank must be >= 1, got {config.lora_rank}"),
        (config.checkpoint_every >= 0, f"checkpoint_every must be >= 0, got {config.checkpoint_every}"),
        (config.keep_checkpoints >= 0, f"keep_checkpoints must be >= 0, got {config.keep_checkpoints}"),
        (config.data is None or Path(config.data).is_file(), f"data file {config.data!r} does not exist"),
    ]
    problems = [message for ok, message in checks if not ok]
    if config.data is None:
        if not config.mix:
            problems.append("mix must name at least one env (or give data=FILE.jsonl)")
        else:
            parse_mix(config.mix, problems)  # the one mix validator
        if not problems:
            try:
                check_explainable(config.mix)
            except NoExplainError as err:
                problems.append(f"mix: {err}")
    return problems
