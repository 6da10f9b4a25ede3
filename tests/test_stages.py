"""The main job's report: chance levels measured without a model, the mean paired interval
(against hand-computed values), the staged table and chart, and the run config's cold-start
section."""

from __future__ import annotations

import collections
import math

import pytest

from thinkgym.agents.chance import COUNTED_BELOW, chance_level
from thinkgym.agents.config import ConfigError
from thinkgym.agents.evaluate import EvalTask, eval_problems
from thinkgym.agents.metrics import mean_paired_difference_interval, paired_difference_interval
from thinkgym.agents.report import stage_chart, stage_summary, stage_table

SYLLOGISM = "thinkgym/Syllogism-v0"
BFS = "thinkgym/BfsDistance-v0"
ARITH = "thinkgym/Arithmetic-v0"


# -- the mean of paired differences -----------------------------------------------------------
def test_mean_paired_interval_hand_computed():
    # task 1: differences [1, 0, 0, 0]: mean 0.25, sample variance 0.25, over n=4: 0.0625
    # task 2: differences [-1, 0]: mean -0.5, sample variance 0.5, over n=2: 0.25
    # mean over tasks -0.125; variance of the mean (0.0625 + 0.25) / 4 = 0.078125
    pairs = [([False, False, True, True], [True, False, True, True]), ([True, True], [False, True])]
    mean, lo, hi = mean_paired_difference_interval(pairs)
    half = 1.959963984540054 * math.sqrt(0.078125)
    assert mean == pytest.approx(-0.125)
    assert (lo, hi) == pytest.approx((-0.125 - half, -0.125 + half))


def test_mean_paired_interval_of_identical_outcomes_is_a_point():
    assert mean_paired_difference_interval([([True, False], [True, False])]) == (0.0, 0.0, 0.0)


def test_mean_paired_interval_rejects_unpaired_outcomes():
    with pytest.raises(ValueError, match="equal"):
        mean_paired_difference_interval([([True], [True, False])])
    with pytest.raises(ValueError, match="at least one"):
        mean_paired_difference_interval([])


# -- chance levels ----------------------------------------------------------------------------
def test_chance_of_a_two_way_answer_is_its_majority_share_counted_independently():
    task = EvalTask(SYLLOGISM, (1,))
    level = chance_level(task, 30, 0)
    answers = collections.Counter(ref.answer for _, _, refs in eval_problems(task, 30, 0) for ref in refs)
    assert set(answers) <= {"valid", "invalid"} and sum(answers.values()) == 30
    majority = max(answers.values()) / 30
    # the verifier's score of the best constant equals the share counted from the references
    assert level["best_constant_accuracy"] == pytest.approx(majority) and level["chance"] == pytest.approx(majority)
    assert level["chance"] >= 0.5 and not level["counted"]


def test_chance_counts_a_frequent_small_answer():
    level = chance_level(EvalTask(BFS, (1,)), 40, 0)
    assert level["top_reference_share"] >= COUNTED_BELOW and not level["counted"]  # distances 1-3 repeat
    assert level["chance"] >= level["top_reference_share"]


def test_chance_of_open_answers_is_low_and_counted():
    level = chance_level(EvalTask(ARITH, (1,)), 40, 0)
    assert level["distinct_references"] > 10 and level["chance"] < COUNTED_BELOW and level["counted"]


def test_chance_reads_the_evaluations_problems():
    task = EvalTask(ARITH, (1, 2))
    per_level = eval_problems(task, 6, 3)
    assert [(level, len(refs)) for _, level, refs in per_level] == [(1, 3), (2, 3)]
    assert chance_level(task, 6, 3)["n"] == 6


# -- the staged table -------------------------------------------------------------------------
def _results(model: str, accuracies: dict[str, list[bool]]) -> tuple[dict, dict]:
    tasks, outcomes = {}, {}
    for env_id, outs in accuracies.items():
        acc = sum(outs) / len(outs)
        tasks[env_id] = {"accuracy": acc, "ci95": [max(0.0, acc - 0.1), min(1.0, acc + 0.1)], "format_rate": 1.0, "n": len(outs)}
        outcomes[env_id] = {(1, seed): ok for seed, ok in enumerate(outs)}
    return {"model": model, "tasks": tasks, "mean_accuracy": 0.0}, outcomes


