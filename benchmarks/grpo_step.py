"""A GRPO step, thinkgym against TRL's ``GRPOTrainer``, side by side in one invocation.

Both train SmolLM2-135M-Instruct (the embedded default policy, converted once into thinkgym's
cache; TRL loads that same directory) on thinkgym/Arithmetic-v0 problems with the R1 system
prompt: 2 prompts x 8 completions per step, at most 64 new tokens, temperature 1, beta = 0.04
(k3 estimator against a frozen reference), the same learning rate, one optimizer step per
generation (mu = 1), rewards = correctness + 0.2 x format, bf16 autocast over fp32 weights
(``--dtype fp32`` for full precision). Each system uses its best setting for a small CPU:
thinkgym one micro-batch of 16, dynamic sampling off (a refill round would generate more);
TRL one device batch of 16, no gradient checkpointing, no vLLM.

Reported per system: the median seconds per step over the steps after a warm-up step, and
completion tokens per second; then the ratio. For thinkgym also where the step goes
(generation, reference forward, training forward/backward + optimizer, read from the trainer's
log), and the achieved FLOP/s of the training phase against the bf16 matrix-product peak
measured in the same run (the median over 5 rounds of the best of 6 2048-cube
``torch.matmul``). The FLOP count is the usual 6 x (non-embedding parameters) x (padded
positions) for forward + backward, plus the lm_head on the positions whose logits are computed;
attention scores are left out, and the optimizer step is inside the timed phase, so the rate is
a lower bound. On a busy machine the rate per CPU second of the process (and the peak likewise)
is the one to read.

Writes ``benchmarks/results/grpo_step.json`` (with a ``summary`` for ``run_all.py``). The
machine load average is reported because other processes share the cores: absolute times are
noisy, the ratio measured back to back is what this is for. Both systems run with the same
number of torch threads (``--threads``; by default all cores, or one when the load average
already fills them).

    python benchmarks/grpo_step.py [--steps 6] [--dtype bf16|fp32] [--threads N]
    python benchmarks/grpo_step.py --only thinkgym & python benchmarks/grpo_step.py --only trl; wait
    python benchmarks/grpo_step.py --combine      # side by side under the same load
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

ENV_ID = "thinkgym/Arithmetic-v0"
PROMPTS, GROUP, MAX_NEW, BETA, LR = 2, 8, 64, 0.04, 1e-6
RESULTS = Path(__file__).resolve().parent / "results" / "grpo_step.json"


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 6, rounds: int = 5) -> tuple[float, float]:
    """FLOP/s of an ``n``-cube ``torch.matmul`` in ``dtype``, per wall second and per CPU second of
    this process (what other load on the machine does not change): the median over ``rounds`` of
    the best of ``repeats`` products. A single best was not stable on an AMX host: 594 and 1637
    GFLOP/s in two runs an hour apart, 604-753 in five rounds in a row."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)  # warm-up
    walls, cpus = [], []
    for _ in range(rounds):
        wall = cpu = float("inf")
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            torch.matmul(a, b)
            wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
        walls.append(wall)
        cpus.append(cpu)
    return 2 * n**3 / statistics.median(walls), 2 * n**3 / statistics.median(cpus)


