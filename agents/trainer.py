"""The GRPO training loop, top to bottom.

Each step, on every process: draw ``prompts_per_step`` train problems from the env mix, roll out
G completions per problem (multi-turn envs: several turns, env text masked), score them
(correctness + weighted format reward + optional over-length penalty), drop groups whose
rewards are all equal and refill them with new problems (up to ``max_refill_rounds`` extra
rounds), compute group advantages, then take one optimizer step made of ``mu`` passes over
micro-batches of the groups with signal, with gradient accumulation (groups left without signal
have zero advantages: they are not run, and the loss keeps the whole batch's normalisation).
Gradients are all-reduced by accelerate (DDP); the main process logs and checkpoints. Set-up,
the optimizer step (with its skip of non-finite updates), stop signals, checkpoints and resume
are the run skeleton shared with SFT (:mod:`thinkgym.agents.run`); this file is the GRPO loop only.

Departures from the paper's GRPO, all configurable: the format reward is a weighted shaping
term; the old log-probs are the first pass's own, detached (no forward of their own); the
reference forward is skipped when ``beta = 0`` or ``divergence = none``; with LoRA the reference
is the base model with adapters disabled; forwards run under bf16 autocast, compute logits only
for completion tokens, and (on one process) run each group's shared prompt once.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from thinkgym.agents.config import TrainConfig
from thinkgym.agents.curriculum import Curriculum
from thinkgym.agents.episodes import Episode
from thinkgym.agents.faults import StopSignals
from thinkgym.agents.grpo import AGGREGATIONS, group_advantages, grpo_loss
from thinkgym.agents.logprobs import selected_logps, shared_prefix_batch, shared_prefix_logps
from thinkgym.agents.run import Run, start_run, truncate_log
from thinkgym.agents.rollout import EnvPool, components, draw_problems, mix_seed, pad_left, run_episodes, start_episodes
from thinkgym.envs.registry import env_info, make as make_env


def train(config: TrainConfig, resume: bool = False) -> Path:
    """Run GRPO with ``config``; with ``resume``, continue from the latest checkpoint in
    ``config.output_dir``. Returns the run directory. A SIGINT or SIGTERM ends the current step,
    writes a checkpoint and raises :class:`TrainingStopped`; too many non-finite steps in a row
    raise :class:`TrainingDiverged` (see :mod:`thinkgym.agents.run`)."""
    for spec in config.mix:  # bad env options (e.g. a missing or malformed data file) fail before anything loads
        make_env(spec.id, difficulty=spec.difficulty, **spec.kwargs).close()
    needs_reference = config.beta != 0 and config.divergence != "none"
    with StopSignals() as stop:
        run = start_run(config, resume, stop, stage="grpo", reference=needs_reference)
        curriculum = Curriculum(config.mix, enabled=config.curriculum, window=config.curriculum_window, up=config.curriculum_up, down=config.curriculum_down)
        if run.state:
            curriculum.load_state_dict(run.state["curriculum"])
        logger = RunLogger(Path(config.output_dir), config, enabled=run.accelerator.is_main_process, start_step=run.start_step)
        try:
            grpo_loop(config, run, curriculum, logger, needs_reference)
        finally:
            logger.close()
    write_rank_summary(Path(config.output_dir), run.accelerator, run.model, config.steps - run.start_step)
    return Path(config.output_dir)


def grpo_loop(config: TrainConfig, run: Run, curriculum: Curriculum, logger: RunLogger, needs_reference: bool) -> None:
    """Steps ``run.start_step + 1 .. config.steps``: rollouts, advantages, ``mu`` optimisation passes."""
    accelerator, model, tokenizer, optimizer, autocast = run.accelerator, run.model, run.tokenizer, run.optimizer, run.autocast
    rank = accelerator.process_index
    pool = EnvPool(config.mix, config.group_size)
    multi_turn = any(env_info(spec.id).multi_turn for spec in config.mix)
    max_completion = config.max_new_tokens * (config.max_turns if multi_turn else 1)  # dr-grpo's constant
    aggregation = AGGREGATIONS[config.aggregation]

    for step in range(run.start_step, config.steps):
        t0 = time.perf_counter()
        unwrapped = accelerator.unwrap_model(model)

        # -- rollouts, with dynamic sampling ---------------------------------------------------------
        batch, rollout = collect_batch(config, unwrapped, tokenizer, pool, curriculum.levels, rank, step, autocast)
        t_rollout = time.perf_counter() - t0

        # -- advantages -----------------------------------------------------------------------------
        rewards = torch.tensor([e.reward for e in batch], dtype=torch.float32)
        advantages = group_advantages(rewards, config.group_size, config.advantage_scale)  # (B,)
        # Groups without signal (all rewards equal: advantages 0, so no policy gradient) trail the
        # batch; they are not run through the reference or the policy, and the loss stays
        # normalised by the whole batch, so the policy-gradient step is the one with them in it.
        trained = batch[: trained_sequences(config, rollout, accelerator)]

        # -- optimisation: mu passes over micro-batches -------------------------------------------------
        # One process: each group's prompt is computed once (agents/logprobs.py), so micro-batches
        # keep groups together; under DDP (one forward per backward), padded full sequences.
        share_prefix = accelerator.num_processes == 1
        size = (lambda i: (i // config.group_size, len(batch[i].token_ids))) if share_prefix else (lambda i: len(batch[i].token_ids))
        order = sorted(range(len(trained)), key=size)  # similar lengths pad less
        chunks = [order[i : i + config.micro_batch_size] for i in range(0, len(order), config.micro_batch_size)]
        micro = [prepare_micro_batch([batch[i] for i in chunk], advantages[chunk], tokenizer, share_prefix) for chunk in chunks]
        batch_tokens = int(sum(float(m["mask"].sum()) for m in micro)) + sum(sum(e.mask) for e in batch[len(trained) :])
        t_reference = time.perf_counter()
        if needs_reference:
            with torch.no_grad(), unwrapped.disable_adapter() if config.lora else contextlib.nullcontext():
                for m in micro:
                    m["ref_logps"], _ = token_logps(run.reference or unwrapped, m, autocast)
        t_train, cpu_train = time.perf_counter(), time.process_time()
        t_reference = t_train - t_reference
        stats: dict[str, list[float]] = defaultdict(list)
        model.train()
        grad_norm = None
        for epoch in range(config.mu):
            optimizer.zero_grad(set_to_none=True)
            for index, m in enumerate(micro):
                sync = index == len(micro) - 1
                with contextlib.nullcontext() if sync else accelerator.no_sync(model):
                    logps, entropy = token_logps(model, m, autocast, with_entropy=epoch == 0)
                    # The first pass runs the weights that sampled the batch, so its log-probs are
                    # the old policy's (ratio 1); later passes reuse them instead of a forward of their own.
                    if epoch == 0:
                        m["old_logps"] = logps.detach()
                    old = m["old_logps"]
                    loss, loss_stats = grpo_loss(
                        logps,
                        old,
                        m.get("ref_logps"),
                        m["advantages"],
                        m["mask"],
                        epsilon=config.epsilon,
                        epsilon_high=config.epsilon_high,
                        beta=config.beta,
                        divergence=config.divergence,
                        aggregation=config.aggregation,
                        max_completion_length=max_completion,
                        sequence_ratio=config.sequence_ratio,
                        return_stats=True,
                    )
                    share = aggregation.share(m["mask"], len(batch), batch_tokens)
                    accelerator.backward(loss * share)
                stats["loss"].append(float(loss.detach()) * share)
                for key, value in loss_stats.items():
                    stats[key].append(value)
                if entropy is not None:
                    stats["entropy"].append(entropy)
            grad_norm = run.update(step, stats["loss"])
            if grad_norm is None:  # non-finite: the update is skipped, and so are the other passes
                break
        run.scheduler.step()
        t_train, cpu_train = time.perf_counter() - t_train, time.process_time() - cpu_train
        finite = grad_norm is not None

        # -- bookkeeping ----------------------------------------------------------------------------
        records = gather([episode_record(e, config) for e in batch], accelerator)
        changed = curriculum.update((r["env"], r["success"]) for r in records)
        step_time = time.perf_counter() - t0
        totals = gather([rollout], accelerator)
        logger.log_step(
            step + 1,
            records,
            {
                "loss": float(np.sum(stats["loss"]) / config.mu),
                "kl": float(np.mean(stats["kl"])),
                "clip_fraction": float(np.mean(stats["clip_fraction"])),
                "entropy": float(np.mean(stats["entropy"])) if stats["entropy"] else None,
                "grad_norm": grad_norm,
                "skipped_update": not finite,
                "nonfinite_steps": run.nonfinite_total + (0 if finite else 1),
                "lr": run.scheduler.get_last_lr()[0],
                "dropped_fraction": sum(t["dropped"] for t in totals) / sum(t["groups"] for t in totals),
                "tokens_per_s": sum(t["generated_tokens"] for t in totals) / step_time,
                "rollout_time": t_rollout,
                "reference_time": t_reference,  # reference forwards
                "train_time": t_train,  # forward/backward passes and optimizer step
                "train_cpu_time": cpu_train,  # the same in CPU seconds of this process (all its threads)
                "train_positions": sum(m["ids"].numel() + (m["prefix_ids"].numel() if "prefix_ids" in m else 0) for m in micro) * config.mu,
                "logit_positions": sum(m["ids"].numel() if "prefix_ids" in m else m["ids"].shape[0] * (m["keep"] + 1) for m in micro) * config.mu,
                "step_time": step_time,
                "levels": dict(curriculum.levels),
                "level_changes": changed,
            },
            batch,
        )
        sampler = {"seed": config.seed, "next_step": step + 1, "note": "problems are a function of (seed, rank, step, round)"}
        run.end_step(step, finite, {"curriculum": curriculum.state_dict(), "sampler": sampler})


def collect_batch(
    config: TrainConfig, model: Any, tokenizer: Any, pool: EnvPool, levels: dict[str, int], rank: int, step: int, autocast: torch.dtype | None
) -> tuple[list[Episode], dict[str, int]]:
    """Roll out ``prompts_per_step`` groups for one step, dropping groups whose rewards are all
    equal and refilling them with new problems for up to ``max_refill_rounds`` extra rounds
    (dynamic sampling). Returns the batch (groups contiguous) and counts: ``groups`` generated,
    ``dropped``, ``generated_tokens``."""
    kept: list[list[Episode]] = []
    dropped: list[list[Episode]] = []
    generated_tokens = 0
    rounds = 1 + (config.max_refill_rounds if config.dynamic_sampling else 0)
    for round_ in range(rounds):
        need = config.prompts_per_step - len(kept)
        if need == 0:
            break
        problems = draw_problems(config, pool, levels, rank, step, round_)[:need]
        episodes = start_episodes(config, tokenizer, pool, problems, first_group=0)
        run_episodes(model, tokenizer, episodes, config, mix_seed(config.seed, rank, step, round_, 1), autocast)
        generated_tokens += sum(e.completion_tokens for e in episodes)
        for i in range(0, len(episodes), config.group_size):
            group = episodes[i : i + config.group_size]
            rewards = [e.reward for e in group]
            no_signal = config.dynamic_sampling and max(rewards) - min(rewards) < 1e-9
            (dropped if no_signal else kept).append(group)
    # Groups without signal fill the batch when refills run out (logged with the rest; only as many
    # are trained as DDP needs for equal micro-batch counts: see trained_sequences).
    batch = [e for group in (kept + dropped)[: config.prompts_per_step] for e in group]
    return batch, {"groups": len(kept) + len(dropped), "dropped": len(dropped), "generated_tokens": generated_tokens}


def trained_sequences(config: TrainConfig, rollout: dict[str, int], accelerator: Any) -> int:
    """How many sequences of the batch (groups with signal first, see :func:`collect_batch`)
    are trained: with dynamic sampling, the groups with signal, at least one group, and under
    DDP the most any process has (every process runs the same number of micro-batches)."""
    groups = config.prompts_per_step
    if config.dynamic_sampling:
        groups = max(1, max(gather([min(rollout["groups"] - rollout["dropped"], config.prompts_per_step)], accelerator)))
    return groups * config.group_size


def write_rank_summary(run_dir: Path, accelerator: Any, model: Any, steps: int) -> None:
    """``ranks/rank-N.json`` per process: steps done and a checksum of its parameters, so that
    a distributed run can be checked (every rank trained, all ended with the same weights)."""
    with torch.no_grad():
        checksum = sum(float(p.double().sum()) + float(p.double().abs().sum()) for p in accelerator.unwrap_model(model).parameters())
    folder = run_dir / "ranks"
    folder.mkdir(parents=True, exist_ok=True)
    summary = {"rank": accelerator.process_index, "num_processes": accelerator.num_processes, "trained_steps": steps, "param_checksum": checksum}
    (folder / f"rank-{accelerator.process_index}.json").write_text(json.dumps(summary) + "\n")
    accelerator.wait_for_everyone()


# ----------------------------------------------------------------------------------------------
# Forwards


def prepare_micro_batch(episodes: list[Episode], advantages: torch.Tensor, tokenizer: Any, share_prefix: bool = False) -> dict[str, Any]:
    """Padded full sequences, or with ``share_prefix`` shared prompts and suffixes (see
    :func:`thinkgym.agents.logprobs.shared_prefix_batch`)."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if share_prefix:
        return shared_prefix_batch(episodes, advantages, pad_id)
    ids, attention, mask, keep = pad_left(episodes, pad_id)
    return {"ids": ids, "attention": attention, "mask": mask[:, -keep:], "keep": keep, "advantages": advantages}


