"""Evaluation: metrics against hand-computed values, held-out problems, the report files, and
the ``eval``, ``compare`` and ``plot`` commands."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

import thinkgym
from thinkgym.agents.cli import main
from thinkgym.agents.evaluate import EvalTask, _episodes, evaluate, play, tasks_for
from thinkgym.agents.metrics import (
    difference_interval,
    majority_correct,
    paired_difference_interval,
    pass_at_k,
    summarize,
    wilson_interval,
)
from thinkgym.splits import derive_seed, problem_stream, split_of

ARITH = "thinkgym/Arithmetic-v0"
PATH = "thinkgym/ShortestPath-v0"
EXPLORE = "thinkgym/GraphExplore-v0"


# -- metrics ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 2 / 5),
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (5, 2, 3, 1 - 1 / 10),  # 1 - C(3,3)/C(5,3)
        (5, 2, 4, 1.0),  # fewer than 4 wrong samples: any 4 include a right one
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (8, 0, 8, 0.0),
        (8, 8, 1, 1.0),
    ],
)
def test_pass_at_k_matches_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(4, 5, 1)


def test_wilson_interval_hand_computed():
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_difference_interval_is_centred_on_the_delta():
    a, b = wilson_interval(20, 100), wilson_interval(50, 100)
    lo, hi = difference_interval(0.2, a, 0.5, b)
    assert lo < 0.3 < hi and lo > 0  # a 30-point gain on 100 problems is significant
    lo, hi = difference_interval(0.5, b, 0.5, b)
    assert lo == pytest.approx(-hi) and lo < 0


def test_paired_interval_uses_the_agreement_of_the_pairs():
    before = [True] * 20 + [False] * 80
    after = [True] * 35 + [False] * 65  # 15 gained, none lost
    lo, hi = paired_difference_interval(before, after)
    ind_lo, ind_hi = difference_interval(0.2, wilson_interval(20, 100), 0.35, wilson_interval(35, 100))
    assert ind_lo < lo < 0.15 < hi < ind_hi  # narrower than the independent interval, around the delta
    assert paired_difference_interval(after, before) == pytest.approx((-hi, -lo))
    lo, hi = paired_difference_interval([False] * 50, [False] * 50)
    assert lo < 0 < hi and lo == pytest.approx(-hi)
    assert paired_difference_interval([False] * 50, [True] * 50)[1] == 1.0
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference_interval([True], [])


def test_majority_vote_uses_canonical_answers():
    assert majority_correct(["3", "4", "3", None], [True, False, True, False])
    assert not majority_correct(["4", "3"], [False, True])  # a tie goes to the answer seen first
    assert not majority_correct([None, None], [False, False])


def _record(difficulty, seed, kind, correct, canonical="1", reward=None):
    return {"difficulty": difficulty, "seed": seed, "kind": kind, "correct": correct, "canonical": canonical,
            "reward": float(correct) if reward is None else reward, "format": 1.0, "tokens": 10, "turns": 1}


def test_summarize_aggregates_per_task_and_level():
    records = [_record(1, 0, "greedy", True), _record(1, 1, "greedy", False), _record(2, 2, "greedy", False)]
    # problem 0: 2 of 4 samples right; problem 1: none; problem 2: all four
    records += [_record(1, 0, "sample", i < 2, canonical="7" if i < 2 else str(i)) for i in range(4)]
    records += [_record(1, 1, "sample", False) for _ in range(4)]
    records += [_record(2, 2, "sample", True) for _ in range(4)]
    entry = summarize(records)
    assert entry["n"] == 3 and entry["accuracy"] == pytest.approx(1 / 3)
    assert entry["ci95"] == pytest.approx(list(wilson_interval(1, 3)))
    assert entry["pass@k"]["1"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert entry["pass@k"]["2"] == pytest.approx(((1 - 1 / 6) + 0 + 1) / 3)
    assert entry["pass@k"]["4"] == pytest.approx(2 / 3)
    assert entry["maj@k"]["4"] == pytest.approx(2 / 3)
    assert set(entry["by_difficulty"]) == {"1", "2"}
    assert entry["by_difficulty"]["1"]["n"] == 2 and entry["by_difficulty"]["2"]["accuracy"] == 0.0


# -- the evaluation loop ----------------------------------------------------------------------
def _oracle(answers):
    """A sampler that answers each conversation with the reference answer it is given."""
    def sample(conversations, *, greedy, seed):
        return [(f"<think>known</think><answer>{answers(c)}</answer>", 7) for c in conversations]
    return sample


def test_held_out_problems_never_come_from_the_training_stream():
    result = evaluate(_oracle(lambda c: "0"), tasks_for([ARITH], 1), model_name="oracle", n=30, progress=False)
    seeds = {r["seed"] for r in result.records}
    assert len(seeds) == 30
    assert not seeds & {derive_seed(0, "train", i) for i in range(10_000)}
    assert all(split_of(r["prompt"]) == "eval" for r in result.records)
    again = evaluate(_oracle(lambda c: "0"), tasks_for([ARITH], 1), model_name="oracle", n=30, progress=False)
    assert [r["seed"] for r in again.records] == [r["seed"] for r in result.records]


def test_reference_answers_score_full_accuracy_and_wrong_ones_zero():
    prompts = {}
    for env_id in (ARITH, PATH):
        for level in (1, 2, 3):
            env = thinkgym.make(env_id, difficulty=level, disable_env_checker=True)
            for ref in itertools.islice(problem_stream(env, env_id, "eval", 0, level), 4):
                prompts[ref.prompt] = ref.answer
    right = evaluate(_oracle(lambda c: prompts[c[-1]["content"]]), tasks_for([ARITH, PATH], "all"),
                     model_name="oracle", n=12, samples=3, progress=False)
    for env_id in (ARITH, PATH):
        task = right.results["tasks"][env_id]
        assert task["accuracy"] == 1.0 and task["n"] == 12 and task["pass@k"]["3"] == 1.0
        assert set(task["by_difficulty"]) == {"1", "2", "3"} and task["format_rate"] == 1.0
    assert right.results["mean_accuracy"] == 1.0
    wrong = evaluate(_oracle(lambda c: "no idea"), tasks_for([ARITH], "all"), model_name="x", n=12, progress=False)
    assert wrong.results["tasks"][ARITH]["accuracy"] == 0.0


def test_multi_turn_episode_feeds_observations_back_until_done():
    episodes, envs = _episodes(EvalTask(EXPLORE, (1,)), n=3, samples=1, seed=0, system_prompt=None)
    for e in episodes:
        e.open(lambda level: thinkgym.make(EXPLORE, difficulty=level, disable_env_checker=True))

    def follow_reference(conversations, *, greedy, seed):
        out = []
        for c in conversations:
            episode = next(e for e in episodes if e.messages is c)
            out.append((f"<answer>{episode.env.unwrapped.reference_action()}</answer>", 3))
        return out

    play(episodes, follow_reference, batch_size=2, seed=0)
    for e in episodes:
        record = e.record()
        assert record["correct"] and record["reward"] == 1.0 and record["turns"] > 1
        assert record["transcript"][1]["role"] == "assistant" and record["transcript"][2]["role"] == "user"
        assert record["transcript"][-1]["content"].startswith("Correct")
        assert record["tokens"] == 3 * record["turns"]
        e.env.close()
    entry = summarize([e.record() for e in episodes], multi_turn=True)
    assert entry["success_rate"] == 1.0 and entry["mean_return"] == 1.0 and entry["mean_turns"] > 1


# -- the commands -----------------------------------------------------------------------------
def test_eval_command_on_a_tiny_model_writes_the_report(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    rc = main(["eval", "--model", str(tiny_model_dir), "--envs", ARITH, PATH, "--n", "3", "--samples", "2",
               "--max-new-tokens", "6", "--out", str(out), "--no-progress", "--dtype", "fp32", "--response-prefix", "<think>\\n"])
    assert rc == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results) == ["model", "tasks", "mean_accuracy"]
    assert list(results["tasks"]) == [ARITH, PATH]
    for task in results["tasks"].values():
        assert task["n"] == 3 and 0.0 <= task["accuracy"] <= 1.0
        lo, hi = task["ci95"]
        assert 0.0 <= lo <= task["accuracy"] <= hi <= 1.0
        assert set(task["pass@k"]) == {"1", "2"} and set(task["by_difficulty"]) == {"1"}
        assert task["mean_completion_tokens"] <= 6
    assert math.isclose(results["mean_accuracy"], sum(t["accuracy"] for t in results["tasks"].values()) / 2)
    assert "| ShortestPath | 3 |" in (out / "results.md").read_text()
    assert (out / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (out / "completions.jsonl").read_text().splitlines()
    assert len(lines) == 2 * 3 * (1 + 2)
    assert all(json.loads(line)["completion"].startswith("<think>\n") for line in lines)  # the escape is read
    assert json.loads((out / "settings.json").read_text())["split"] == "eval"
    assert "results.md" in capsys.readouterr().out


def test_eval_reads_the_env_mix_of_a_training_config(tiny_model_dir, tmp_path, capsys):
    config = tmp_path / "mix.yaml"
    config.write_text(f"mix:\n  - {{id: {ARITH}, difficulty: 2}}\n  - {{id: {EXPLORE}, weight: 2.0}}\nsystem_prompt: null\n"
                      "response_prefix: \"<think>\\n\"\nmax_new_tokens: 5\n")
    out = tmp_path / "eval"
    assert main(["eval", "--model", str(tiny_model_dir), "--mix", str(config), "--n", "1", "--out", str(out), "--no-progress"]) == 0
    tasks = json.loads((out / "results.json").read_text())["tasks"]
    assert set(tasks[ARITH]["by_difficulty"]) == {"2"} and set(tasks[EXPLORE]["by_difficulty"]) == {"1"}
    assert tasks[EXPLORE]["multi_turn"] and {"mean_return", "success_rate", "mean_turns"} <= set(tasks[EXPLORE])
    settings = json.loads((out / "settings.json").read_text())
    assert settings["system_prompt"] is None and settings["max_new_tokens"] == 5
    for line in (out / "completions.jsonl").read_text().splitlines():  # the config's prefix opens each answer
        assert json.loads(line)["completion"].startswith("<think>\n")
    config.write_text("mix:\n  - {id: thinkgym/Nope-v0}\n")
    assert main(["eval", "--mix", str(config), "--n", "2"]) == 2
    assert "unknown env id 'thinkgym/Nope-v0'" in capsys.readouterr().err


def test_eval_command_rejects_bad_arguments(capsys):
    assert main(["eval", "--envs", "thinkgym/Arithmetc-v0", "--n", "2"]) == 2
    assert "did you mean 'thinkgym/Arithmetic-v0'" in capsys.readouterr().err
    assert main(["eval", "--envs", ARITH, "--difficulty", "hard"]) == 2
    assert "--difficulty" in capsys.readouterr().err
    assert main(["eval", "--envs", ARITH, "--difficulty", "9"]) == 2
    assert "difficulty must be in 1..3" in capsys.readouterr().err
    assert main(["eval", "--envs", ARITH, "--device", "gpu"]) == 2
    assert "is not a device" in capsys.readouterr().err
    assert main(["eval", "--envs", ARITH, "--n", "0"]) == 2
    assert "--n must be >= 1" in capsys.readouterr().err


def _results(model, accuracies, n=50):
    tasks = {env_id: {"accuracy": acc, "n": n, "ci95": list(wilson_interval(acc * n, n)), "pass@k": {"1": acc}, "maj@k": {},
                      "mean_reward": acc, "format_rate": 1.0, "mean_completion_tokens": 20.0, "multi_turn": False,
                      "by_difficulty": {"1": {"accuracy": acc, "n": n, "ci95": list(wilson_interval(acc * n, n))}}}
             for env_id, acc in accuracies.items()}
    return {"model": model, "tasks": tasks, "mean_accuracy": sum(accuracies.values()) / len(accuracies)}


def test_compare_writes_table_with_deltas_and_chart(tmp_path, capsys):
    for name, accs in (("a", {ARITH: 0.1, PATH: 0.4}), ("b", {ARITH: 0.5, PATH: 0.4})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(_results(name, accs)))
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp")]) == 0
    table = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| Arithmetic | 50 | 10.0 |" in table and "| +40.0 |" in table and "]* |" in table  # no outcomes: unpaired
    assert "| ShortestPath | 50 | 40.0 |" in table and "| +0.0 |" in table
    assert "| **mean** | | 25.0 | | 45.0 | | +20.0 | |" in table
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "compare.png" in capsys.readouterr().out


def test_compare_reports_a_missing_results_file(tmp_path, capsys):
    assert main(["compare", str(tmp_path), str(tmp_path)]) == 2
    assert "no results.json" in capsys.readouterr().err


def test_plot_draws_curves_from_a_run_log(tmp_path, capsys):
    steps = [{"step": s, "reward": {ARITH: 0.1 * s, PATH: 0.05 * s}, "accuracy": {ARITH: 0.1 * s}, "kl": 0.01 * s,
              "completion_length": 40 - s, "curriculum": {ARITH: 1 + s // 3}, "lr": 1e-6, "finished": True} for s in range(6)]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps) + '{"step": 6, "rew')
    assert main(["plot", str(tmp_path)]) == 0
    names = {p.name for p in (tmp_path / "plots").iterdir()}
    assert names == {"reward.png", "accuracy.png", "divergence.png", "length.png", "curriculum.png", "other.png"}
    assert all((tmp_path / "plots" / n).read_bytes()[:4] == b"\x89PNG" for n in names)
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert "no training log" in capsys.readouterr().err


@pytest.mark.slow
def test_run_evaluates_cold_starts_trains_and_reports_every_stage(tmp_path, capsys):
    """The main job (``make train``) end to end on the smoke config's tiny model: base
    evaluation, cold-start SFT, evaluation, GRPO, evaluation, the staged report with chance."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "old.txt").write_text("a previous run")  # a used output_dir: the job must not write into it
    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    args = ["run", "--config", str(smoke), "--eval-n", "2", "--no-progress", f"output_dir={run_dir}", "steps=1",
            "cold_start.steps=1", "cold_start.batch_size=2"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    (fresh,) = [p for p in tmp_path.iterdir() if p.name.startswith("run-")]
    for name in ("eval/before/results.json", "eval/cold_start/results.json", "eval/after/results.json", "cold_start/log.jsonl",
                 "report.md", "report.json", "compare.png", "plots/reward.png", "log.jsonl"):
        assert (fresh / name).is_file(), name
    assert "[2/4] cold start" in printed and "| Arithmetic | 2 |" in printed and "| ShortestPath | 2 |" in printed
    assert "after − cold_start" in printed and "after − before" in printed and "chance" in printed
    assert f"report: {fresh / 'report.md'}" in printed
    report = json.loads((fresh / "report.json").read_text())
    assert report["stages"] == ["before", "cold_start", "after"] and report["models"]["cold_start"] == str(fresh / "cold_start")
    assert set(report["chance"]) == {ARITH, PATH} and report["seconds"]["total"] > 0
    train_config = (fresh / "config.yaml").read_text()
    assert f"model: {fresh / 'cold_start'}" in train_config  # GRPO starts from the cold-started policy
    before = json.loads((fresh / "eval/before/completions.jsonl").read_text().splitlines()[0])
    after = json.loads((fresh / "eval/after/completions.jsonl").read_text().splitlines()[0])
    assert before["seed"] == after["seed"]  # the same held-out problems at every stage


@pytest.mark.slow
def test_run_without_a_cold_start_reports_before_and_after(tmp_path, capsys):
    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    assert main(["run", "--config", str(smoke), "--eval-n", "2", "--no-progress", f"output_dir={tmp_path / 'run'}", "steps=1"]) == 0
    printed = capsys.readouterr().out
    assert "[1/3]" in printed and "after − before" in printed and not (tmp_path / "run" / "cold_start").exists()
