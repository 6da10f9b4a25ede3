"""thinkgym rewards in OpenRLHF: a reward function file for ``--remote_rm_url``.

    thinkgym export thinkgym/Arithmetic-v0 thinkgym/ShortestPath-v0 --n 5000 --out data/train.jsonl
    python examples/openrlhf_reward.py data/train.jsonl data/openrlhf.jsonl    # adds the 'label' column
    python -m openrlhf.cli.train_ppo_ray --prompt_data data/openrlhf.jsonl --input_key prompt \
        --apply_chat_template --label_key label --remote_rm_url examples/openrlhf_reward.py ...

OpenRLHF calls ``reward_func(queries, prompts, labels)``: ``queries`` are prompt + response
texts, ``labels`` the rows' ``label`` column, here a JSON object naming the problem (env id,
seed, difficulty), which is posed again and scored by the env's verifier.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import torch

import thinkgym


def label(row: dict) -> str:
    """The label that names a thinkgym dataset row's problem."""
    return json.dumps({"env_id": row["env_id"], "seed": row["seed"], "difficulty": row["difficulty"]})


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[str]) -> dict[str, torch.Tensor]:
    """OpenRLHF's reward hook. Only the response (the query after its prompt) is scored: the
    system prompt itself shows an example answer block."""
    rewards = []
    for query, prompt, text in zip(queries, prompts, labels, strict=True):
        problem = json.loads(text)
        response = query[len(prompt) :] if query.startswith(prompt) else query
        rewards.append(thinkgym.score(problem["env_id"], problem["seed"], response, problem.get("difficulty", 1)))
    scores = torch.tensor(rewards, dtype=torch.float32)
    return {"rewards": scores, "scores": scores, "extra_logs": {"thinkgym_correctness": scores}}


def main(src: str, dst: str) -> None:
    """Copy a ``thinkgym export`` JSON-lines file, adding the ``label`` column."""
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            row = json.loads(line)
            out.write(json.dumps({**row, "label": label(row)}) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python examples/openrlhf_reward.py EXPORT.jsonl OUT.jsonl")
    main(sys.argv[1], sys.argv[2])
