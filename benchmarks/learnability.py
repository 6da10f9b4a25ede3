"""Which single-turn envs can the default 135M model learn here? (issue 18, step 3)

For every engine-free single-turn env with solver traces, at its easiest level, on one fixed
held-out set (``eval`` split, ``--n`` problems, greedy, the training system prompt,
``response_prefix "<think>\\n"``, ``--max-new-tokens``):

1. ``base``: the start model's accuracy and format rate;
2. ``cold_start``: one SFT over the mix of all candidate envs on verified solver traces of the
   train split (``thinkgym.agents.sft.train_sft``), then the same evaluation;
3. ``probe``: for the ``--probes`` most promising envs (cold-start accuracy in
   [``--low``, ``--high``], chance below ``--max-chance``, one per family first), a short GRPO
   run on that env alone from the cold-started policy (``thinkgym.agents.trainer.train``), then
   the same evaluation.

Chance is computed from the held-out problems without the model: the share of the most
frequent reference answer, and the best constant answer (every distinct reference answer of
the set, scored by the env's own verifier on every problem); ``chance`` is the larger. A task
with chance of 20% or more does not count. Intervals: Wilson 95% for accuracies, Newcombe's
paired 95% interval for the gain of a probe over the cold start (same problems).

Run: ``python benchmarks/learnability.py`` (about 45-60 minutes on two cores). Every stage is
cached in ``--out`` (an evaluation with its ``results.json``, a training run with its final
checkpoint), so an interrupted run continues where it stopped. Prints the table and writes
``benchmarks/results/learnability.json``.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

# Every library module this script calls is imported up front: a long run must not import a
# module another session is editing mid-run.
from thinkgym.agents.chance import chance_level
from thinkgym.agents.checkpoint import latest_checkpoint
from thinkgym.agents.config import config_from_dict
from thinkgym.agents.evaluate import EvalTask, GenerationOptions, run_eval
from thinkgym.agents.metrics import paired_difference_interval, wilson_interval
from thinkgym.agents.sft import train_sft
from thinkgym.agents.sft_config import sft_config_from_dict
from thinkgym.agents.sft_data import NoExplainError, check_explainable
from thinkgym.agents.trainer import train
from thinkgym.envs.registry import env_info, list_envs
from thinkgym.prompts import R1_SYSTEM_PROMPT

PREFIX = "<think>\n"
ROOT = Path(__file__).resolve().parent.parent


def candidate_envs(include_engine: bool) -> list[str]:
    """Single-turn envs with solver traces (``explain``), engine-backed ones only on request."""
    ids = []
    for env_id in list_envs():
        info = env_info(env_id)
        if info.multi_turn or (info.requires and not include_engine):
            continue
        try:
            check_explainable([_spec(env_id)])
        except NoExplainError:
            continue
        ids.append(env_id)
    return ids


def _spec(env_id: str) -> Any:
    from thinkgym.mix import EnvSpec

    return EnvSpec(env_id, 1.0, 1)


def chance_levels(env_id: str, n: int, seed: int) -> dict[str, Any]:
    """Chance on the held-out set at level 1, without the model (:func:`thinkgym.agents.chance.chance_level`)."""
    return chance_level(EvalTask(env_id, (1,)), n, seed, response_prefix=PREFIX)


def trace_tokens(env_ids: list[str], tokenizer: Any, count: int = 8) -> dict[str, int]:
    """Median tokens of the solver's R1 completion per env (train split): what the cold-started
    policy imitates, to compare with the token budget."""
    from thinkgym.agents.sft_data import solver_examples

    out = {}
    for env_id in env_ids:
        lengths = sorted(len(tokenizer(e["completion"])["input_ids"]) for e in solver_examples([_spec(env_id)], count, 0))
        out[env_id] = lengths[len(lengths) // 2]
    return out


def evaluation(model: str, env_ids: list[str], out: Path, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, dict[int, bool]], float]:
    """Greedy held-out results per env, outcomes per env and seed, seconds (cached in ``out``)."""
    started = time.perf_counter()
    if not (out / "results.json").is_file():
        options = GenerationOptions(max_new_tokens=args.max_new_tokens, response_prefix=PREFIX, batch_size=args.batch_size, progress=True)
        isolated(run_eval, model, [EvalTask(e, (1,)) for e in env_ids], n=args.n, samples=1, seed=args.seed, out=out, options=options,
                 system_prompt=R1_SYSTEM_PROMPT)
    results = json.loads((out / "results.json").read_text())
    outcomes: dict[str, dict[int, bool]] = collections.defaultdict(dict)
    for line in (out / "completions.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "greedy":
            outcomes[record["env_id"]][int(record["seed"])] = bool(record["correct"])
    seconds = json.loads((out / "settings.json").read_text()).get("seconds", time.perf_counter() - started)
    return results["tasks"], dict(outcomes), seconds


def _stage(threads: int, fn: Any, args: tuple, kwargs: dict) -> None:
    import torch

    torch.set_num_threads(threads)
    fn(*args, **kwargs)


def isolated(fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run one stage in a fresh (spawned) child process: its memory (a loaded model, generation
    caches, SFT logits) goes back to the system when it ends. Kept in one process, a base
    evaluation and the SFT after it grew to 13.8 GB and were killed by the OOM killer on a
    shared 24 GB machine. Spawned, not forked: a forked child of a process with torch's thread
    pools can deadlock (one probe evaluation hung so)."""
    import multiprocessing

    import torch

    child = multiprocessing.get_context("spawn").Process(target=_stage, args=(torch.get_num_threads(), fn, args, kwargs))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"stage {getattr(fn, '__name__', fn)} failed (exit code {child.exitcode}); its output is above")


