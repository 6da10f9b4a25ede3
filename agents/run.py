"""The run skeleton shared by ``thinkgym train`` (GRPO) and ``thinkgym sft``: everything about a
training run except what one step computes.

A training loop reads::

    with StopSignals() as stop:
        run = start_run(config, resume, stop, stage="sft")
        for step in range(run.start_step, config.steps):
            ...                                   # batch, forwards, accelerator.backward(loss)
            grad_norm = run.update(step, losses)  # clip; skip a non-finite update; optimizer step
            run.scheduler.step()
            ...                                   # log
            run.end_step(step, grad_norm is not None, extra_state)  # checkpoint, stop, diverge

:func:`start_run` sets up: the accelerator (DDP over CPU processes under a multi-process launch
without GPUs), the policy (full weights or LoRA adapters; a frozen reference copy on request),
fused AdamW (one pass over every tensor where the device supports it), the learning-rate
schedule (linear warm-up, then constant, linear or cosine) and, with ``resume``, the state of
the latest complete checkpoint (weights, optimizer, scheduler, RNG, step).

:meth:`Run.end_step` ends a step: it writes a checkpoint every ``checkpoint_every`` steps, at the
last step and when a stop signal arrived (SIGINT/SIGTERM, on any process: then it raises
:class:`~thinkgym.agents.faults.TrainingStopped`, exit status 128 + signal), and raises
:class:`~thinkgym.agents.faults.TrainingDiverged` after ``max_nonfinite_steps`` skipped updates in
a row. Checkpoints are written into ``.tmp-step-N`` and renamed when complete
(:mod:`thinkgym.agents.checkpoint`), so a kill at any moment leaves the last one intact.

The config is any dataclass with the shared fields (:class:`RunConfig`): ``TrainConfig`` and
``SFTConfig`` both are.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from thinkgym.agents.attention import use_training_attention
from thinkgym.agents.checkpoint import latest_checkpoint, save_model, write_checkpoint
from thinkgym.agents.faults import StopSignals, TrainingDiverged, TrainingStopped, all_finite, fault_point
from thinkgym.agents.policy import load_policy
from thinkgym.errors import UserError

STATE_FILE = "trainer_state.pt"
"""Inside a checkpoint: optimizer, scheduler, RNG states, step, and what the loop adds."""


class RunConfig(Protocol):
    """The fields of a training config that the skeleton reads."""

    model: str
    seed: int
    output_dir: str
    steps: int
    learning_rate: float
    weight_decay: float
    warmup_steps: int
    lr_schedule: str
    max_grad_norm: float
    max_nonfinite_steps: int
    bf16: bool
    lora: bool
    lora_rank: int
    lora_alpha: int
    lora_targets: list[str]
    checkpoint_every: int
    keep_checkpoints: int


@dataclass
class Run:
    """A set-up run: the prepared model and optimizer, and the step it starts from."""

    config: Any
    accelerator: Any
    model: Any
    """The trained policy as ``accelerator.prepare`` returned it (DDP-wrapped under a launch)."""
    tokenizer: Any
    optimizer: Any
    scheduler: Any
    stop: StopSignals
    stage: str
    """``grpo`` or ``sft``: written into checkpoints."""
    reference: Any = None
    """A frozen copy of the starting policy (full-weight GRPO with a divergence term), else None."""
    start_step: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    """The trainer state of the checkpoint resumed from (empty for a new run): the loop restores
    its own entries (e.g. the curriculum) from it."""
    nonfinite_run: int = 0
    """Updates skipped in a row for a non-finite loss or gradients."""
    nonfinite_total: int = 0
    """Updates skipped in all (since this process started)."""

    @property
    def autocast(self) -> torch.dtype | None:
        """The autocast dtype of the forwards (weights stay float32)."""
        return torch.bfloat16 if self.config.bf16 else None

    @property
    def unwrapped(self) -> Any:
        return self.accelerator.unwrap_model(self.model)

    def update(self, step: int, losses: list[float]) -> float | None:
        """Clip the accumulated gradients and take the optimizer step; when a loss or the
        gradient norm is not finite, drop the gradients instead. Returns the gradient norm, or
        None for a skipped update. ``step`` is 0-based."""
        fault_point("step", step + 1)  # testing hook: die after the backward pass
        # One fused pass over the gradients gives the norm to clip by and the finiteness check:
        # the total norm is non-finite exactly when some gradient is (all-reduced: every rank agrees).
        max_norm = self.config.max_grad_norm if self.config.max_grad_norm > 0 else float("inf")
        grad_norm = self.accelerator.clip_grad_norm_(self.model.parameters(), max_norm)
        if not all_finite(losses, grad_norm):
            self.optimizer.zero_grad(set_to_none=True)
            return None
        self.optimizer.step()
        return float(grad_norm)

    def stop_signal(self) -> int:
        """The stop signal any process received (0: none); every process gets the same answer."""
        signum = self.stop.signum or 0
        if self.accelerator.num_processes > 1:
            signum = int(self.accelerator.gather(torch.tensor([signum], device=self.accelerator.device)).max())
        return signum

    def end_step(self, step: int, updated: bool, extra_state: dict[str, Any] | None = None) -> None:
        """After step ``step`` (0-based): count a skipped update, write a checkpoint when one is due
        or a stop signal arrived, then raise :class:`TrainingDiverged` or :class:`TrainingStopped`
        when the run must end. ``extra_state`` goes into the checkpoint's trainer state."""
        config, done = self.config, step + 1
        self.nonfinite_run = 0 if updated else self.nonfinite_run + 1
        self.nonfinite_total += 0 if updated else 1
        last = done == config.steps
        signum = self.stop_signal()
        if last or signum or (config.checkpoint_every and done % config.checkpoint_every == 0):
            save_checkpoint(self, done, extra_state or {})
        if not updated and self.accelerator.is_main_process:
            print(f"step {done}: non-finite loss or gradients, update skipped ({self.nonfinite_run} in a row)", file=sys.stderr)
        if config.max_nonfinite_steps and self.nonfinite_run >= config.max_nonfinite_steps:
            raise TrainingDiverged(
                f"stopping: {self.nonfinite_run} steps in a row (up to step {done}) had a non-finite loss or gradients; "
                f"no update was applied on those steps. Lower learning_rate, or raise max_nonfinite_steps (now {config.max_nonfinite_steps})"
            )
        if signum and not last:
            raise TrainingStopped(signum, done)