def token_logps(model: Any, m: dict[str, Any], autocast: torch.dtype | None, with_entropy: bool = False) -> tuple[torch.Tensor, float | None]:
    """Log-probs ``[B, keep]`` of the last ``keep`` tokens of each row, from logits computed for
    that window only; with ``with_entropy``, also the mean policy entropy on completion tokens.
    A shared-prefix micro-batch gives ``[B, S - 1]`` (see :mod:`thinkgym.agents.logprobs`)."""
    if "prefix_ids" in m:
        return shared_prefix_logps(model, m, autocast, with_entropy)
    device = next(model.parameters()).device
    ids, attention, keep = m["ids"].to(device), m["attention"].to(device), m["keep"]
    positions = (attention.cumsum(-1) - 1).clamp(min=0)  # left padding does not shift positions
    ctx = torch.autocast(device_type=device.type, dtype=autocast) if autocast else contextlib.nullcontext()
    with ctx:
        out = model(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=False, logits_to_keep=keep + 1)
    # (B, keep + 1, V) logits: position t predicts token t + 1; blockwise, no float32 [B, keep, V] copy
    logps, ent = selected_logps(out.logits, ids[:, -keep:], with_entropy=with_entropy)  # (B, keep)
    entropy = None
    if ent is not None:
        mask = m["mask"].to(device)
        entropy = float((ent * mask).sum() / mask.sum().clamp(min=1))
    return logps, entropy


