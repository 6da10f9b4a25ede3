"""``thinkgym run``: the main job, what ``make train`` runs.

    thinkgym run --config configs/default.yaml [--eval-n 100] [key=value ...]

1. evaluates the config's base model on held-out problems of its env mix (each env at its mix
   level, greedy, ``max_new_tokens`` as in training);
2. trains it with GRPO (``thinkgym train``'s trainer, the same config and overrides);
3. evaluates the trained policy on the same held-out problems;
4. prints the per-task before/after table with deltas and 95% confidence intervals, then the
   paths of the report, the charts and the training curves.

Everything lands in the run directory: ``eval/before/``, ``eval/after/`` (each a full
``thinkgym eval`` report), ``report.md`` (the table), ``compare.png`` and ``plots/``. When the
config's ``output_dir`` already holds a run, a new directory with a time suffix is used, so a
second ``make train`` never mixes its logs into the first. A GPU is used when there is one.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from thinkgym.agents.cli import CLIError
from thinkgym.agents.evaluate import DEFAULT_BATCH_SIZE, GenerationOptions, display_name, run_eval


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the main job: evaluate, train with GRPO, evaluate again, report before/after")
    p.add_argument("--config", required=True, help="training config (YAML preset, see configs/)")
    p.add_argument("--eval-n", type=int, default=100, help="held-out problems per env in each evaluation (default 100)")
    p.add_argument("--eval-seed", type=int, default=0, help="seed of the held-out problem stream (default 0)")
    p.add_argument("--eval-batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"conversations per evaluation batch (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="training config overrides, e.g. steps=20")
    p.set_defaults(func=cmd_run)


def fresh_run_dir(output_dir: str) -> Path:
    """``output_dir`` when it is empty or absent, else ``output_dir-YYYYmmdd-HHMMSS``."""
    path = Path(output_dir)
    if path.exists() and any(path.iterdir()):
        path = path.with_name(f"{path.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    return path


def cmd_run(args: argparse.Namespace) -> int:
    from thinkgym.agents.config import load_config
    from thinkgym.agents.curves import plot_run
    from thinkgym.agents.evaluate import tasks_from_config
    from thinkgym.agents.report import compare_chart, compare_table, load_outcomes, load_results

    if args.eval_n < 1:
        raise CLIError(f"--eval-n must be >= 1, got {args.eval_n}")
    config = load_config(args.config, args.overrides)  # every config error surfaces before any model loads
    config.output_dir = str(fresh_run_dir(config.output_dir))
    config.progress = config.progress and not args.no_progress
    run_dir = Path(config.output_dir)
    tasks = tasks_from_config(config)
    options = GenerationOptions(max_new_tokens=config.max_new_tokens, response_prefix=config.response_prefix, batch_size=args.eval_batch_size,
                                dtype="auto" if config.bf16 else "fp32", progress=not args.no_progress)
    evaluation = dict(tasks=tasks, n=args.eval_n, samples=1, seed=args.eval_seed, options=options, system_prompt=config.system_prompt)
    started = time.perf_counter()

    print(f"[1/3] evaluating the base model {display_name(config.model)} on {args.eval_n} held-out problems per env", flush=True)
    run_eval(config.model, out=run_dir / "eval" / "before", **evaluation)
    gc.collect()
    t_before = time.perf_counter()

    print(f"[2/3] training with GRPO for {config.steps} steps into {run_dir}", flush=True)
    from thinkgym.agents.trainer import train

    train(config)
    gc.collect()
    t_train = time.perf_counter()

    print("[3/3] evaluating the trained policy on the same held-out problems", flush=True)
    run_eval(str(run_dir), out=run_dir / "eval" / "after", **evaluation)
    t_after = time.perf_counter()

    dirs = run_dir / "eval" / "before", run_dir / "eval" / "after"
    before, after = load_results(dirs[0]), load_results(dirs[1])
    labels = ("before", "after")
    table = compare_table(before, after, labels, outcomes=(load_outcomes(dirs[0]), load_outcomes(dirs[1])))
    timing = (f"Time: base evaluation {t_before - started:.0f} s, training {t_train - t_before:.0f} s, "
              f"trained evaluation {t_after - t_train:.0f} s.")
    report = run_dir / "report.md"
    report.write_text(f"# {run_dir.name}: held-out accuracy before and after GRPO\n\nConfig: `{args.config}`"
                      f"{' with ' + ' '.join(args.overrides) if args.overrides else ''}\n\n{table}\n{timing}\n", encoding="utf-8")
    chart = compare_chart(before, after, run_dir / "compare.png", labels)
    plots = plot_run(run_dir)

    print()
    print(table)
    print(timing)
    print(f"report: {report}")
    print(f"before/after chart: {chart}")
    print(f"evaluations: {run_dir / 'eval' / 'before'}, {run_dir / 'eval' / 'after'}")
    print(f"training curves: {', '.join(str(p) for p in plots)}")
    return 0