def start_run(config: RunConfig, resume: bool, stop: StopSignals, *, stage: str, reference: bool = False) -> Run:
    """Set up a run of ``config`` (see the module docstring); with ``resume``, from the latest
    complete checkpoint in ``config.output_dir``. With ``reference``, also keep a frozen copy of
    the starting policy (not with LoRA: there the reference is the base with adapters disabled)."""
    accelerator = make_accelerator()
    checkpoint = latest_checkpoint(config.output_dir) if resume else None
    if resume and checkpoint is None:
        raise UserError(f"nothing to resume: {config.output_dir} has no complete checkpoint")

    torch.manual_seed(config.seed)  # LoRA init: the same on every process
    policy, tokenizer = load_policy(config.model)
    use_training_attention(policy)  # SDPA's values, a faster backward on a CPU (agents/attention.py)
    frozen = None
    if config.lora:
        from peft import LoraConfig, PeftModel, get_peft_model

        if checkpoint is not None:
            policy = PeftModel.from_pretrained(policy, checkpoint / "adapter", is_trainable=True)
        else:
            policy = get_peft_model(policy, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, target_modules=config.lora_targets))
    else:
        if reference:
            frozen = frozen_reference(policy, torch.bfloat16 if config.bf16 else None)
        if checkpoint is not None:
            policy.load_state_dict(load_policy(str(checkpoint / "model"))[0].state_dict())
    policy.config.use_cache = False
    optimizer = make_optimizer([p for p in policy.parameters() if p.requires_grad], config, accelerator.device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(config, s))
    model, optimizer = accelerator.prepare(policy, optimizer)
    if frozen is not None:
        frozen.to(accelerator.device)

    run = Run(config, accelerator, model, tokenizer, optimizer, scheduler, stop, stage, reference=frozen)
    if checkpoint is not None:
        run.state = torch.load(checkpoint / STATE_FILE, map_location="cpu", weights_only=False)
        optimizer.load_state_dict(run.state["optimizer"])
        scheduler.load_state_dict(run.state["scheduler"])
        set_rng_state(run.state["rng"])
        run.start_step = run.state["step"]
    return run


