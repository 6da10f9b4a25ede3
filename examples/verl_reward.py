"""thinkgym rewards in verl: a data file and a ``compute_score`` for verl's custom reward function.

    python examples/verl_reward.py --out data/thinkgym          # writes train.parquet and eval.parquet
    python -m verl.trainer.main_ppo data.train_files=data/thinkgym/train.parquet \
        data.val_files=data/thinkgym/eval.parquet \
        custom_reward_function.path=examples/verl_reward.py custom_reward_function.name=compute_score ...

verl passes each row's ``data_source``, ``reward_model.ground_truth`` and ``extra_info`` to
``compute_score`` with the decoded response. The problem is posed again from ``extra_info``
(env id, seed, difficulty) and scored by the env's verifier; ``ground_truth`` is only the
reference answer, since a verifier accepts any correct answer.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import thinkgym
from thinkgym.datasets import build

MIX = {"thinkgym/Arithmetic-v0": 2.0, "thinkgym/ShortestPath-v0": 1.0}


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict[str, Any] | None = None) -> float:
    """verl's reward hook: the thinkgym reward of ``solution_str`` in [0, 1]."""
    if not extra_info or "seed" not in extra_info:
        raise ValueError("extra_info must hold the row's env_id, seed and difficulty (see to_verl)")
    env_id = extra_info.get("env_id", data_source)
    return thinkgym.score(env_id, extra_info["seed"], solution_str, extra_info.get("difficulty", 1))


def to_verl(row: dict[str, Any]) -> dict[str, Any]:
    """A thinkgym dataset row in verl's RL data format."""
    return {
        "data_source": row["env_id"],
        "prompt": row["prompt"],
        "ability": "reasoning",
        "reward_model": {"style": "rule", "ground_truth": row["answer"]},
        "extra_info": {"env_id": row["env_id"], "seed": row["seed"], "difficulty": row["difficulty"]},
    }


def main() -> None:
    p = argparse.ArgumentParser(description="write thinkgym problems in verl's parquet format")
    p.add_argument("--out", type=Path, default=Path("data/thinkgym"))
    p.add_argument("--n-train", type=int, default=5000)
    p.add_argument("--n-eval", type=int, default=500)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", args.n_train), ("eval", args.n_eval)):
        dataset = build(MIX, n, split)
        dataset.map(to_verl, remove_columns=dataset.column_names).to_parquet(str(args.out / f"{split}.parquet"))


if __name__ == "__main__":
    main()
