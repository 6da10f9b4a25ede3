"""The run skeleton (agents/run.py) under SFT: a SIGINT finishes the step, writes a checkpoint
and exits 130, and ``--resume`` ends with exactly the parameters of an uninterrupted run; a
non-finite loss skips the update. (GRPO's side of the same skeleton: test_fault_tolerance.py.)"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from thinkgym.agents import sft as sft_module
from thinkgym.agents.checkpoint import list_checkpoints
from thinkgym.agents.cli import main
from thinkgym.agents.config import EnvSpec
from thinkgym.agents.sft_data import solver_examples, write_jsonl

MIX = [EnvSpec("thinkgym/Arithmetic-v0")]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sft-data") / "train.jsonl"
    write_jsonl(path, solver_examples(MIX, 6, seed=0))
    return path


def sft_args(model: Path, data: Path, run_dir: Path, **fields) -> list[str]:
    values = {"model": model, "data": data, "output_dir": run_dir, "steps": 4, "batch_size": 2, "micro_batch_size": 1,
              "learning_rate": "3.0e-3", "lr_schedule": "cosine", "warmup_steps": 1, "system_prompt": "null",
              "progress": "false", "bf16": "false", "checkpoint_every": 0, **fields}
    return ["sft", *(f"{key}={value}" for key, value in values.items())]


def params(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(checkpoint / "model" / "model.safetensors"))


def logged(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def test_sigint_during_sft_checkpoints_exits_130_and_resumes_exactly(tmp_path, tiny_model_dir, data, monkeypatch, capsys):
    straight = tmp_path / "straight"
    assert main(sft_args(tiny_model_dir, data, straight)) == 0

    batch = sft_module.DataSource.batch

    def interrupt_in_step_two(self, step):
        if step == 1:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while step 2 is being prepared
        return batch(self, step)

    monkeypatch.setattr(sft_module.DataSource, "batch", interrupt_in_step_two)
    run_dir = tmp_path / "stopped"
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as in a terminal
    try:
        assert main(sft_args(tiny_model_dir, data, run_dir)) == 130
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    finally:
        signal.signal(signal.SIGINT, outer)
    err = capsys.readouterr().err
    assert "stopped by SIGINT after step 2" in err and f"thinkgym sft --resume {run_dir}" in err
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-000002"]
    assert [r["step"] for r in logged(run_dir)] == [1, 2]

    monkeypatch.setattr(sft_module.DataSource, "batch", batch)
    assert main(["sft", "--resume", str(run_dir)]) == 0
    assert [r["step"] for r in logged(run_dir)] == [1, 2, 3, 4]  # nothing logged twice
    assert [r["loss"] for r in logged(run_dir)] == [r["loss"] for r in logged(straight)]
    a, b = params(list_checkpoints(straight)[-1]), params(list_checkpoints(run_dir)[-1])
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    assert any(not torch.equal(initial[name], a[name]) for name in a)  # it trained
    assert set(a) == set(b) and all(torch.equal(a[name], b[name]) for name in a)


def test_a_nonfinite_sft_step_is_skipped_and_too_many_stop_the_run(tmp_path, tiny_model_dir, data, monkeypatch, capsys):
    loss_fn = sft_module.completion_loss
    poisoned = {"steps": {0}, "step": -1}
    batch = sft_module.DataSource.batch

    def tracking_batch(self, step):
        poisoned["step"] = step
        return batch(self, step)

    def nan_loss(*args, **kwargs):
        loss, count = loss_fn(*args, **kwargs)
        return (loss * float("nan"), count) if poisoned["step"] in poisoned["steps"] else (loss, count)

    monkeypatch.setattr(sft_module.DataSource, "batch", tracking_batch)
    monkeypatch.setattr(sft_module, "completion_loss", nan_loss)
    run_dir = tmp_path / "nan1"
    assert main(sft_args(tiny_model_dir, data, run_dir, steps=2, checkpoint_every=1, keep_checkpoints=0)) == 0
    assert "step 1: non-finite loss or gradients, update skipped" in capsys.readouterr().err
    assert [(r["skipped_update"], r["nonfinite_steps"]) for r in logged(run_dir)] == [(True, 1), (False, 1)]
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    first, second = (params(c) for c in list_checkpoints(run_dir))
    assert all(torch.equal(initial[name], first[name]) for name in initial)  # the NaN step changed nothing
    assert any(not torch.equal(initial[name], second[name]) for name in initial)  # step 2 trained

    poisoned["steps"] = {0, 1, 2}
    assert main(sft_args(tiny_model_dir, data, tmp_path / "nan", steps=3, max_nonfinite_steps=2)) == 2
    err = capsys.readouterr().err
    assert "2 steps in a row (up to step 2) had a non-finite loss or gradients" in err and "Traceback" not in err
