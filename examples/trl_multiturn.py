"""Train a tool-calling model with TRL's GRPOTrainer on thinkgym's multi-turn envs (``pip install -e ".[test]"`` for TRL).

    python examples/trl_multiturn.py --model Qwen/Qwen3-0.6B --steps 200

Each rollout gets its own env instance (:mod:`thinkgym.integrations.trl_env`): ``reset`` poses
the dataset row's problem, the model plays it by calling the env's tools (``neighbors``/
``answer`` on GraphExplore, ``guess`` on Mastermind, ``move`` on ForcedMate), and the reward is
the env's own episode return, from ``get_reward``. TRL logs it per env class
(``rewards/MastermindEnvironment/mean``...) with ``tools/call_frequency``. The model's chat
template must support tool calls (Qwen2.5/Qwen3, Llama 3.1, ...); TRL checks it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from trl import GRPOConfig, GRPOTrainer

from thinkgym.integrations.trl import environment_dataset, environment_factory

MIX = {"thinkgym/GraphExplore-v0": 1.0, "thinkgym/Mastermind-v0": 1.0, "thinkgym/ForcedMate-v0": 1.0}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="Qwen/Qwen3-0.6B", help="hub id or local folder of a model with a tool-calling chat template")
    p.add_argument("--envs", nargs="+", default=list(MIX), help="multi-turn env ids (equal weights); default: all three")
    p.add_argument("--problems", type=int, default=2000, help="training problems")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--prompts-per-step", type=int, default=4)
    p.add_argument("--generations", type=int, default=8, help="rollouts per prompt (the group size G)")
    p.add_argument("--max-completion-length", type=int, default=2048, help="tokens of a whole rollout, tool replies included")
    p.add_argument("--max-tool-calls", type=int, default=16, help="tool-calling turns per rollout")
    p.add_argument("--lr", type=float, default=1e-6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output-dir", default="runs/trl_multiturn")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is present")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> GRPOTrainer:
    args = parse_args(argv)
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.steps,
        per_device_train_batch_size=args.prompts_per_step * args.generations,
        num_generations=args.generations,
        max_completion_length=args.max_completion_length,
        max_tool_calling_iterations=args.max_tool_calls,
        learning_rate=args.lr,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
        use_cpu=args.cpu,
    )
    trainer = GRPOTrainer(
        model=args.model,
        environment_factory=environment_factory(args.envs),  # one env: its class; several: {env_id: class}
        args=config,
        train_dataset=environment_dataset(args.envs, args.problems, "train", seed=args.seed),
    )
    trainer.train()
    return trainer


if __name__ == "__main__":
    main()
