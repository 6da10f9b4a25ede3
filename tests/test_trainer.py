"""The GRPO trainer on a tiny random Llama (same tokenizer as the default model).

The envs under ``tests/trainer_envs`` give a random model some reward signal (see there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import torch
from safetensors.torch import load_file

from thinkgym.agents import run as run_module
from thinkgym.agents import trainer as trainer_module
from thinkgym.agents.cli import main
from thinkgym.agents.config import config_from_dict
from thinkgym.agents.policy import load_policy
from thinkgym.agents.rollout import EnvPool, draw_problems, pad_left, run_episodes, start_episodes
from thinkgym.agents.trainer import collect_batch, train

ROOT = Path(__file__).resolve().parents[1]
TEST_ENVS = Path(__file__).resolve().parent / "trainer_envs"


@pytest.fixture(scope="module", autouse=True)
def test_envs():
    """Register the test envs for this module only."""
    from thinkgym.envs import registry

    sys.path.insert(0, str(TEST_ENVS))
    import thinkgym_test_envs  # noqa: F401  registers test/Parity-v0, test/Constant-v0, test/Echo-v0

    yield
    for env_id in ("test/Parity-v0", "test/Constant-v0", "test/Echo-v0"):
        registry.unregister(env_id)
        gym.registry.pop(env_id, None)
    sys.modules.pop("thinkgym_test_envs", None)
    sys.path.remove(str(TEST_ENVS))


def make_config(tmp_path: Path, model_dir: Path, mix: list, **fields):
    raw = {
        "model": str(model_dir),
        "output_dir": str(tmp_path / "run"),
        "mix": mix,
        "steps": 2,
        "prompts_per_step": 2,
        "group_size": 4,
        "max_new_tokens": 12,
        "micro_batch_size": 3,
        "learning_rate": 1e-3,
        "tensorboard": False,
        "progress": False,
        **fields,
    }
    return config_from_dict(raw)


def model_tensors(run_dir: Path) -> dict[str, torch.Tensor]:
    (checkpoint,) = sorted((run_dir / "checkpoints").glob("step-*"))[-1:]
    return load_file(str(checkpoint / "model" / "model.safetensors"))


def test_two_steps_on_two_envs_change_every_parameter(tmp_path, tiny_model_dir):
    mix = [{"id": "thinkgym/Arithmetic-v0"}, {"id": "test/Parity-v0"}]
    config = make_config(tmp_path, tiny_model_dir, mix, dynamic_sampling=False, beta=0.04, divergence="js")
    run_dir = train(config)
    before = load_file(str(tiny_model_dir / "model.safetensors"))
    after = model_tensors(run_dir)
    assert set(before) == set(after)
    unchanged = [name for name in before if torch.equal(before[name], after[name])]
    assert not unchanged, f"parameters that did not train: {unchanged}"
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert {env for r in rows for env in r["envs"]} == {"thinkgym/Arithmetic-v0", "test/Parity-v0"}
    for key in ("reward", "accuracy", "format_rate", "kl", "clip_fraction", "entropy", "completion_length", "dropped_fraction", "tokens_per_s", "step_time"):
        assert key in rows[0], key
    assert (run_dir / "samples.jsonl").read_text().strip()


def test_multi_turn_rollout_masks_env_text(tmp_path, tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    config = make_config(tmp_path, tiny_model_dir, [{"id": "test/Echo-v0"}], max_turns=4, response_prefix="<think>\n")
    pool = EnvPool(config.mix, config.group_size)
    problems = draw_problems(config, pool, {"test/Echo-v0": 1}, rank=0, step=0, round_=0)
    episodes = start_episodes(config, tokenizer, pool, problems, first_group=0)
    prompt_lengths = [len(e.token_ids) for e in episodes]
    run_episodes(model, tokenizer, episodes, config, seed=0, autocast=None)
    for episode, prompt_length in zip(episodes, prompt_lengths):
        assert episode.done and len(episode.texts) == 2  # the env ends the episode after two turns
        assert all(text.startswith("<think>\n") for text in episode.texts)  # the prefix is scored with the reply
        mask, ids = episode.mask, episode.token_ids
        assert len(mask) == len(ids) and not any(mask[:prompt_length])
        blocks = [i for i in range(1, len(mask)) if mask[i] and not mask[i - 1]]
        assert len(blocks) == 2  # two model turns, separated by env text
        model_text = tokenizer.decode([t for t, m in zip(ids, mask) if m])
        between = tokenizer.decode(ids[blocks[0] : blocks[1]])
        env_text = tokenizer.decode([t for t, m in zip(ids[blocks[0] :], mask[blocks[0] :]) if not m])
        assert "Observation 1: go on." in env_text and "Observation" not in model_text
        assert between.endswith("<|im_start|>user\nObservation 1: go on.<|im_end|>\n<|im_start|>assistant\n<think>\n")
        assert tokenizer.decode(ids[:prompt_length]).endswith("<|im_start|>assistant\n<think>\n")
    # The logits window of the training forward covers every model token.
    _, _, mask, keep = pad_left(episodes, tokenizer.pad_token_id)
    assert mask[:, -keep:].sum() == mask.sum() == sum(sum(e.mask) for e in episodes)


def test_dynamic_sampling_drops_all_equal_groups(tmp_path, tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    mix = [{"id": "test/Constant-v0"}, {"id": "test/Parity-v0"}]
    config = make_config(tmp_path, tiny_model_dir, mix, prompts_per_step=4, max_refill_rounds=4)
    pool = EnvPool(config.mix, config.group_size)
    levels = {spec.id: 1 for spec in config.mix}
    batch, counts = collect_batch(config, model, tokenizer, pool, levels, rank=0, step=0, autocast=None)
    groups = [batch[i : i + 4] for i in range(0, len(batch), 4)]
    assert len(groups) == 4
    assert all(len({e.reward for e in g}) > 1 for g in groups)  # every kept group carries signal
    assert all(e.env_id == "test/Parity-v0" for e in batch)
    assert counts["dropped"] > 0 and counts["groups"] == 4 + counts["dropped"]

    config = make_config(tmp_path, tiny_model_dir, mix, prompts_per_step=4, dynamic_sampling=False)
    batch, counts = collect_batch(config, model, tokenizer, pool, levels, rank=0, step=0, autocast=None)
    assert counts == {"groups": 4, "dropped": 0, "generated_tokens": counts["generated_tokens"]}
    assert any(e.env_id == "test/Constant-v0" for e in batch)


@pytest.mark.parametrize("mu", [1, 2])
def test_groups_without_signal_are_not_trained_and_the_step_is_unchanged(tmp_path, tiny_model_dir, mu):
    """With dynamic sampling and no refills, the groups whose rewards are all equal are not run
    through the policy (fewer trained positions), and the weights after the step are those of
    training on every group (dynamic sampling off: the same rollouts, all groups trained), since
    their advantages are 0 (beta 0: no KL term either)."""
    mix = [{"id": "test/Constant-v0"}, {"id": "test/Parity-v0"}]
    fields = dict(steps=1, prompts_per_step=4, max_refill_rounds=0, beta=0.0, mu=mu, format_weight=0.0, checkpoint_every=1, bf16=False)
    skipping = train(make_config(tmp_path / "skip", tiny_model_dir, mix, **fields))
    every = train(make_config(tmp_path / "all", tiny_model_dir, mix, dynamic_sampling=False, **fields))
    (skip_row,), (all_row,) = ([json.loads(line) for line in (d / "log.jsonl").read_text().splitlines()] for d in (skipping, every))
    assert skip_row["dropped_fraction"] > 0 and all_row["dropped_fraction"] == 0
    assert skip_row["train_positions"] < all_row["train_positions"]
    assert skip_row["reward"] == all_row["reward"]  # the same rollouts
    assert skip_row["grad_norm"] == pytest.approx(all_row["grad_norm"], rel=1e-4)  # the same gradient, the same scale
    a, b = model_tensors(skipping), model_tensors(every)
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    assert any(not torch.equal(a[k], initial[k]) for k in a)  # the step did something
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-6)


def test_later_passes_reuse_the_first_pass_log_probs_of_the_sampling_weights(tmp_path, tiny_model_dir, monkeypatch):
    """With mu 2 the old log-probs come from the first pass (no forward of their own): the first
    pass's ratio is exactly 1, and the second pass's old log-probs of every micro-batch equal a
    fresh no-grad forward of the weights that sampled the batch (loaded again from disk)."""
    calls, losses = [], []
    token_logps, grpo_loss = trainer_module.token_logps, trainer_module.grpo_loss

    def recording_logps(model, m, autocast, with_entropy=False):
        out = token_logps(model, m, autocast, with_entropy=with_entropy)
        calls.append(m)
        return out

    def recording_loss(logps, old, *args, **kwargs):
        losses.append((logps.detach().clone(), old.clone()))
        return grpo_loss(logps, old, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "token_logps", recording_logps)
    monkeypatch.setattr(trainer_module, "grpo_loss", recording_loss)
    mix = [{"id": "test/Parity-v0"}]
    train(make_config(tmp_path / "run", tiny_model_dir, mix, steps=1, prompts_per_step=4, micro_batch_size=4, mu=2, beta=0.0, dynamic_sampling=False, learning_rate=1e-2, bf16=False))
    micro = len(losses) // 2
    assert micro >= 2 and len(calls) == len(losses) == 2 * micro  # two passes, no other forward
    sampler, _ = load_policy(str(tiny_model_dir))
    for index in range(micro):
        (first, first_old), (second, second_old) = losses[index], losses[index + micro]
        assert torch.equal(first_old, first)  # ratio 1 on the first pass
        assert torch.equal(second_old, first_old)  # the second pass reuses them
        assert not torch.allclose(second, second_old)  # the weights moved in between
        with torch.no_grad():
            fresh, _ = token_logps(sampler, calls[index], None)
        mask = calls[index]["mask"].bool()
        # The training forward (grad on) and a no-grad forward may take different CPU kernels:
        # CI measured 1e-3 apart on log-probs near -10 (relative 1e-4), far below what a PPO
        # ratio notices (clip 0.2). Weights that had moved would be off by far more: the second
        # pass's own log-probs are 0.1-1 away, and that is what the last line guards.
        torch.testing.assert_close(second_old[mask], fresh[mask], rtol=1e-3, atol=1e-3)
        assert (second_old[mask] - fresh[mask]).abs().max() < 0.05 * (second[mask] - fresh[mask]).abs().max()


def test_resume_after_interruption_matches_uninterrupted_run(tmp_path, tiny_model_dir, monkeypatch):
    mix = [{"id": "test/Parity-v0"}, {"id": "test/Echo-v0", "weight": 0.5}]
    fields = dict(steps=3, max_new_tokens=8, checkpoint_every=1, keep_checkpoints=1, mu=2, lr_schedule="cosine", warmup_steps=1, curriculum=True, curriculum_window=4)
    straight = train(make_config(tmp_path / "a", tiny_model_dir, mix, **fields))

    save = run_module.save_checkpoint

    def save_then_die(run, step, extra_state):
        save(run, step, extra_state)
        if step == 2:
            raise KeyboardInterrupt  # killed right after the step-2 checkpoint

    monkeypatch.setattr(run_module, "save_checkpoint", save_then_die)
    config = make_config(tmp_path / "b", tiny_model_dir, mix, **fields)
    with pytest.raises(KeyboardInterrupt):
        train(config)
    monkeypatch.setattr(run_module, "save_checkpoint", save)
    resumed = train(config, resume=True)

    a, b = model_tensors(straight), model_tensors(resumed)
    assert all(torch.equal(a[name], b[name]) for name in a)
    log = [json.loads(line)["step"] for line in (resumed / "log.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3]
    assert [p.name for p in (resumed / "checkpoints").iterdir()] == ["step-000003"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("nonsense=1", "unknown key 'nonsense'"),
        ("stepz=3", "did you mean 'steps'"),
        ("steps=many", "steps must be int"),
        ("group_size=1", "group_size must be >= 2"),
        ("mix=[thinkgym/Arithmetc-v0]", "did you mean 'thinkgym/Arithmetic-v0'"),
        ("beta=-0.1", "beta must be >= 0"),
        ("divergence=wasserstein", "unknown divergence 'wasserstein'"),
    ],
)
def test_bad_configs_exit_nonzero_before_loading_a_model(override, message, monkeypatch, capsys):
    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded for an invalid config")

    monkeypatch.setattr("thinkgym.agents.policy.load_policy", no_model)
    monkeypatch.setattr(run_module, "load_policy", no_model)
    code = main(["train", "--config", str(ROOT / "configs" / "smoke.yaml"), override])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_config_file_and_bad_resume_exit_nonzero(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert main(["train", "--resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml" in err and "not a run directory" in err


def test_smoke_config_runs_from_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("THINKGYM_CACHE", str(tmp_path / "cache"))  # builds the tiny-random model there
    assert main(["train", "--config", str(ROOT / "configs" / "smoke.yaml"), f"output_dir={tmp_path / 'smoke'}", "progress=false"]) == 0
    assert (tmp_path / "smoke" / "checkpoints" / "step-000002" / "model" / "model.safetensors").is_file()
    assert (tmp_path / "smoke" / "checkpoints" / "step-000002" / "trainer_state.pt").is_file()


@pytest.mark.slow
def test_two_process_accelerate_run(tmp_path, tiny_model_dir):
    """accelerate launch --multi_gpu on a CPU machine: two processes (gloo), DDP."""
    run_dir = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TEST_ENVS), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "thinkgym", "train",
        "--config", str(ROOT / "configs" / "smoke.yaml"), f"model={tiny_model_dir}", f"output_dir={run_dir}",
        "mix=[test/Parity-v0]", "steps=2", "progress=false", "checkpoint_every=0",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((run_dir / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert all(r["num_processes"] == 2 and r["trained_steps"] == 2 for r in ranks)
    assert ranks[0]["param_checksum"] == ranks[1]["param_checksum"]
    model, _ = load_policy(str(tiny_model_dir))
    initial = sum(float(p.double().sum()) + float(p.double().abs().sum()) for p in model.parameters())
    assert ranks[0]["param_checksum"] != initial  # the ranks trained (and stayed in sync)
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [r["envs"]["test/Parity-v0"]["episodes"] for r in rows] == [16, 16]  # 2 prompts x G=4, from each rank


def test_lora_trains_adapters_against_the_base_as_reference(tmp_path, tiny_model_dir):
    config = make_config(tmp_path, tiny_model_dir, [{"id": "test/Parity-v0"}], steps=1, lora=True, lora_rank=4, learning_rate=1e-2, beta=0.1)
    run_dir = train(config)
    checkpoint = run_dir / "checkpoints" / "step-000001"
    assert (checkpoint / "adapter" / "adapter_config.json").is_file()
    before = load_file(str(tiny_model_dir / "model.safetensors"))
    after = model_tensors(run_dir)  # adapters merged into the saved model
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    adapted = {name for name in before if any(f"{m}.weight" in name for m in ("q_proj", "k_proj", "v_proj", "o_proj"))}
    assert changed and changed <= adapted


@pytest.mark.parametrize("preset", ["default.yaml", "smoke.yaml", "measure_arithmetic.yaml", "measure_mix.yaml"])
def test_presets_are_valid_configs(preset):
    from thinkgym.agents.config import load_config

    config = load_config(ROOT / "configs" / preset)
    assert config.mix and config.group_size >= 2


@pytest.mark.parametrize("preset", ["single_gpu.yaml", "multi_gpu_ddp.yaml", "fsdp.yaml"])
def test_accelerate_configs_parse(preset):
    import yaml

    data = yaml.safe_load((ROOT / "configs" / "accelerate" / preset).read_text())
    assert data["distributed_type"] in {"NO", "MULTI_GPU", "FSDP"} and data["num_processes"] >= 1


def test_scientific_notation_without_a_dot_reads_as_a_float():
    from thinkgym.agents.config import ConfigError, load_config

    config = load_config("configs/smoke.yaml", ["learning_rate=2e-5"])
    assert config.learning_rate == 2e-5
    with pytest.raises(ConfigError, match="learning_rate must be float"):
        load_config("configs/smoke.yaml", ["learning_rate=fast"])
