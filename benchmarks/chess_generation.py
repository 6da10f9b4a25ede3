"""Chess puzzle generation speed: problems per second for every chess env and difficulty.

Run: ``python benchmarks/chess_generation.py [seconds per cell]`` (default 4 s per env and
difficulty, about two minutes in all; BestMove needs Stockfish). Each cell resets one env
(built with ``gymnasium.make``) with seeds 0, 1, 2, ... until its time is up and reports
problems per wall-clock second (the engine runs in its own process, so CPU time of this
process would undercount) and the slowest single reset. Prints a table and writes
``benchmarks/results/chess_generation.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import gymnasium as gym

import thinkgym
from thinkgym.envs.registry import env_info

RESULTS = Path(__file__).resolve().parent / "results" / "chess_generation.json"


def measure(env_id: str, difficulty: int, budget: float) -> dict[str, float]:
    env = gym.make(env_id, difficulty=difficulty, disable_env_checker=True)
    env.reset(seed=10_000)  # warm up: imports, engine start
    count, slowest, start = 0, 0.0, time.perf_counter()
    while time.perf_counter() - start < budget or count < 3:
        t = time.perf_counter()
        env.reset(seed=count)
        slowest = max(slowest, time.perf_counter() - t)
        count += 1
    elapsed = time.perf_counter() - start
    env.close()
    return {"problems": count, "per_second": count / elapsed, "slowest_s": slowest}


def main(budget: float = 4.0) -> None:
    rows = {}
    print(f"{'env':<30}{'level':>6}{'problems/s':>12}{'slowest s':>11}")
    for env_id in thinkgym.list_envs(family="chess"):
        for difficulty in range(1, env_info(env_id).max_difficulty + 1):
            cell = measure(env_id, difficulty, budget)
            rows[f"{env_id} d{difficulty}"] = cell
            print(f"{env_id:<30}{difficulty:>6}{cell['per_second']:>12.1f}{cell['slowest_s']:>11.3f}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    summary = {key: f"{cell['per_second']:.1f} problems/s" for key, cell in rows.items()}
    RESULTS.write_text(json.dumps({"budget_s": budget, "cells": rows, "summary": summary}, indent=2) + "\n")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 4.0)
