"""Supervised fine-tuning on R1 completions, with the loss on completion tokens only.

Each example is rendered exactly as a GRPO rollout sees it: the chat template's prompt (system
prompt + user turn + assistant generation prompt), then the ``response_prefix`` when the
completion starts with it (part of the prompt, not trained), then the completion's tokens and the
tokenizer's EOS (trained: it is how the policy learns to stop). Labels are ``-100`` on every
prompt and padding token, so the loss is the mean cross-entropy over completion tokens
(token-mean over the whole batch, also across micro-batches and processes).

Data: solver traces drawn fresh each step from the config's env mix (train split; step ``s``
uses stream ``s``, so a resumed run sees the data it would have seen), or a JSONL file of
``{prompt, completion}`` read in a seeded order, epoch after epoch. Checkpoints have the layout
of :mod:`thinkgym.agents.checkpoint`, so ``thinkgym train model=RUN`` and ``thinkgym eval
--model RUN`` accept an SFT run. Set-up, fused AdamW, the schedule, stop signals, the skip of
non-finite updates, checkpoints and resume are GRPO's (:mod:`thinkgym.agents.run`). Works under ``accelerate launch`` (each process takes its share
of every batch; gradients are all-reduced).
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from thinkgym.agents.faults import StopSignals
from thinkgym.agents.generation import encode_chat
from thinkgym.agents.run import Run, start_run, truncate_log
from thinkgym.agents.sft_config import SFTConfig
from thinkgym.agents.sft_data import Example, read_jsonl, solver_examples
from thinkgym.prompts import build_messages

IGNORE = -100
"""Label of tokens that carry no loss (prompt, padding)."""


def encode_example(tokenizer: Any, example: Example, system_prompt: str | None, response_prefix: str = "") -> tuple[list[int], list[int]]:
    """``(input_ids, labels)`` of one example; ``labels`` are ``-100`` on the prompt tokens."""
    prompt = example["prompt"]
    messages = build_messages(prompt, system_prompt) if isinstance(prompt, str) else list(prompt)
    completion = example["completion"]
    prompt_ids = encode_chat(tokenizer, messages)
    if response_prefix and completion.startswith(response_prefix):
        prompt_ids += list(tokenizer(response_prefix, add_special_tokens=False)["input_ids"])
        completion = completion[len(response_prefix) :]
    completion_ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"]) + [tokenizer.eos_token_id]
    return prompt_ids + completion_ids, [IGNORE] * len(prompt_ids) + completion_ids


def collate(encoded: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor | int]:
    """Left-padded ``ids``, ``attention`` and ``labels`` (B, L), and ``keep``: the width of the
    trailing window that holds every label (logits are computed only there)."""
    width = max(len(ids) for ids, _ in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(encoded), width), dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
    keep = 1
    for row, (tokens, target) in enumerate(encoded):
        n = len(tokens)
        ids[row, width - n :] = torch.tensor(tokens)
        attention[row, width - n :] = 1
        labels[row, width - n :] = torch.tensor(target)
        first = next((i for i, t in enumerate(target) if t != IGNORE), n - 1)
        keep = max(keep, n - first)
    return {"ids": ids, "attention": attention, "labels": labels, "keep": min(keep, width - 1)}


def completion_loss(model: Any, batch: dict[str, Any], autocast: torch.dtype | None) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over the labelled tokens of ``batch``, and how many there are."""
    device = next(model.parameters()).device
    ids, attention, labels, keep = batch["ids"].to(device), batch["attention"].to(device), batch["labels"].to(device), batch["keep"]
    positions = (attention.cumsum(-1) - 1).clamp(min=0)  # left padding does not shift positions
    ctx = torch.autocast(device_type=device.type, dtype=autocast) if autocast else contextlib.nullcontext()
    with ctx:
        out = model(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=False, logits_to_keep=keep + 1)
    logits = out.logits[:, :-1].float()  # (B, keep, V): position t predicts token t + 1
    targets = labels[:, -keep:]  # (B, keep)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE, reduction="sum")
    return loss, int((targets != IGNORE).sum())


