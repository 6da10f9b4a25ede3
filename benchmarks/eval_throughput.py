"""Evaluation throughput: held-out problems per second of greedy evaluation of the default model.

The problems are what ``thinkgym run`` evaluates before and after training with the default
config: 100 held-out problems of each env of ``configs/default.yaml``'s mix (400 in all for its four envs, split
``eval``, seed 0), one greedy completion each, at most 96 new tokens, the ``<think>`` response
prefix, batches of 128, the device and dtype ``thinkgym eval`` picks (``auto``: bf16 weights on
a CPU with AVX512-BF16/AMX).

Three generation paths run on the same problems in one invocation, one after the other:

* ``plain``: what generation did before the fast paths: transformers' ``DynamicCache`` (the
  cache concatenated anew at every token), every prompt prefilled whole, fixed batches;
* ``fixed``: the reserved KV cache (written in place), the prefill of the prefix all prompts
  share (the system prompt) done once, and for a plain Llama the decoding step over gathered
  weights (see ``thinkgym.agents.generation`` and ``thinkgym.agents.fast_decode``), in fixed
  batches of 128 (a batch runs as long as its longest completion);
* ``fast``: the same with continuous batching (what ``thinkgym eval`` does): at most 128 rows
  decode at once, and a finished row's place goes to a waiting problem.

Both should give the same accuracies (bf16 greedy completions may differ at near ties, counted); the JSON records problems per second, completion tokens
per second, CPU seconds, the machine and its load average (other processes share the cores:
compare the two paths of one run, not runs across machines).

    python benchmarks/eval_throughput.py [--n 100] [--threads N] [--only fast|fixed|plain]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "eval_throughput.json"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
MAX_NEW, BATCH = 96, 128


def run(path: str, model: Any, tokenizer: Any, tasks: list[Any], n: int, prefix: str) -> dict[str, Any]:
    """One greedy evaluation with generation's fast paths on (``fast``: with continuous batching;
    ``fixed``: without) or off (``plain``)."""
    from transformers import DynamicCache

    from thinkgym.agents import generation
    from thinkgym.agents.evaluate import evaluate, policy_sampler

    saved = generation._reserved_cache, generation.MIN_SHARED_PREFIX, generation.FAST_DECODE
    if path == "plain":
        generation._reserved_cache = lambda reserve, dtype=None: DynamicCache()
        generation.MIN_SHARED_PREFIX = 10**9
        generation.FAST_DECODE = False
    try:
        sampler = policy_sampler(model, tokenizer, max_new_tokens=MAX_NEW, response_prefix=prefix, max_rows=BATCH if path == "fast" else None)
        load = os.getloadavg()[0]
        start, start_cpu = time.perf_counter(), time.process_time()
        result = evaluate(sampler, tasks, model_name="default", n=n, batch_size=BATCH, progress=False)
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        generation._reserved_cache, generation.MIN_SHARED_PREFIX, generation.FAST_DECODE = saved
    problems = len(result.records)
    tokens = sum(r["tokens"] for r in result.records)
    return {
        "problems": problems,
        "seconds": wall,
        "cpu_seconds": cpu,
        "problems_per_s": problems / wall,
        "problems_per_cpu_s": problems / cpu,
        "completion_tokens": tokens,
        "completion_tokens_per_s": tokens / wall,
        "load_average_before": round(load, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "accuracy": {env: task["accuracy"] for env, task in result.results["tasks"].items()},
        "completions": [r["completion"] for r in result.records],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="held-out problems per env (default 100 per env: 400 for the default mix)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0: all cores, or 1 when the load average already fills them")
    parser.add_argument("--only", choices=("fast", "fixed", "plain"), help="measure one path only")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    threads = args.threads or (1 if os.getloadavg()[0] >= cores else cores)
    torch.set_num_threads(threads)

    from thinkgym.agents.config import load_config
    from thinkgym.agents.evaluate import tasks_from_config
    from thinkgym.agents.policy import device_and_dtype, load_policy

    config = load_config(CONFIG)
    tasks = tasks_from_config(config)
    device, dtype = device_and_dtype("auto", "auto")
    model, tokenizer = load_policy("default", dtype=dtype, device=device)
    paths = [args.only] if args.only else ["plain", "fixed", "fast"]
    runs = {path: run(path, model, tokenizer, tasks, args.n, config.response_prefix) for path in paths}
    result: dict[str, Any] = {
        "setup": {
            "machine": f"{platform.processor() or platform.machine()}, {cores} cores, torch {torch.__version__}",
            "device": str(device), "dtype": str(dtype).removeprefix("torch."), "threads": threads,
            "tasks": [t.env_id for t in tasks], "n_per_task": args.n, "max_new_tokens": MAX_NEW, "batch_size": BATCH, "greedy": True,
        },
        **{path: {k: v for k, v in r.items() if k != "completions"} for path, r in runs.items()},
    }
    summary = {f"{p} problems/s": round(r["problems_per_s"], 2) for p, r in runs.items()}
    for base in ("plain", "fixed"):
        if base not in runs or "fast" not in runs:
            continue
        # bf16 results depend on how rows are batched (the shared prefix is one row): a greedy
        # completion may take another token at a near tie; the accuracies are what must agree.
        same = sum(a != b for a, b in zip(runs[base]["completions"], runs["fast"]["completions"]))
        result[f"completions_differing_from_{base}"] = same
        result[f"same_accuracy_as_{base}"] = runs[base]["accuracy"] == runs["fast"]["accuracy"]
        result[f"speedup_fast_over_{base}"] = runs["fast"]["problems_per_s"] / runs[base]["problems_per_s"]
        result[f"speedup_over_{base}_per_cpu_s"] = runs["fast"]["problems_per_cpu_s"] / runs[base]["problems_per_cpu_s"]
        summary[f"fast over {base} (wall, per CPU s)"] = f"{result[f'speedup_fast_over_{base}']:.2f}, {result[f'speedup_over_{base}_per_cpu_s']:.2f}"
        summary[f"differing from {base} / same accuracy"] = f"{same} of {len(runs['fast']['completions'])} / {result[f'same_accuracy_as_{base}']}"
    loads = [r[k] for r in runs.values() for k in ("load_average_before", "load_average_after")]
    summary["machine"] = f"{result['setup']['machine']}, {threads} torch thread(s), load average {min(loads):.1f}-{max(loads):.1f}"
    result["summary"] = summary
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in summary.items():
        print(f"{key:<36}{value}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