def finished(run_dir: Path, steps: int) -> bool:
    latest = latest_checkpoint(run_dir) if run_dir.is_dir() else None
    return latest is not None and (latest / "DONE").is_file() and int((latest / "DONE").read_text().strip()) >= steps


def pick_probes(rows: dict[str, dict[str, Any]], args: argparse.Namespace) -> tuple[list[str], bool]:
    """Up to ``args.probes`` envs whose cold-start accuracy is in [low, high] with chance below
    max_chance, nearest 40% first, one per family before a second of any family; when fewer
    than 4 qualify, the band is widened to [low / 3, (1 + high) / 2] (``relaxed``)."""
    def chosen(low: float, high: float) -> list[str]:
        fits = [e for e, r in rows.items() if r["chance"] < args.max_chance and low <= r["cold_start"]["accuracy"] <= high]
        fits.sort(key=lambda e: abs(rows[e]["cold_start"]["accuracy"] - 0.4))
        order, seen = [], set()
        for env_id in fits:  # best of each family first
            if rows[env_id]["family"] not in seen:
                seen.add(rows[env_id]["family"])
                order.append(env_id)
        order += [e for e in fits if e not in order]
        return order[: args.probes]

    picks = chosen(args.low, args.high)
    if len(picks) >= min(4, args.probes):
        return picks, False
    return chosen(args.low / 3, (1 + args.high) / 2), True


def probe_config(env_id: str, model: str, out: Path, args: argparse.Namespace) -> Any:
    return config_from_dict({
        "model": model, "mix": [{"id": env_id, "difficulty": 1}], "seed": args.seed, "output_dir": str(out),
        "response_prefix": PREFIX, "steps": args.probe_steps, "prompts_per_step": args.prompts_per_step,
        "group_size": args.group_size, "max_new_tokens": args.max_new_tokens, "temperature": 1.0,
        "dynamic_sampling": True, "max_refill_rounds": 1, "format_weight": 0.2, "answer_weight": 0.1,
        "beta": args.beta, "learning_rate": args.grpo_lr, "warmup_steps": 1, "lr_schedule": "constant",
        "micro_batch_size": 8, "bf16": True, "curriculum": False, "checkpoint_every": 0, "keep_checkpoints": 1,
        "samples_per_step": 2, "tensorboard": False,
    })


def training_curve(run_dir: Path) -> list[dict[str, float]]:
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    keep = ("step", "reward", "accuracy", "format_rate", "completion_length", "dropped_fraction", "step_time")
    return [{k: round(r[k], 4) if isinstance(r.get(k), float) else r.get(k) for k in keep} for r in rows]


def entry(task: dict[str, Any]) -> dict[str, Any]:
    return {"accuracy": task["accuracy"], "ci95": task["ci95"], "format_rate": task["format_rate"],
            "mean_completion_tokens": round(task["mean_completion_tokens"], 1), "n": task["n"]}


def machine() -> dict[str, Any]:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_bf16": bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())}


def pct(x: float | None) -> str:
    return "    -" if x is None else f"{100 * x:5.1f}"


