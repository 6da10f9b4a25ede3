"""``thinkgym train``: GRPO on an env mix.

    thinkgym train --config configs/smoke.yaml [key=value ...]
    thinkgym train --resume runs/grpo [key=value ...]       # continue the run in runs/grpo

Overrides are parsed as YAML values (``steps=20``, ``beta=0``, ``lora=true``). The config is
validated before any model loads; a bad one exits with status 2 and a one-line message. Works
under ``accelerate launch`` (e.g. ``accelerate launch --multi_gpu --num_processes 2 -m thinkgym
train ...`` runs two CPU processes with DDP).

SIGINT or SIGTERM: the current step ends, a checkpoint is written and the command exits with
status 128 + the signal (130, 143); ``--resume`` continues from there. A run stopped after too
many non-finite steps in a row (``max_nonfinite_steps``) exits with status 2. See
:mod:`thinkgym.agents.run` and :mod:`thinkgym.agents.faults`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from thinkgym.agents.cli import CLIError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a policy with GRPO on an env mix")
    p.add_argument("--config", help="YAML preset (see configs/)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint (its config.yaml is the base config)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. steps=20 beta=0")
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from thinkgym.agents.config import load_config

    overrides = list(args.overrides)
    if args.resume:
        run_dir = Path(args.resume)
        saved = run_dir / "config.yaml"
        if not saved.is_file():
            raise CLIError(f"{run_dir} is not a run directory (no config.yaml)")
        config = load_config(args.config or saved, overrides + [f"output_dir={run_dir}"])
    else:
        if not args.config and not overrides:
            raise CLIError("give --config FILE (see configs/) and/or key=value overrides")
        config = load_config(args.config, overrides)
    from thinkgym.agents.faults import TrainingStopped
    from thinkgym.agents.trainer import train

    try:
        run_dir = train(config, resume=bool(args.resume))
    except TrainingStopped as stopped:
        print(f"thinkgym train: {stopped}; continue with: thinkgym train --resume {config.output_dir}", file=sys.stderr)
        return stopped.exit_code
    print(f"run directory: {run_dir}")
    return 0