def test_stage_summary_gains_are_paired_and_the_mean_skips_chance_level_tasks():
    a = [False] * 8 + [True] * 2
    b = [False] * 5 + [True] * 5
    c = [False] * 2 + [True] * 8
    stages = [("before", *_results("m0", {ARITH: a, SYLLOGISM: a})), ("cold_start", *_results("m1", {ARITH: b, SYLLOGISM: c})),
              ("after", *_results("m2", {ARITH: c, SYLLOGISM: c}))]
    chance = {ARITH: {"chance": 0.1}, SYLLOGISM: {"chance": 0.55}}
    summary = stage_summary(stages, chance)
    row = summary["tasks"][ARITH]
    assert row["counted"] and not summary["tasks"][SYLLOGISM]["counted"]
    assert list(row["gains"]) == ["cold_start-before", "after-cold_start", "after-before"]
    assert row["gains"]["after-cold_start"]["mean"] == pytest.approx(0.3)
    assert row["gains"]["after-cold_start"]["ci95"] == pytest.approx(list(paired_difference_interval(b, c)))
    mean = summary["mean_counted"]
    assert mean["tasks"] == [ARITH] and mean["stages"] == pytest.approx({"before": 0.2, "cold_start": 0.5, "after": 0.8})
    assert mean["gains"]["after-before"]["mean"] == pytest.approx(0.6)
    table = stage_table(summary)
    assert "| Arithmetic | 10 | 10.0 | 20.0 [10.0, 30.0] | 50.0 [40.0, 60.0] | 80.0 [70.0, 90.0] | +30.0 [" in table
    assert "| Syllogism | 10 | 55.0 † |" in table and "**mean of 1 counted**" in table
    assert "after − cold_start" in table


def test_stage_chart_is_a_png(tmp_path):
    stages = [("before", *_results("m0", {ARITH: [False, True]})), ("after", *_results("m1", {ARITH: [True, True]}))]
    path = stage_chart(stage_summary(stages, {ARITH: {"chance": 0.1}}), tmp_path / "c.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


# -- the run config ---------------------------------------------------------------------------
def _config(tmp_path, text: str):
    path = tmp_path / "run.yaml"
    path.write_text("model: tiny-random\nmix:\n  - {id: thinkgym/Arithmetic-v0}\n" + text)
    return str(path)


def test_run_config_reads_the_cold_start_section_and_its_overrides(tmp_path):
    from thinkgym.agents.cmd_run import cold_start_config, load_job

    config, section = load_job(_config(tmp_path, "steps: 3\ncold_start: {steps: 4, learning_rate: 1.0e-4}\n"),
                               ["steps=2", "cold_start.batch_size=2"])
    assert config.steps == 2 and section == {"steps": 4, "learning_rate": 1.0e-4, "batch_size": 2}
    sft = cold_start_config(config, section, tmp_path / "run")
    assert (sft.steps, sft.batch_size, sft.model, sft.response_prefix) == (4, 2, "tiny-random", config.response_prefix)
    assert sft.output_dir == str(tmp_path / "run" / "cold_start") and [s.id for s in sft.mix] == [ARITH]
    assert load_job(_config(tmp_path, "cold_start: {steps: 4}\n"), ["cold_start=null"])[1] is None


@pytest.mark.parametrize(("text", "overrides", "message"), [
    ("cold_start: 3\n", [], "must be a mapping"),
    ("cold_start: {stepz: 3}\n", [], "unknown key 'stepz'"),
    ("cold_start: {model: other}\n", [], "come from the run's config"),
    ("", ["cold_start.=3"], "must look like"),
])
def test_run_config_rejects_a_bad_cold_start_in_one_line(tmp_path, text, overrides, message):
    from thinkgym.agents.cmd_run import cold_start_config, load_job

    with pytest.raises(ConfigError, match=message) as err:
        config, section = load_job(_config(tmp_path, text), overrides)
        cold_start_config(config, section, tmp_path / "run")
    assert "\n" not in str(err.value)


def test_the_default_run_config_has_a_valid_cold_start_and_train_reads_it(tmp_path):
    from pathlib import Path

    from thinkgym.agents.cmd_run import cold_start_config, load_job
    from thinkgym.agents.config import load_config

    path = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    config, section = load_job(str(path), [])
    sft = cold_start_config(config, section, tmp_path)
    assert sft.steps >= 1 and [s.id for s in sft.mix] == [s.id for s in config.mix]
    assert load_config(path, ["steps=3", "cold_start.steps=1"]).steps == 3  # thinkgym train skips the section
