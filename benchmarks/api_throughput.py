"""Served-model evaluation throughput: problems per second of ``thinkgym eval --api-base``
against ``transformers serve`` on 127.0.0.1, at several concurrency levels.

    python benchmarks/api_throughput.py [--model default] [--n 16] [--concurrency 1 8]

Starts ``transformers serve`` with the model (default: the embedded SmolLM2-135M-Instruct) on
a free port, evaluates one single-turn and one multi-turn env through it at each concurrency
(greedy, ``--max-new-tokens`` per turn, a fresh output directory each time, so nothing comes
from the response cache) and prints problems per second and requests per second, then stops
the server. Writes ``benchmarks/results/api_throughput.json``. Minutes; never part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from thinkgym.agents.api import ApiOptions
from thinkgym.agents.evaluate import GenerationOptions, run_api_eval, tasks_for
from thinkgym.agents.policy import resolve_model_path

ENVS = ("thinkgym/Arithmetic-v0", "thinkgym/Mastermind-v0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tiny_model() -> str:
    """A tiny random Llama with untied embeddings (varied greedy text), as in tests/test_api_eval.py."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from thinkgym.agents.policy import load_default_tokenizer

    path = tempfile.mkdtemp(prefix="tiny-llama-")
    tokenizer = load_default_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=False,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="a model name or directory, or 'tiny': a 2-layer random Llama (measures the harness and server, not a model)")
    p.add_argument("--envs", nargs="+", default=list(ENVS))
    p.add_argument("--n", type=int, default=16, help="problems per env")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="benchmarks/results/api_throughput.json")
    args = p.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still stops the server (finally below)
    model = _tiny_model() if args.model == "tiny" else resolve_model_path(args.model)
    port = _free_port()
    command = [sys.executable, "-c", "from transformers.cli.transformers import main; main()", "serve", model,
               "--host", "127.0.0.1", "--port", str(port), "--device", args.device, "--dtype", "float32" if args.device == "cpu" else "auto"]
    log = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log", delete=False)
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_new_session=True)
    rows = []
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"transformers serve did not start; see {log.name}")
                time.sleep(0.5)
        tasks = tasks_for(args.envs, 1)
        options = GenerationOptions(max_new_tokens=args.max_new_tokens, batch_size=64, progress=False)
        for concurrency in args.concurrency:
            api = ApiOptions(f"http://127.0.0.1:{port}/v1", model, concurrency=concurrency)
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                paths = run_api_eval(api, tasks, n=args.n, samples=1, seed=0, out=Path(out), options=options)
                seconds = time.perf_counter() - started
                results = json.loads(paths["results"].read_text())
            problems = sum(t["n"] for t in results["tasks"].values())
            row = {"concurrency": concurrency, "problems": problems, "requests": results["usage"]["requests"], "seconds": round(seconds, 2),
                   "problems_per_second": round(problems / seconds, 3), "requests_per_second": round(results["usage"]["requests"] / seconds, 3),
                   "completion_tokens": results["usage"]["completion_tokens"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    record = {"model": args.model if args.model == "tiny" else model, "envs": args.envs, "n": args.n, "max_new_tokens": args.max_new_tokens, "device": args.device, "rows": rows,
              "cpu_count": os.cpu_count()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