# ----------------------------------------------------------------------------------------------
# Logging


def episode_record(e: Episode, config: TrainConfig) -> dict[str, Any]:
    """One episode's line of the step statistics; ``success`` is the engine's ``e.correct``."""
    return {"env": e.env_id, "reward": e.reward, "success": e.correct, "tokens": e.completion_tokens, "truncated": e.truncated, **components(e, config)}


def gather(items: list[dict[str, Any]], accelerator: Any) -> list[dict[str, Any]]:
    """Every process's items, on every process."""
    if accelerator.num_processes == 1:
        return items
    from accelerate.utils import gather_object

    return list(gather_object(items))


class RunLogger:
    """log.jsonl (one line per step), samples.jsonl, TensorBoard when installed, a progress bar."""

    def __init__(self, run_dir: Path, config: TrainConfig, *, enabled: bool, start_step: int) -> None:
        self.enabled, self.config = enabled, config
        self.writer = self.bar = None
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        if start_step:  # a resumed run: drop what was logged after the checkpoint it resumes from
            for name in ("log.jsonl", "samples.jsonl"):
                truncate_log(run_dir / name, start_step)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
        self.log = open(run_dir / "log.jsonl", "a")
        self.samples = open(run_dir / "samples.jsonl", "a")
        if config.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(run_dir / "tensorboard"))
            except ImportError:
                self.writer = None
        from tqdm.auto import tqdm

        self.bar = tqdm(total=config.steps, initial=start_step, desc="grpo", unit="step", disable=not config.progress)

    def log_step(self, step: int, records: list[dict[str, Any]], extra: dict[str, Any], batch: list[Episode]) -> None:
        if not self.enabled:
            return
        row: dict[str, Any] = {"step": step}
        row["reward"] = float(np.mean([r["reward"] for r in records]))
        row["accuracy"] = float(np.mean([r["success"] for r in records]))
        row["format_rate"] = float(np.mean([r["format"] >= 1.0 for r in records]))
        row["completion_length"] = float(np.mean([r["tokens"] for r in records]))
        row["truncated_fraction"] = float(np.mean([r["truncated"] for r in records]))
        per_env: dict[str, dict[str, float]] = {}
        for env_id in sorted({r["env"] for r in records}):
            mine = [r for r in records if r["env"] == env_id]
            per_env[env_id] = {
                "reward": float(np.mean([r["reward"] for r in mine])),
                "accuracy": float(np.mean([r["success"] for r in mine])),
                **{f"reward_{k}": float(np.mean([r[k] for r in mine])) for k in ("correctness", "format", "answer", "overlong")},
                "episodes": len(mine),
            }
        row.update(extra)
        row["envs"] = per_env
        self.log.write(json.dumps(row) + "\n")
        self.log.flush()
        for e in batch[: self.config.samples_per_step]:
            sample = {"step": step, "env": e.env_id, "difficulty": e.problem.difficulty, "prompt": e.problem.prompt, "completions": e.texts, "reward": e.reward, "success": e.correct}
            self.samples.write(json.dumps(sample) + "\n")
        self.samples.flush()
        if self.writer is not None:
            for key, value in row.items():
                if isinstance(value, (int, float)) and key != "step":
                    self.writer.add_scalar(key, value, step)
            for env_id, values in per_env.items():
                for key, value in values.items():
                    self.writer.add_scalar(f"{env_id}/{key}", value, step)
        self.bar.set_postfix(reward=f"{row['reward']:.3f}", acc=f"{row['accuracy']:.2f}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.enabled:
            self.bar.close()
            self.log.close()
            self.samples.close()
            if self.writer is not None:
                self.writer.close()