def model_shape(model_dir: str) -> dict[str, int]:
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model_dir)
    d, layers, inter, vocab = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, cfg.vocab_size
    kv = cfg.num_key_value_heads * (d // cfg.num_attention_heads)
    per_layer = d * d * 2 + d * kv * 2 + 3 * d * inter  # q, o, k, v, gate/up/down
    return {"nonembed": layers * per_layer, "hidden": d, "vocab": vocab}


def train_flops(shape: dict[str, int], positions: int, logit_positions: int) -> float:
    """Forward + backward FLOPs of the training phase (see the module docstring)."""
    return 6.0 * shape["nonembed"] * positions + 6.0 * shape["hidden"] * shape["vocab"] * logit_positions


def run_thinkgym(steps: int, bf16: bool, out: Path) -> list[dict[str, Any]]:
    from thinkgym.agents.config import EnvSpec, TrainConfig
    from thinkgym.agents.trainer import train

    config = TrainConfig(
        mix=[EnvSpec(ENV_ID)],
        output_dir=str(out),
        steps=steps,
        prompts_per_step=PROMPTS,
        group_size=GROUP,
        max_new_tokens=MAX_NEW,
        max_turns=1,
        dynamic_sampling=False,
        beta=BETA,
        learning_rate=LR,
        micro_batch_size=PROMPTS * GROUP,
        bf16=bf16,
        tensorboard=False,
        progress=False,
    )
    train(config)
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def run_trl(steps: int, bf16: bool, model_dir: str, out: Path) -> tuple[list[float], list[float]]:
    """Seconds of each optimizer step (between consecutive step ends) and its completion tokens."""
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from thinkgym.datasets import build
    from thinkgym.integrations.trl import reward_funcs

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.ends: list[float] = []
            self.tokens: list[float] = []

        def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self.ends.append(time.perf_counter())

        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self.ends.append(time.perf_counter())

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **_: Any) -> None:
            if logs and "completions/mean_length" in logs:
                self.tokens.append(logs["completions/mean_length"] * PROMPTS * GROUP)

    args = GRPOConfig(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=PROMPTS * GROUP,
        gradient_accumulation_steps=1,
        steps_per_generation=1,
        num_generations=GROUP,
        max_completion_length=MAX_NEW,
        temperature=1.0,
        beta=BETA,
        learning_rate=LR,
        lr_scheduler_type="constant",
        weight_decay=0.0,
        loss_type="grpo",
        reward_weights=[1.0, 0.2],
        bf16=bf16,
        use_cpu=True,
        gradient_checkpointing=False,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=0,
    )
    clock = StepClock()
    trainer = GRPOTrainer(
        model=model_dir,
        reward_funcs=reward_funcs([ENV_ID]),
        train_dataset=build(ENV_ID, PROMPTS * steps * 4, seed=0),
        args=args,
        callbacks=[clock],
    )
    trainer.train()
    return [b - a for a, b in zip(clock.ends, clock.ends[1:])], clock.tokens