def frozen_reference(policy: Any, autocast: torch.dtype | None) -> Any:
    """A frozen copy of ``policy`` for the KL term. Under autocast its linear weights are stored
    in the autocast dtype: autocast caches casts only of weights that require grad, so a frozen
    float32 copy would be cast anew, 135M parameters, on every forward. The values are the ones
    autocast would make (the same rounding), so its log-probs are unchanged; a tied output
    projection is untied first, so the embedding lookup stays in float32 as before."""
    frozen = copy.deepcopy(policy).eval().requires_grad_(False)
    if autocast is None or autocast == torch.float32:
        return frozen
    output = frozen.get_output_embeddings() if hasattr(frozen, "get_output_embeddings") else None
    if output is not None and hasattr(frozen, "get_input_embeddings") and output.weight is frozen.get_input_embeddings().weight:
        output.weight = torch.nn.Parameter(output.weight.detach().clone(), requires_grad=False)
    for module in frozen.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(autocast)
    return frozen


def make_accelerator() -> Any:
    """An ``Accelerator``; under a multi-process launch on a machine without GPUs, one that runs
    DDP over CPU processes (gloo): accelerate only does so when told ``cpu=True``."""
    from accelerate import Accelerator

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    has_device = torch.accelerator.is_available() if hasattr(torch, "accelerator") else torch.cuda.is_available()
    return Accelerator(cpu=distributed and not has_device)


def make_optimizer(params: list[torch.nn.Parameter], config: RunConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW; fused where the device has the kernel. The fused kernel updates every tensor in one
    pass: the per-tensor loop PyTorch otherwise uses on CPU took about a tenth of a GRPO step."""
    return torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay, fused=device.type in ("cpu", "cuda"))


def lr_factor(config: RunConfig, step: int) -> float:
    """Learning-rate multiplier after ``step`` scheduler steps: linear warm-up, then the schedule."""
    if step < config.warmup_steps:
        return (step + 1) / (config.warmup_steps + 1)
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return {"constant": 1.0, "linear": 1.0 - progress, "cosine": 0.5 * (1 + math.cos(math.pi * progress))}[config.lr_schedule]


def save_checkpoint(run: Run, step: int, extra_state: dict[str, Any]) -> None:
    """Write the checkpoint of ``step`` (1-based: steps done) from the main process; every
    process waits for it."""
    accelerator = run.accelerator
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        unwrapped = run.unwrapped

        def write(folder: Path) -> None:
            save_model(folder, unwrapped, run.tokenizer, lora=run.config.lora)
            fault_point("checkpoint_write", step)  # testing hook: die half-way through the write
            state = {
                "step": step,
                "stage": run.stage,
                "optimizer": run.optimizer.state_dict(),
                "scheduler": run.scheduler.state_dict(),
                "rng": get_rng_state(),
                **extra_state,
            }
            torch.save(state, folder / STATE_FILE)

        write_checkpoint(run.config.output_dir, step, write, run.config.keep_checkpoints)
    accelerator.wait_for_everyone()


def truncate_log(path: Path, last_step: int) -> None:
    """Keep the JSON lines of ``path`` whose ``step`` is at most ``last_step`` (and no torn last
    line), written to a temporary file and renamed."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= last_step:
            kept.append(line + "\n")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(kept))
    os.replace(tmp, path)


def get_rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
