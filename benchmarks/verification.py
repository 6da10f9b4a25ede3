"""Verification speed of every engine-free single-turn env: realistic completions scored per
second on one core, and the slowest hostile completion (the red team's attacks and the
contract's hostile inputs).

Run: ``python benchmarks/verification.py [--problems 40]`` (a few minutes on two cores). Prints
a table and writes ``benchmarks/results/verification.json``. The targets (issue 15): at least
10,000 realistic completions per second per core for engine-free tasks, no input over 1 s.

Per problem (levels 1 and the hardest), six completions: the reference answer after a short
``<think>`` and after a ~4,000-character one, another seed's answer (usually wrong), a negated
reference, an answer without tags and a truncated ~6,000-character think. Each is scored with
``env.unwrapped.score`` (extraction, size cap, verification guard, verifier, format reward);
generation is not timed. One torch-free process, one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym

import thinkgym
from thinkgym.envs.checker import ATTACKS, HOSTILE, red_team_cases
from thinkgym.envs.registry import env_info

RESULTS = Path(__file__).resolve().parent / "results" / "verification.json"
FILLER = "so the next step is to check whether this value fits and then compare it with the others "


def completions(reference: str, other: str) -> list[str]:
    short, long = FILLER * 3, (FILLER * 50)[:4000]
    return [
        f"<think>{short}</think><answer>{reference}</answer>",
        f"<think>{long}</think>\n<answer>{reference}</answer>",
        f"<think>{short}</think><answer>{other}</answer>",
        f"<think>{short}</think><answer>{reference} is not the answer</answer>",
        f"{short} so it is {reference}",
        f"<think>{(FILLER * 70)[:6000]}",
    ]


def rate(env_id: str, level: int, n_problems: int) -> tuple[float, int]:
    env = gym.make(env_id, difficulty=level, disable_env_checker=True).unwrapped
    batches = []
    for seed in range(n_problems):
        other = env.reset(seed=10_000 + seed)[1]["answer"]
        _, info = env.reset(seed=seed)
        batches.append((env.problem, completions(info["answer"], other)))
    count, start = 0, time.perf_counter()
    for problem, texts in batches:
        env.problem = problem
        for text in texts:
            env.score(text)
            count += 1
    elapsed = time.perf_counter() - start
    env.close()
    return count / elapsed, count


def worst_case(env_id: str, level: int) -> tuple[float, str]:
    slowest, what = 0.0, ""
    for _, case, env in red_team_cases(env_id, level, seeds=(0, 1)):
        texts = [a.completion for attack in ATTACKS.values() for a in attack(case)] + list(HOSTILE)
        for text in texts:
            start = time.perf_counter()
            env.unwrapped.score(text)
            elapsed = time.perf_counter() - start
            if elapsed > slowest:
                slowest, what = elapsed, text[:60]
    return slowest, what


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=40, help="problems per env and level")
    args = parser.parse_args()
    envs = [e for e in thinkgym.list_envs() if not env_info(e).multi_turn and not env_info(e).requires]
    rows = []
    print(f"{'env':34} {'level':>5} {'completions/s':>14} {'worst s':>8}  slowest input")
    for env_id in envs:
        for level in sorted({1, env_info(env_id).max_difficulty}):
            per_s, count = rate(env_id, level, args.problems)
            slowest, what = worst_case(env_id, level)
            rows.append({"env": env_id, "level": level, "completions_per_s": round(per_s), "completions": count,
                         "worst_case_s": round(slowest, 4), "worst_case_input": what})
            print(f"{env_id:34} {level:>5} {per_s:>14,.0f} {slowest:>8.3f}  {what!r}", flush=True)
    overall = sum(r["completions"] for r in rows) / sum(r["completions"] / r["completions_per_s"] for r in rows)
    summary = {
        "min_completions_per_s": min(r["completions_per_s"] for r in rows),
        "overall_completions_per_s": round(overall),
        "envs_below_10k_per_s": sorted({r["env"] for r in rows if r["completions_per_s"] < 10_000}),
        "max_worst_case_s": max(r["worst_case_s"] for r in rows),
    }
    print(json.dumps(summary, indent=1))
    machine = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
               "load_average": os.getloadavg(), "processor": platform.processor()}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine, "summary": summary, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
