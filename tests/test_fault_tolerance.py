"""Training survives being killed, signalled, or fed non-finite losses.

Kill points (``THINKGYM_FAULT``, see :mod:`thinkgym.agents.faults`): SIGKILL half-way through
writing the step-2 checkpoint, then, after resuming, SIGKILL during step 3 (after the backward
pass); the second resume finishes and must end with the parameters of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from thinkgym.agents import trainer as trainer_module
from thinkgym.agents.checkpoint import list_checkpoints
from thinkgym.agents.cli import main

TEST_ENVS = Path(__file__).resolve().parent / "trainer_envs"  # envs a random model earns reward on
CONFIG = {
    "mix": [{"id": "test/Parity-v0"}],
    "steps": 3,
    "prompts_per_step": 2,
    "group_size": 4,
    "max_new_tokens": 8,
    "micro_batch_size": 4,
    "learning_rate": 1e-3,
    "mu": 2,
    "lr_schedule": "cosine",
    "checkpoint_every": 1,
    "keep_checkpoints": 2,
    "tensorboard": False,
    "progress": False,
}


@pytest.fixture(scope="module", autouse=True)
def test_envs():
    """Register the trainer test envs for this module only (subprocesses load them as a plugin)."""
    import gymnasium as gym

    from thinkgym.envs import registry

    sys.path.insert(0, str(TEST_ENVS))
    import thinkgym_test_envs  # noqa: F401

    yield
    for env_id in ("test/Parity-v0", "test/Constant-v0", "test/Echo-v0"):
        registry.unregister(env_id)
        gym.registry.pop(env_id, None)
    sys.modules.pop("thinkgym_test_envs", None)
    sys.path.remove(str(TEST_ENVS))


def write_config(tmp_path: Path, model_dir: Path, name: str, **fields) -> tuple[Path, Path]:
    run_dir = tmp_path / name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "model": str(model_dir), "output_dir": str(run_dir), **fields}))
    return path, run_dir


def thinkgym(args: list[str], fault: str | None = None, **popen) -> subprocess.Popen:
    path = os.pathsep.join([str(TEST_ENVS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("THINKGYM_FAULT", None)
    if fault:
        env["THINKGYM_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-m", "thinkgym", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def params(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(checkpoint / "model" / "model.safetensors"))


def logged_steps(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "log.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_sigkill_mid_checkpoint_and_mid_step_then_resume_matches_uninterrupted_run(tmp_path, tiny_model_dir):
    straight_config, straight_dir = write_config(tmp_path, tiny_model_dir, "straight")
    straight = thinkgym(["train", "--config", str(straight_config)])  # runs alongside the killed one
    config, run_dir = write_config(tmp_path, tiny_model_dir, "killed")

    code, err = finish(thinkgym(["train", "--config", str(config)], fault="checkpoint_write:2"))
    assert code == -signal.SIGKILL, err[-2000:]
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-000001"]
    torn = run_dir / "checkpoints" / ".tmp-step-000002"
    assert (torn / "model" / "model.safetensors").is_file() and not (torn / "DONE").exists()  # killed half-way

    code, err = finish(thinkgym(["train", "--resume", str(run_dir)], fault="step:3"))
    assert code == -signal.SIGKILL, err[-2000:]
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-000001", "step-000002"]
    assert not torn.exists()

    code, err = finish(thinkgym(["train", "--resume", str(run_dir)]))
    assert code == 0, err[-2000:]
    code, err = finish(straight)
    assert code == 0, err[-2000:]

    a, b = params(list_checkpoints(straight_dir)[-1]), params(list_checkpoints(run_dir)[-1])
    assert list_checkpoints(run_dir)[-1].name == "step-000003"
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    assert any(not torch.equal(initial[name], a[name]) for name in a)  # the runs trained
    assert set(a) == set(b) and all(torch.equal(a[name], b[name]) for name in a)
    assert logged_steps(run_dir) == logged_steps(straight_dir) == [1, 2, 3]  # nothing logged twice
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    straight_samples = [json.loads(line) for line in (straight_dir / "samples.jsonl").read_text().splitlines()]
    assert [(s["step"], s["prompt"], s["completions"]) for s in samples] == [(s["step"], s["prompt"], s["completions"]) for s in straight_samples]
    assert not list((run_dir / "checkpoints").glob(".tmp-*"))
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-000002", "step-000003"]


@pytest.mark.slow
def test_sigterm_writes_a_checkpoint_and_exits_143(tmp_path, tiny_model_dir):
    config, run_dir = write_config(tmp_path, tiny_model_dir, "term", steps=200, checkpoint_every=0)
    process = thinkgym(["train", "--config", str(config)])
    deadline = time.monotonic() + 180
    while not ((run_dir / "log.jsonl").is_file() and (run_dir / "log.jsonl").read_text().strip()):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended or never logged a step"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    code, err = finish(process)
    assert code == 128 + signal.SIGTERM, err[-2000:]
    assert "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    steps = logged_steps(run_dir)
    assert [p.name for p in list_checkpoints(run_dir)] == [f"step-{steps[-1]:06d}"] and steps[-1] < 200


def test_sigint_finishes_the_step_checkpoints_and_exits_130(tmp_path, tiny_model_dir, monkeypatch, capsys):
    collect = trainer_module.collect_batch

    def interrupt_in_step_two(config, model, tokenizer, pool, levels, rank, step, autocast):
        if step == 1:
            os.kill(os.getpid(), signal.SIGINT)  # arrives during step 2's rollouts
        return collect(config, model, tokenizer, pool, levels, rank, step, autocast)

    monkeypatch.setattr(trainer_module, "collect_batch", interrupt_in_step_two)
    config, run_dir = write_config(tmp_path, tiny_model_dir, "int", checkpoint_every=0)
    # Python's own handler, as in an interactive run (a background job starts with SIGINT ignored).
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main(["train", "--config", str(config)]) == 130
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    finally:
        signal.signal(signal.SIGINT, outer)
    assert "stopped by SIGINT after step 2" in capsys.readouterr().err
    assert [p.name for p in list_checkpoints(run_dir)] == ["step-000002"] and logged_steps(run_dir) == [1, 2]


def poison_steps(monkeypatch, steps: set[int]) -> None:
    """Make the GRPO loss NaN on the given (0-based) steps."""
    current = {"step": -1}
    collect, loss_fn = trainer_module.collect_batch, trainer_module.grpo_loss

    def tracking_collect(*args, **kwargs):
        current["step"] = args[6]
        return collect(*args, **kwargs)

    def poisoned_loss(*args, **kwargs):
        loss, stats = loss_fn(*args, **kwargs)
        return (loss * float("nan"), stats) if current["step"] in steps else (loss, stats)

    monkeypatch.setattr(trainer_module, "collect_batch", tracking_collect)
    monkeypatch.setattr(trainer_module, "grpo_loss", poisoned_loss)


def test_a_nonfinite_step_is_skipped_logged_and_counted(tmp_path, tiny_model_dir, monkeypatch, capsys):
    poison_steps(monkeypatch, {0})
    config, run_dir = write_config(tmp_path, tiny_model_dir, "nan1", steps=2, keep_checkpoints=0, max_nonfinite_steps=1 + 1)
    assert main(["train", "--config", str(config)]) == 0
    assert "step 1: non-finite loss or gradients, update skipped" in capsys.readouterr().err
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [(r["skipped_update"], r["nonfinite_steps"]) for r in rows] == [(True, 1), (False, 1)]
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    first, second = (params(c) for c in list_checkpoints(run_dir))
    assert all(torch.equal(initial[name], first[name]) for name in initial)  # the NaN step changed nothing
    assert all(torch.isfinite(t).all() for t in second.values())
    assert any(not torch.equal(initial[name], second[name]) for name in initial)  # step 2 trained


def test_nonfinite_steps_in_a_row_stop_the_run_with_a_clear_message(tmp_path, tiny_model_dir, monkeypatch, capsys):
    poison_steps(monkeypatch, {0, 1, 2})
    config, run_dir = write_config(tmp_path, tiny_model_dir, "nan", steps=3, max_nonfinite_steps=2)
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "2 steps in a row (up to step 2) had a non-finite loss or gradients" in err and "Traceback" not in err
    assert logged_steps(run_dir) == [1, 2]
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    for checkpoint in list_checkpoints(run_dir):
        assert all(torch.equal(initial[name], t) for name, t in params(checkpoint).items())


@pytest.mark.parametrize("spec", ["checkpoint:1", "step:x", "step"])
def test_a_malformed_fault_spec_is_rejected(spec, monkeypatch):
    from thinkgym.agents.faults import fault_point

    monkeypatch.setenv("THINKGYM_FAULT", spec)
    with pytest.raises(ValueError, match="THINKGYM_FAULT must be one of"):
        fault_point("step", 1)