def table(rows: dict[str, dict[str, Any]], budget: int) -> str:
    head = (f"{'env':32s} {'family':6s} {'chance':>6s} | {'base':>5s} {'fmt':>4s} | {'cold':>5s} {'95% CI':>11s} {'fmt':>4s} | "
            f"{'probe':>5s} {'95% CI':>11s} {'fmt':>4s} {'gain [paired CI]':>20s} | {'n':>3s} trace")
    lines = [head, "-" * len(head)]
    for env_id, r in sorted(rows.items(), key=lambda kv: (kv[1]["family"], kv[0])):
        cold, probe = r["cold_start"], r.get("probe")
        ci = lambda e: f"[{100 * e['ci95'][0]:3.0f},{100 * e['ci95'][1]:3.0f}]"
        probe_text = f"{pct(None)} {'':>11s} {'':>4s} {'':>20s}"
        if probe:
            gain = probe["gain_over_cold_start"]
            probe_text = (f"{pct(probe['accuracy'])} {ci(probe):>11s} {probe['format_rate']:4.2f} "
                          f"{100 * gain['mean']:+6.1f} [{100 * gain['ci95'][0]:+5.1f},{100 * gain['ci95'][1]:+5.1f}]")
        flag = "" if r["trace_tokens"] <= budget else f" > {budget}"
        lines.append(
            f"{env_id.removeprefix('thinkgym/'):32s} {r['family']:6s} {pct(r['chance'])} | {pct(r['base']['accuracy'])} {r['base']['format_rate']:4.2f} | "
            f"{pct(cold['accuracy'])} {ci(cold):>11s} {cold['format_rate']:4.2f} | {probe_text} | {cold['n']:3d} {r['trace_tokens']}{flag}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--envs", nargs="+", help="env ids (default: every engine-free single-turn env with solver traces)")
    p.add_argument("--engine", action="store_true", help="also the Stockfish-backed envs")
    p.add_argument("--n", type=int, default=40, help="held-out problems per env")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=128, help="token budget of evaluation and GRPO")
    p.add_argument("--batch-size", type=int, default=96)
    p.add_argument("--sft-steps", type=int, default=24)
    p.add_argument("--sft-batch", type=int, default=16)
    p.add_argument("--sft-lr", type=float, default=5e-5)
    p.add_argument("--probes", type=int, default=5)
    p.add_argument("--probe-envs", nargs="+", help="probe these envs instead of picking them")
    p.add_argument("--probe-steps", type=int, default=12)
    p.add_argument("--prompts-per-step", type=int, default=4)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--grpo-lr", type=float, default=2e-5)
    p.add_argument("--beta", type=float, default=0.04)
    p.add_argument("--low", type=float, default=0.15)
    p.add_argument("--high", type=float, default=0.70)
    p.add_argument("--max-chance", type=float, default=0.20)
    p.add_argument("--out", default="runs/learnability", help="stage directory (cached: a rerun continues)")
    p.add_argument("--results", default=str(ROOT / "benchmarks/results/learnability.json"))
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on a shared 2-core machine two threads stall each other at every op's barrier)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    loads = {"start": list(os.getloadavg())}
    wall: dict[str, float] = {}

    env_ids = args.envs or candidate_envs(args.engine)
    print(f"{len(env_ids)} envs, n={args.n}, max_new_tokens={args.max_new_tokens}", flush=True)

    t0 = time.perf_counter()
    from transformers import AutoTokenizer

    from thinkgym.agents.policy import resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(args.model))
    rows: dict[str, dict[str, Any]] = {}
    for env_id in env_ids:
        rows[env_id] = {"family": env_info(env_id).family, **chance_levels(env_id, args.n, args.seed)}
    traces = trace_tokens(env_ids, tokenizer)
    for env_id in env_ids:
        rows[env_id]["trace_tokens"] = traces[env_id]
    wall["chance_and_traces"] = time.perf_counter() - t0
    print(f"chance levels and trace lengths: {wall['chance_and_traces']:.0f} s", flush=True)

    base, base_outcomes, wall["base_eval"] = evaluation(args.model, env_ids, out / "eval-base", args)
    loads["after_base"] = list(os.getloadavg())

    sft = sft_config_from_dict({
        "model": args.model, "mix": [{"id": e, "difficulty": 1} for e in env_ids], "seed": args.seed,
        "output_dir": str(out / "cold_start"), "response_prefix": PREFIX, "steps": args.sft_steps,
        "batch_size": args.sft_batch, "micro_batch_size": 4, "max_length": 768, "learning_rate": args.sft_lr,
        "warmup_steps": 2, "lr_schedule": "cosine", "bf16": True, "checkpoint_every": 6, "keep_checkpoints": 1,
    })
    t0 = time.perf_counter()
    if not finished(Path(sft.output_dir), sft.steps):
        isolated(train_sft, sft, resume=latest_checkpoint(sft.output_dir) is not None if Path(sft.output_dir).is_dir() else False)
    wall["cold_start_sft"] = time.perf_counter() - t0
    loads["after_sft"] = list(os.getloadavg())
    cold, cold_outcomes, wall["cold_start_eval"] = evaluation(sft.output_dir, env_ids, out / "eval-cold_start", args)

    for env_id in env_ids:
        for stage, results, outcomes in (("base", base, base_outcomes), ("cold_start", cold, cold_outcomes)):
            if sorted(outcomes[env_id]) != sorted(rows[env_id]["seeds"]):
                raise RuntimeError(f"{env_id}: the {stage} evaluation's problems are not the chance set's")
            rows[env_id][stage] = entry(results[env_id])

    picks, relaxed = (args.probe_envs, False) if args.probe_envs else pick_probes(rows, args)
    print(f"GRPO probes ({'relaxed band' if relaxed else 'band'}): {', '.join(picks)}", flush=True)
    probes_wall = {}
    for env_id in picks:
        name = env_id.removeprefix("thinkgym/")
        config = probe_config(env_id, sft.output_dir, out / f"probe-{name}", args)
        t0 = time.perf_counter()
        if not finished(Path(config.output_dir), config.steps):
            isolated(train, config, resume=Path(config.output_dir).is_dir() and latest_checkpoint(config.output_dir) is not None)
        trained = time.perf_counter() - t0
        results, outcomes, seconds = evaluation(config.output_dir, [env_id], out / f"eval-probe-{name}", args)
        seeds = rows[env_id]["seeds"]
        before = [cold_outcomes[env_id][s] for s in seeds]
        after = [outcomes[env_id][s] for s in seeds]
        rows[env_id]["probe"] = {
            **entry(results[env_id]),
            "gain_over_cold_start": {"mean": sum(after) / len(after) - sum(before) / len(before), "ci95": list(paired_difference_interval(before, after))},
            "train_seconds": round(trained, 1), "eval_seconds": seconds, "curve": training_curve(Path(config.output_dir)),
        }
        probes_wall[env_id] = round(trained + seconds, 1)
        print(f"  {name}: cold {pct(rows[env_id]['cold_start']['accuracy'])} -> probe {pct(rows[env_id]['probe']['accuracy'])} "
              f"(train {trained:.0f} s)", flush=True)
    wall["probes"] = sum(probes_wall.values())
    loads["end"] = list(os.getloadavg())

    for r in rows.values():
        del r["seeds"]
    print()
    print(table(rows, args.max_new_tokens))
    counted = [e for e in picks if rows[e]["chance"] < args.max_chance]
    if counted:
        mean = lambda stage: sum(rows[e][stage]["accuracy"] for e in counted) / len(counted)
        print(f"\nprobed envs with chance < {args.max_chance:.0%}: base {pct(mean('base'))}, cold start {pct(mean('cold_start'))}, probe {pct(mean('probe'))}")
    total = time.perf_counter() - started
    print(f"wall: {', '.join(f'{k} {v:.0f} s' for k, v in wall.items())}; total {total / 60:.1f} min; load {loads}")

    report = {
        "settings": {k: v for k, v in vars(args).items() if k not in ("results",)} | {"response_prefix": PREFIX, "system_prompt": "R1_SYSTEM_PROMPT", "split": "eval", "level": 1},
        "sft": sft.to_dict(),
        "probe_config": {k: v for k, v in probe_config(picks[0], sft.output_dir, out / "x", args).to_dict().items() if k not in ("model", "mix", "output_dir")} if picks else None,
        "machine": machine(), "load_average": loads, "wall_seconds": {k: round(v, 1) for k, v in wall.items()} | {"total": round(total, 1)},
        "probe_wall_seconds": probes_wall, "probes": picks, "probe_band_relaxed": relaxed,
        "envs": rows,
    }
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(report, indent=2) + "\n")
    (out / "table.txt").write_text(table(rows, args.max_new_tokens) + "\n")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
