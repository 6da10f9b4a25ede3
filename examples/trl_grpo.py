"""Train a model with TRL's GRPOTrainer on a thinkgym env mix (``pip install -e ".[bench]"`` for TRL).

    python examples/trl_grpo.py --model HuggingFaceTB/SmolLM2-135M-Instruct --steps 200

The dataset rows name their problems (``env_id``, ``seed``, ``difficulty``); the reward
functions pose each problem again and score completions with the env's own verifier, so the
rewards are exactly thinkgym's. TRL logs ``rewards/thinkgym_correctness[<env_id>]/mean`` for
each env and ``rewards/thinkgym_format/mean``; the format reward is weighted 0.1.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from trl import GRPOConfig, GRPOTrainer

from thinkgym.datasets import build
from thinkgym.integrations.trl import reward_funcs

MIX = {"thinkgym/Arithmetic-v0": 2.0, "thinkgym/ShortestPath-v0": 1.0}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="HuggingFaceTB/SmolLM2-135M-Instruct", help="hub id or local folder")
    p.add_argument("--envs", nargs="+", default=list(MIX), help="env ids (equal weights); default: a 2:1 mix")
    p.add_argument("--problems", type=int, default=2000, help="training problems")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--prompts-per-step", type=int, default=8)
    p.add_argument("--generations", type=int, default=8, help="completions per prompt (the group size G)")
    p.add_argument("--max-completion-length", type=int, default=512)
    p.add_argument("--lr", type=float, default=1e-6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output-dir", default="runs/trl_grpo")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is present")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> GRPOTrainer:
    args = parse_args(argv)
    mix = MIX if args.envs == list(MIX) else args.envs
    funcs = reward_funcs(mix, per_env=True)  # one correctness function per env, then the format reward
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.steps,
        per_device_train_batch_size=args.prompts_per_step * args.generations,
        num_generations=args.generations,
        max_completion_length=args.max_completion_length,
        learning_rate=args.lr,
        reward_weights=[1.0] * (len(funcs) - 1) + [0.1],
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
        use_cpu=args.cpu,
    )
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=funcs,
        args=config,
        train_dataset=build(mix, args.problems, "train", seed=args.seed),
    )
    trainer.train()
    return trainer


if __name__ == "__main__":
    main()