def measure_thinkgym(steps: int, bf16: bool, shape: dict[str, int], peak: float, peak_cpu: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_thinkgym(steps, bf16, Path(tmp) / "thinkgym")[1:]
    med = lambda key: statistics.median(r[key] for r in rows)  # noqa: E731
    step = med("step_time")
    flops = statistics.median(train_flops(shape, r["train_positions"], r["logit_positions"]) / r["train_time"] for r in rows)
    flops_cpu = statistics.median(train_flops(shape, r["train_positions"], r["logit_positions"]) / r["train_cpu_time"] for r in rows)
    return {
        "step_s": [r["step_time"] for r in rows],
        "median_step_s": step,
        "completion_tokens_per_s": statistics.median(r["completion_length"] * PROMPTS * GROUP / r["step_time"] for r in rows),
        "phase_s": {"generation": med("rollout_time"), "reference_forward": med("reference_time"), "train_forward_backward": med("train_time")},
        "share": {
            "generation": med("rollout_time") / step,
            "reference_forward": med("reference_time") / step,
            "train_forward_backward": med("train_time") / step,
        },
        "train_gflops": flops / 1e9,
        "train_fraction_of_bf16_peak": flops / peak,
        "train_gflops_per_cpu_s": flops_cpu / 1e9,
        "train_fraction_of_bf16_peak_per_cpu_s": flops_cpu / peak_cpu,
    }


def measure_trl(steps: int, bf16: bool, model_dir: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        times, tokens = run_trl(steps, bf16, model_dir, Path(tmp) / "trl")
    times, tokens = times[1:], tokens[1:]
    return {
        "step_s": times,
        "median_step_s": statistics.median(times),
        "completion_tokens_per_s": statistics.median(t / s for t, s in zip(tokens, times)) if tokens else None,
    }


def combine(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The result file: every part's measurements, the ratio, and a summary for ``run_all.py``."""
    result: dict[str, Any] = {"setup": parts["thinkgym"]["setup"], "thinkgym": parts["thinkgym"]["thinkgym"]}
    tg = result["thinkgym"]
    summary: dict[str, Any] = {
        "thinkgym s/step": round(tg["median_step_s"], 2),
        "thinkgym completion tokens/s": round(tg["completion_tokens_per_s"], 1),
        "thinkgym step shares gen/ref/train": "/".join(f"{v:.0%}" for v in tg["share"].values()),
        "thinkgym train share of bf16 peak": f"{tg['train_fraction_of_bf16_peak']:.0%} (per CPU second: {tg['train_fraction_of_bf16_peak_per_cpu_s']:.0%})",
    }
    if "trl" in parts:
        result["trl_setup"], result["trl"] = parts["trl"]["setup"], parts["trl"]["trl"]
        ratio = tg["median_step_s"] / result["trl"]["median_step_s"]
        result["ratio_thinkgym_over_trl"] = ratio
        summary.update({
            "TRL s/step": round(result["trl"]["median_step_s"], 2),
            "TRL completion tokens/s": round(result["trl"]["completion_tokens_per_s"] or float("nan"), 1),
            "ratio thinkgym/TRL s/step (<= 0.25)": round(ratio, 3),
        })
    setup = result["setup"]
    summary["machine"] = f"{setup['machine']}, load average {setup['load_average'][0]:.1f}, {setup['threads']} torch thread(s)"
    result["summary"] = summary
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="steps per system; the first is a warm-up")
    parser.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16")
    parser.add_argument("--only", choices=("thinkgym", "trl"), help="measure one system and write results/grpo_step.<system>.json "
                        "(run both at once on a busy machine, so that they share the same load), then --combine")
    parser.add_argument("--combine", action="store_true", help="write results/grpo_step.json from the two --only files")
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both systems; 0: all cores, or 1 when the load average already fills the cores")
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be >= 2 (a warm-up step, then measured steps)")
    part_file = lambda name: RESULTS.with_name(f"grpo_step.{name}.json")  # noqa: E731
    if args.combine:
        parts = {name: json.loads(part_file(name).read_text()) for name in ("thinkgym", "trl")}
        return report(combine(parts))
    cores = os.cpu_count() or 1
    # On a machine whose cores are already busy, a multi-threaded op waits at every barrier for a
    # descheduled thread (a 16-row matmul went from 0.1 ms to 40 ms here): one thread is faster.
    threads = args.threads or (1 if os.getloadavg()[0] >= cores else cores)
    torch.set_num_threads(threads)
    bf16 = args.dtype == "bf16"

    from thinkgym.agents.policy import load_policy, resolve_model_path

    load_policy()  # converts the embedded model into the cache on first use
    model_dir = resolve_model_path("default")
    load_before = os.getloadavg()
    peak, peak_cpu = matmul_peak(torch.bfloat16)
    print(f"matmul peak (2048-cube bf16): {peak / 1e9:.0f} GFLOP/s, {peak_cpu / 1e9:.0f} per CPU second; {threads} torch thread(s); load average {load_before[0]:.2f}", flush=True)

    def setup() -> dict[str, Any]:
        return {
            "machine": f"{platform.processor() or platform.machine()}, {cores} cores, torch {torch.__version__}",
            "dtype": args.dtype,
            "threads": threads,
            "steps_measured": args.steps - 1,
            "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "matmul_peak_bf16_gflops": peak / 1e9,
            "matmul_peak_bf16_gflops_per_cpu_s": peak_cpu / 1e9,
        }

    parts: dict[str, dict[str, Any]] = {}
    if args.only in (None, "thinkgym"):
        parts["thinkgym"] = {"thinkgym": measure_thinkgym(args.steps, bf16, model_shape(model_dir), peak, peak_cpu), "setup": setup()}
    if args.only in (None, "trl"):
        parts["trl"] = {"trl": measure_trl(args.steps, bf16, model_dir), "setup": setup()}
    if args.only:
        part_file(args.only).write_text(json.dumps(parts[args.only], indent=2) + "\n")
        print(json.dumps(parts[args.only], indent=2))
        print(f"wrote {part_file(args.only)}")
        return
    report(combine(parts))


def report(result: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result["summary"].items():
        print(f"{key:<40}{value}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