@torch.no_grad()
def mean_loss(model: Any, tokenizer: Any, examples: list[Example], *, system_prompt: str | None, response_prefix: str = "", micro_batch_size: int = 8) -> float:
    """Token-mean completion loss of ``model`` on ``examples`` (no gradient)."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encoded = [encode_example(tokenizer, e, system_prompt, response_prefix) for e in examples]
    total, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    for start in range(0, len(encoded), micro_batch_size):
        loss, count = completion_loss(model, collate(encoded[start : start + micro_batch_size], pad_id), None)
        total, tokens = total + float(loss), tokens + count
    model.train(was_training)
    return total / max(tokens, 1)


class DataSource:
    """The examples of step ``s``: solver traces of stream ``s``, or the next slice of a seeded
    permutation of a JSONL file (a new permutation each epoch)."""

    def __init__(self, config: SFTConfig) -> None:
        self.config = config
        self.rows = read_jsonl(config.data) if config.data else None

    def batch(self, step: int) -> list[Example]:
        size = self.config.batch_size
        if self.rows is None:
            return solver_examples(self.config.mix, size, self.config.seed, stream=step)
        start = step * size
        out = []
        for position in range(start, start + size):
            epoch, index = divmod(position, len(self.rows))
            order = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.rows))
            out.append(self.rows[int(order[index])])
        return out


def train_sft(config: SFTConfig, resume: bool = False) -> Path:
    """Run SFT with ``config``; with ``resume``, continue from the latest checkpoint in
    ``config.output_dir``. Returns the run directory. As in GRPO (:mod:`thinkgym.agents.run`), a
    SIGINT or SIGTERM ends the current step, writes a checkpoint and raises
    :class:`~thinkgym.agents.faults.TrainingStopped`; a non-finite loss or gradient skips the
    update, and ``max_nonfinite_steps`` of those in a row raise ``TrainingDiverged``."""
    source = DataSource(config)  # reads and checks the data file before the model loads
    with StopSignals() as stop:
        run = start_run(config, resume, stop, stage="sft")
        log = bar = None
        if run.accelerator.is_main_process:
            run_dir = Path(config.output_dir)
            run_dir.mkdir(parents=True, exist_ok=True)
            if run.start_step:  # a resumed run: drop what was logged after its checkpoint
                truncate_log(run_dir / "log.jsonl", run.start_step)
            (run_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
            log = open(run_dir / "log.jsonl", "a")
            from tqdm.auto import tqdm

            bar = tqdm(total=config.steps, initial=run.start_step, desc="sft", unit="step", disable=not config.progress)
        try:
            sft_loop(config, run, source, log, bar)
        finally:
            if log is not None:
                bar.close()
                log.close()
    return Path(config.output_dir)


def sft_loop(config: SFTConfig, run: Run, source: DataSource, log: Any, bar: Any) -> None:
    """Steps ``run.start_step + 1 .. config.steps``: one optimizer step on each step's examples."""
    accelerator, model, tokenizer = run.accelerator, run.model, run.tokenizer
    rank, world = accelerator.process_index, accelerator.num_processes
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    skipped_total = 0
    for step in range(run.start_step, config.steps):
        t0 = time.perf_counter()
        examples = source.batch(step)[rank::world]
        encoded = [encode_example(tokenizer, e, config.system_prompt, config.response_prefix) for e in examples]
        kept = [pair for pair in encoded if len(pair[0]) <= config.max_length]
        skipped_total += len(encoded) - len(kept)
        kept.sort(key=lambda pair: len(pair[0]))  # similar lengths pad less
        micro = [collate(kept[i : i + config.micro_batch_size], pad_id) for i in range(0, len(kept), config.micro_batch_size)]
        # Token-mean over the whole batch on every process: each micro-batch's summed loss is
        # divided by the global token count (DDP averages gradients, hence the * world).
        local_tokens = sum(int((m["labels"] != IGNORE).sum()) for m in micro)
        tokens = int(_all_sum(accelerator, local_tokens))
        model.train()
        run.optimizer.zero_grad(set_to_none=True)
        loss_sum = 0.0
        for index, m in enumerate(micro):
            sync = index == len(micro) - 1
            with contextlib.nullcontext() if sync else accelerator.no_sync(model):
                loss, _ = completion_loss(model, m, run.autocast)
                accelerator.backward(loss * world / max(tokens, 1))
            loss_sum += float(loss.detach())
        if not micro:  # every example was too long: still join the all-reduce with zero gradients
            accelerator.backward(sum(p.sum() * 0.0 for p in model.parameters() if p.requires_grad))
        loss_total = _all_sum(accelerator, loss_sum)
        grad_norm = run.update(step, [loss_total])
        run.scheduler.step()
        if log is not None:
            row = {
                "step": step + 1,
                "loss": loss_total / max(tokens, 1),
                "tokens": tokens,
                "examples": len(examples) * world,
                "skipped_too_long": skipped_total,
                "lr": run.scheduler.get_last_lr()[0],
                "grad_norm": grad_norm,
                "skipped_update": grad_norm is None,
                "nonfinite_steps": run.nonfinite_total + (grad_norm is None),
                "step_time": time.perf_counter() - t0,
            }
            log.write(json.dumps(row) + "\n")
            log.flush()
            bar.set_postfix(loss=f"{row['loss']:.3f}", refresh=False)
            bar.update(1)
        run.end_step(step, grad_norm is not None)


def _all_sum(accelerator: Any, value: float) -> float:
    if accelerator.num_processes == 1:
        return value
    tensor = torch.tensor([float(value)], device=accelerator.device)
    return float(accelerator.reduce(tensor, reduction="sum")[0])
