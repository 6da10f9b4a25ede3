"""Does pruning the SFT data help? SFT on a full solver-trace set versus its pruned subset, at
equal compute, compared on the same held-out problems.

The full set is ``--examples`` solver traces from a deliberately skewed train-split mix (one
env weighted ``--skew`` times the others; easy levels repeat prompts). The pruned set drops
duplicate prompts, caps every env's share at ``--max-env-share`` and, with ``--measure-k K``,
drops the problems the start model already solves in all K samples. Both runs take the same
number of optimizer steps with the same batch size (equal examples seen; token counts are
printed too), then each is evaluated greedily on ``--eval-n`` held-out problems per env.

    .venv/bin/python benchmarks/pruning_study.py                       # default model, ~15 min on 2 CPU cores
    .venv/bin/python benchmarks/pruning_study.py --model tiny-random --steps 2 --eval-n 2   # plumbing check

A benchmark, not a test: one seed, small held-out sets, so read the intervals in the eval
reports (``OUT/eval-*/``) before drawing conclusions.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from thinkgym.agents.cmd_eval import GenerationOptions, run_eval  # noqa: E402
from thinkgym.agents.config import EnvSpec, TrainConfig  # noqa: E402
from thinkgym.agents.evaluate import EvalTask  # noqa: E402
from thinkgym.agents.pruning import prune  # noqa: E402
from thinkgym.agents.sft import train_sft  # noqa: E402
from thinkgym.agents.sft_config import sft_config_from_dict  # noqa: E402
from thinkgym.agents.sft_data import solver_examples, write_jsonl  # noqa: E402

ENVS = ("thinkgym/Arithmetic-v0", "thinkgym/Syllogism-v0", "thinkgym/BfsDistance-v0")
PREFIX = "<think>\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", default="runs/pruning-study")
    parser.add_argument("--examples", type=int, default=160, help="size of the full set")
    parser.add_argument("--skew", type=float, default=4.0, help="weight of the first env (the others weigh 1)")
    parser.add_argument("--max-env-share", type=float, default=0.4)
    parser.add_argument("--measure-k", type=int, default=0, help="samples per problem to drop always-solved ones (0: skip)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--eval-n", type=int, default=30)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    mix = [EnvSpec(env, args.skew if i == 0 else 1.0, 1) for i, env in enumerate(ENVS)]

    full = solver_examples(mix, args.examples, args.seed)
    if args.measure_k:
        from thinkgym.agents.cmd_sft import load_sampler
        from thinkgym.agents.rejection import measure_solve_rates

        sampler = load_sampler(args.model, TrainConfig(max_new_tokens=args.max_new_tokens, response_prefix=PREFIX), argparse.Namespace(max_new_tokens=None, temperature=1.0))
        full = measure_solve_rates(sampler, full, k=args.measure_k, system_prompt=TrainConfig().system_prompt)
    pruned, report = prune(full, dedup=True, drop_solved=bool(args.measure_k), max_env_share=args.max_env_share)
    print("\n".join(["pruning:", *report.lines()]))
    if not pruned:
        raise SystemExit("pruning left nothing; loosen --max-env-share or drop --measure-k")

    results = {}
    for name, examples in (("full", full), ("pruned", pruned)):
        data = out / f"{name}.jsonl"
        write_jsonl(data, examples)
        config = sft_config_from_dict({
            "model": args.model, "data": str(data), "output_dir": str(out / f"sft-{name}"), "seed": args.seed,
            "response_prefix": PREFIX, "steps": args.steps, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "lr_schedule": "cosine", "progress": False,
        })
        started = time.perf_counter()
        run_dir = train_sft(config)
        tokens = sum(json.loads(line)["tokens"] for line in (run_dir / "log.jsonl").read_text().splitlines())
        seconds = time.perf_counter() - started
        tasks = [EvalTask(env) for env in ENVS]
        options = GenerationOptions(max_new_tokens=args.max_new_tokens, response_prefix=PREFIX, progress=False)
        paths = run_eval(str(run_dir), tasks, n=args.eval_n, samples=1, seed=0, out=out / f"eval-{name}", options=options,
                         system_prompt=TrainConfig().system_prompt)
        evaluation = json.loads(Path(paths["results"]).read_text())
        results[name] = {"examples": len(examples), "trained_tokens": tokens, "train_seconds": round(seconds, 1),
                         "accuracy": evaluation["mean_accuracy"], "tasks": {k: v["accuracy"] for k, v in evaluation["tasks"].items()}}

    print(f"\nSFT {args.steps} steps x {args.batch_size} examples each; held-out greedy accuracy, {args.eval_n} problems per env")
    print(f"{'set':<8} {'examples':>8} {'tokens':>8} " + " ".join(f"{e.split('/')[1][:-3]:>12}" for e in ENVS) + f" {'mean':>6}")
    for name, r in results.items():
        print(f"{name:<8} {r['examples']:>8} {r['trained_tokens']:>8} " + " ".join(f"{r['tasks'][e]:>12.3f}" for e in ENVS) + f" {r['accuracy']:>6.3f}")
    (out / "study.json").write_text(json.dumps({"args": vars(args), "pruning": report.__dict__, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
