"""``thinkgym recipe``: DeepSeek-R1's recipe end to end (see :mod:`thinkgym.agents.recipe`).

    thinkgym recipe --config configs/r1-recipe.yaml [key=value ...]

Runs cold-start SFT on solver traces, GRPO, rejection sampling (+ pruning) and SFT on the
verified answers, evaluating the start model and every stage on the same held-out problems.
Rerunning the command skips the stages already complete and resumes a stopped one from its
checkpoint (SIGINT/SIGTERM in a training stage write one and exit with 128 + signal). Prints the accuracy table at the end;
``OUTPUT_DIR/recipe.json`` holds it with the per-env accuracies and the rejection counts.
"""

from __future__ import annotations

import argparse
import sys

from thinkgym.agents.cli import CLIError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recipe", help="the R1 recipe: cold-start SFT, GRPO, rejection-sampling SFT, evaluated after each stage")
    p.add_argument("--config", help="YAML preset (configs/r1-recipe.yaml)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="recipe overrides, e.g. eval_n=20 'grpo={steps: 4}'")
    p.set_defaults(func=cmd_recipe)


def cmd_recipe(args: argparse.Namespace) -> int:
    from thinkgym.agents.faults import TrainingStopped
    from thinkgym.agents.recipe import load_recipe, run_recipe

    if not args.config and not args.overrides:
        raise CLIError("give --config FILE (configs/r1-recipe.yaml) and/or key=value overrides")
    recipe = load_recipe(args.config, list(args.overrides))
    try:
        summary = run_recipe(recipe, progress=not args.no_progress)
    except TrainingStopped as stopped:
        print(f"thinkgym recipe: {stopped}; run the same command again to continue", file=sys.stderr)
        return stopped.exit_code
    print(f"{'stage':<14} {'held-out accuracy':>18}")
    for stage, info in summary["stages"].items():
        if "accuracy" in info:
            print(f"{stage:<14} {info['accuracy']:>18.3f}")
        elif "sampling" in info:
            print(f"{stage:<14} kept {info['pruning']['after']} of {info['sampling']['correct_samples']} correct samples")
    print(f"summary: {recipe.output_dir}/recipe.json")
    return 0
