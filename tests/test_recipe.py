"""The R1 recipe runs its stages in order on a tiny model, feeds each stage the previous one's
policy, keeps only verified answers for the last SFT, and skips finished stages on a rerun."""

from __future__ import annotations

import json

import pytest

from thinkgym.agents.cli import main
from thinkgym.agents.config import ConfigError
from thinkgym.agents.recipe import load_recipe
from thinkgym.agents.sft_data import read_jsonl, train_problems


def test_recipe_config_is_validated_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError, match="recipe stage grpo: .*group_size must be >= 2"):
        load_recipe("configs/r1-recipe.yaml", [f"output_dir={tmp_path}", "grpo={group_size: 1}"])
    with pytest.raises(ConfigError, match="unknown stages"):
        load_recipe("configs/r1-recipe.yaml", ["stages=[cold_start, rl]"])
    recipe = load_recipe("configs/r1-recipe.yaml", [f"output_dir={tmp_path}"])
    assert recipe.grpo_config().model == str(tmp_path / "cold_start")
    assert recipe.rejection_sft_config(check_data=False).model == str(tmp_path / "grpo")


@pytest.mark.slow
def test_recipe_runs_end_to_end_on_a_tiny_model(tiny_model_dir, tmp_path, monkeypatch, capsys):
    import thinkgym.agents.evaluate as evaluate

    recipe = load_recipe("configs/r1-recipe.yaml", [f"output_dir={tmp_path}", "rejection_problems=4"])
    answers = {p.prompt: p.answer for p in train_problems(recipe.mix, 4, recipe.seed, stream=1_000_003)}
    real_sampler = evaluate.policy_sampler

    def sampler(model, tokenizer, **kwargs):
        sample = real_sampler(model, tokenizer, **kwargs)

        def scripted(conversations, *, greedy, seed):  # a random tiny model never answers right: script the rejection stage
            prompt = conversations[0][-1]["content"]
            if prompt not in answers:
                return sample(conversations, greedy=greedy, seed=seed)
            return [(f"<think>\nsolved\n</think>\n<answer>{answers[c[-1]['content']]}</answer>", 9) if i % 2 == 0 else ("<answer>x</answer>", 3)
                    for i, c in enumerate(conversations)]

        return scripted

    monkeypatch.setattr(evaluate, "policy_sampler", sampler)
    args = ["recipe", "--config", "configs/r1-recipe.yaml", "--no-progress", f"model={tiny_model_dir}", f"output_dir={tmp_path}",
            "eval_n=2", "rejection_problems=4", "rejection_k=2", "stages=[cold_start, grpo, rejection, rejection_sft]",
            "cold_start={steps: 2, batch_size: 2, bf16: false}", "rejection_sft={steps: 1, batch_size: 2, bf16: false}",
            "grpo={steps: 1, prompts_per_step: 2, group_size: 2, max_new_tokens: 4, bf16: false, tensorboard: false}"]
    assert main(args) == 0
    summary = json.loads((tmp_path / "recipe.json").read_text())
    assert list(summary["stages"]) == ["cold_start", "grpo", "rejection", "rejection_sft"]
    assert summary["stages"]["grpo"]["model"] == str(tmp_path / "grpo")
    assert summary["stages"]["rejection"]["sampling"]["correct_samples"] == 4
    data = read_jsonl(tmp_path / "rejection" / "correct.jsonl")
    assert len(data) == 4 and all(e["completion"].endswith(f"<answer>{answers[e['prompt']]}</answer>") for e in data)
    assert "model: " + str(tmp_path / "cold_start") in (tmp_path / "grpo" / "config.yaml").read_text()
    assert "model: " + str(tmp_path / "grpo") in (tmp_path / "rejection_sft" / "config.yaml").read_text()
    out = capsys.readouterr().out
    assert "rejection_sft" in out and "held-out accuracy" in out
    mtime = (tmp_path / "rejection_sft" / "log.jsonl").stat().st_mtime
    assert main(args) == 0  # rerun: every stage is complete, nothing trains again
    assert (tmp_path / "rejection_sft" / "log.jsonl").stat().st_mtime == mtime
