"""``thinkgym run``: the main job, what ``make train`` runs: DeepSeek-R1's recipe on the env mix.

    thinkgym run --config configs/default.yaml [--eval-n 100] [key=value ...]

1. evaluates the config's base model on held-out problems of its env mix (each env at its mix
   level, greedy, the training system prompt, ``response_prefix`` and ``max_new_tokens``);
2. with a ``cold_start:`` section in the config, fine-tunes it on the solvers' verified worked
   traces of the train split (``thinkgym sft``'s trainer; the section holds SFT fields such as
   ``steps``, ``batch_size``, ``learning_rate``; the model, mix, seed, prompt and prefix are the
   config's) and evaluates the cold-started policy on the same problems;
3. trains the (cold-started) policy with GRPO (``thinkgym train``'s trainer, the same config);
4. evaluates the trained policy on the same held-out problems;
5. prints the per-task table: chance level, every stage's accuracy with 95% intervals, the gains
   with paired intervals (the GRPO stage's own, after minus cold start, and the total), the final
   format rate, and the mean over the tasks whose chance is below 20%; then the paths.

Everything lands in the run directory: ``eval/before/``, ``eval/cold_start/``, ``eval/after/``
(each a full ``thinkgym eval`` report), ``cold_start/`` (the SFT run), the GRPO run itself
(checkpoints, ``log.jsonl``, ``plots/``), ``report.md`` and ``report.json`` (the table), and
``compare.png`` (accuracy per task and stage, with chance). Overrides ``cold_start.KEY=VALUE``
set the SFT stage's fields, ``cold_start=null`` skips it; other ``key=value`` overrides are GRPO
fields. When the config's ``output_dir`` already holds a run, a new directory with a time suffix
is used, so a second ``make train`` never mixes its logs into the first. A GPU is used when there
is one.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import time
from pathlib import Path
from typing import Any

import thinkgym
from thinkgym.agents.cli import CLIError
from thinkgym.agents.config import COLD_START
from thinkgym.agents.evaluate import DEFAULT_BATCH_SIZE, GenerationOptions, display_name, run_eval

SHARED_WITH_SFT = ("model", "mix", "seed", "system_prompt", "response_prefix", "bf16", "lora", "lora_rank", "lora_alpha", "lora_targets")
"""GRPO config fields the cold-start stage takes from the run's config."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the main job: evaluate, cold-start SFT, evaluate, GRPO, evaluate, report")
    p.add_argument("--config", required=True, help="training config (YAML preset, see configs/)")
    p.add_argument("--eval-n", type=int, default=100, help="held-out problems per env in each evaluation (default 100)")
    p.add_argument("--eval-seed", type=int, default=0, help="seed of the held-out problem stream (default 0)")
    p.add_argument("--eval-batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"conversations decoded at once in each evaluation (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. steps=20 cold_start.steps=10")
    p.set_defaults(func=cmd_run)


def fresh_run_dir(output_dir: str) -> Path:
    """``output_dir`` when it is empty or absent, else ``output_dir-YYYYmmdd-HHMMSS``."""
    path = Path(output_dir)
    if path.exists() and any(path.iterdir()):
        path = path.with_name(f"{path.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    return path


def load_job(path: str, overrides: list[str]) -> tuple[Any, dict[str, Any] | None]:
    """The GRPO config and the cold-start section (None: no cold start) of a run config, with
    ``key=value`` and ``cold_start.key=value`` overrides; raises ``ConfigError`` in one line."""
    from thinkgym.agents.config import ConfigError, config_from_dict, read_config_mapping

    prefix = COLD_START + "."
    raw = read_config_mapping(path, [o for o in overrides if not o.startswith(prefix)])
    section = raw.pop(COLD_START, None)
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{COLD_START} must be a mapping of SFT fields (or null), got {section!r}")
    nested = [o[len(prefix) :] for o in overrides if o.startswith(prefix)]
    if nested:
        section = {**(section or {}), **read_config_mapping(None, nested)}
    return config_from_dict(raw), section


def cold_start_config(config: Any, section: dict[str, Any], run_dir: Path) -> Any:
    """The SFT config of the cold-start stage: the section's fields, the run's model, mix, seed,
    prompt and prefix, into ``run_dir/cold_start``."""
    from thinkgym.agents.config import ConfigError
    from thinkgym.agents.sft_config import sft_config_from_dict

    clash = sorted(set(section) & set(SHARED_WITH_SFT + ("output_dir", "data")))
    if clash:
        raise ConfigError(f"{COLD_START}: {', '.join(clash)} come from the run's config (or are not allowed here)")
    shared = {name: getattr(config, name) for name in SHARED_WITH_SFT}
    shared["mix"] = [dataclasses.asdict(spec) for spec in config.mix]
    try:
        return sft_config_from_dict({**section, **shared, "output_dir": str(run_dir / COLD_START), "progress": config.progress})
    except ConfigError as err:
        raise ConfigError(f"{COLD_START}: {err}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from thinkgym.agents.chance import chance_levels
    from thinkgym.agents.curves import plot_run
    from thinkgym.agents.evaluate import tasks_from_config
    from thinkgym.agents.report import load_outcomes, load_results, stage_chart, stage_summary, stage_table

    if args.eval_n < 1:
        raise CLIError(f"--eval-n must be >= 1, got {args.eval_n}")
    config, section = load_job(args.config, args.overrides)
    config.output_dir = str(fresh_run_dir(config.output_dir))
    config.progress = config.progress and not args.no_progress
    run_dir = Path(config.output_dir)
    sft = cold_start_config(config, section, run_dir) if section is not None else None  # every config error before any model loads
    if sft is not None:
        from thinkgym.agents.sft_data import check_explainable

        check_explainable(config.mix)
    tasks = tasks_from_config(config)
    options = GenerationOptions(max_new_tokens=config.max_new_tokens, response_prefix=config.response_prefix, stop_strings=tuple(config.stop_strings),
                                batch_size=args.eval_batch_size,
                                dtype="auto" if config.bf16 else "fp32", progress=not args.no_progress)
    evaluation = dict(tasks=tasks, n=args.eval_n, samples=1, seed=args.eval_seed, options=options, system_prompt=config.system_prompt)
    count = 4 if sft is not None else 3
    seconds: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        gc.collect()
        now = time.perf_counter()
        seconds[name] = round(now - clock, 1)
        clock = now

    print(f"[1/{count}] evaluating the base model {display_name(config.model)} on {args.eval_n} held-out problems per env", flush=True)
    run_eval(config.model, out=run_dir / "eval" / "before", **evaluation)
    lap("base_eval")
    stages = [("before", run_dir / "eval" / "before")]

    if sft is not None:
        from thinkgym.agents.sft import train_sft

        print(f"[2/{count}] cold start: SFT on the solvers' worked traces for {sft.steps} steps of {sft.batch_size}, then evaluating", flush=True)
        train_sft(sft)
        lap("cold_start_sft")
        run_eval(sft.output_dir, out=run_dir / "eval" / COLD_START, **evaluation)
        lap("cold_start_eval")
        stages.append((COLD_START, run_dir / "eval" / COLD_START))
        config.model = sft.output_dir  # GRPO starts from (and keeps as its reference) the cold-started policy

    print(f"[{count - 1}/{count}] training with GRPO for {config.steps} steps into {run_dir}", flush=True)
    from thinkgym.agents.trainer import train

    train(config)
    lap("grpo")

    print(f"[{count}/{count}] evaluating the trained policy on the same held-out problems", flush=True)
    run_eval(str(run_dir), out=run_dir / "eval" / "after", **evaluation)
    lap("final_eval")
    stages.append(("after", run_dir / "eval" / "after"))

    single = [task for task in tasks if not thinkgym.env_info(task.env_id).multi_turn]
    chance = chance_levels(single, args.eval_n, args.eval_seed, response_prefix=config.response_prefix)
    summary = stage_summary([(label, load_results(path), load_outcomes(path)) for label, path in stages], chance)
    seconds["total"] = round(time.perf_counter() - started, 1)
    summary.update(chance=chance, seconds=seconds, config=args.config, overrides=list(args.overrides))
    table = stage_table(summary)
    timing = "Time: " + ", ".join(f"{name.replace('_', ' ')} {value:.0f} s" for name, value in seconds.items()) + "."
    title = "base -> cold-start SFT -> GRPO" if sft is not None else "before and after GRPO"
    report = run_dir / "report.md"
    report.write_text(f"# {run_dir.name}: held-out accuracy, {title}\n\nConfig: `{args.config}`"
                      f"{' with ' + ' '.join(args.overrides) if args.overrides else ''}\n\n"
                      + "".join(f"`{label}`: {model}  \n" for label, model in summary["models"].items())
                      + f"\n{table}\n{timing}\n", encoding="utf-8")
    (run_dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    chart = stage_chart(summary, run_dir / "compare.png")
    plots = plot_run(run_dir)

    print()
    print(table)
    print(timing)
    print(f"report: {report}")
    print(f"accuracy chart: {chart}")
    print(f"evaluations: {', '.join(str(path) for _, path in stages)}")
    print(f"training curves: {', '.join(str(p) for p in plots)}")
    return 0
