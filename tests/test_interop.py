"""Interop: Hugging Face datasets, TRL reward functions, thinkgym.score, the verl / OpenRLHF
examples, ``thinkgym export`` and one GRPOTrainer step of ``examples/trl_grpo.py``."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import pickle
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym
import pyarrow.parquet as pq
import pytest

import thinkgym
from thinkgym.agents.cli import main as cli
from thinkgym.prompts import R1_SYSTEM_PROMPT
from thinkgym.splits import problem_stream, split_of
from thinkgym.datasets import COLUMNS, allocate, build, normalize_mix, parse_mix
from thinkgym.envs import registry
from thinkgym.integrations.trl import CorrectnessReward, reward_funcs
from thinkgym.scoring import MultiTurnNotSupported

ARITH, PATH = "thinkgym/Arithmetic-v0", "thinkgym/ShortestPath-v0"
MIX = {ARITH: 2, PATH: 1}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def completions_for(answer: str) -> list[str]:
    """Right (in and out of R1 format), wrong, unreadable and missing answers."""
    return [
        f"<think>easy</think><answer>{answer}</answer>",
        f"The answer is <answer>{answer}</answer>",
        f"<think>hm</think><answer>{answer} 7</answer>",
        "<think>hm</think><answer>-31337</answer>",
        "<think>no idea</think>",
        "<answer>]]]{{{</answer>",
    ]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return build(MIX, 6, "train", seed=11, difficulty={ARITH: 2, PATH: 1}).to_list()


# -- datasets -------------------------------------------------------------------------------
def test_dataset_rows_name_their_problems_exactly(rows):
    assert len(rows) == 6 and all(set(r) == set(COLUMNS) for r in rows)
    assert [r["env_id"] for r in rows].count(ARITH) == 4
    for row in rows:
        env = gym.make(row["env_id"], difficulty=row["difficulty"])
        prompt, info = env.reset(seed=row["seed"])
        assert row["prompt"] == [{"role": "system", "content": R1_SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
        assert row["answer"] == info["answer"]
        assert row["difficulty"] == (2 if row["env_id"] == ARITH else 1)


def test_dataset_is_deterministic_and_seeded(rows):
    assert build(MIX, 6, "train", seed=11, difficulty={ARITH: 2}).to_list() == rows
    assert build(MIX, 6, "train", seed=12, difficulty={ARITH: 2}).to_list() != rows


def test_eval_split_is_evaluations_held_out_stream_and_disjoint_from_train():
    evals = build(ARITH, 40, "eval", seed=3)
    train = build(ARITH, 2000, "train", seed=3)
    eval_prompts = {m[1]["content"] for m in evals["prompt"]}
    train_prompts = {m[1]["content"] for m in train["prompt"]}
    assert len(eval_prompts) > 30 and not eval_prompts & train_prompts
    assert all(split_of(p) == "eval" for p in eval_prompts)
    env = gym.make(ARITH, disable_env_checker=True)
    stream = {ref.seed for ref in itertools.islice(problem_stream(env, ARITH, "eval", 3, 1), 40)}
    assert set(evals["seed"]) == stream  # the problems evaluation scores with the same seed


def test_training_config_mix_sets_weights_and_difficulties(tmp_path):
    from thinkgym.agents.config import load_config

    config = tmp_path / "train.yaml"
    config.write_text(f"mix:\n  - {{id: {ARITH}, weight: 3.0, difficulty: 2}}\n  - {{id: {PATH}, weight: 1.0}}\n")
    assert parse_mix(config) == ({ARITH: 0.75, PATH: 0.25}, {ARITH: 2, PATH: 1})
    assert parse_mix(load_config(config).mix) == ({ARITH: 0.75, PATH: 0.25}, {ARITH: 2, PATH: 1})
    rows = build(config, 8).to_list()
    assert sorted((r["env_id"], r["difficulty"]) for r in rows) == [(ARITH, 2)] * 6 + [(PATH, 1)] * 2
    assert {r["difficulty"] for r in build(config, 8, difficulty=3).to_list()} == {3}
    with pytest.raises(ValueError, match="env options"):
        build([{"id": ARITH, "kwargs": {"max_value": 9}}], 2)
    with pytest.raises(ValueError, match="needs an 'id'"):
        build([{"env": ARITH}], 2)


def test_mix_forms_and_errors(tmp_path):
    assert normalize_mix(ARITH) == {ARITH: 1.0}
    assert normalize_mix([ARITH, PATH]) == {ARITH: 0.5, PATH: 0.5}
    config = tmp_path / "mix.yaml"
    config.write_text(f"mix:\n  {ARITH}: 3\n  {PATH}: 1\n")
    assert normalize_mix(config) == normalize_mix(str(config)) == {ARITH: 0.75, PATH: 0.25}
    assert allocate({ARITH: 0.75, PATH: 0.25}, 7) == {ARITH: 5, PATH: 2}
    with pytest.raises(ValueError, match="did you mean 'thinkgym/Arithmetic-v0'"):
        build("thinkgym/Arithmetc-v0", 2)
    with pytest.raises(ValueError, match="weight of thinkgym/ShortestPath-v0"):
        normalize_mix({ARITH: 1, PATH: -1})
    with pytest.raises(ValueError, match="appears twice"):
        normalize_mix([ARITH, ARITH])
    with pytest.raises(ValueError, match="weight of thinkgym/Arithmetic-v0 must be a finite number > 0"):
        normalize_mix({ARITH: 0})
    with pytest.raises(ValueError, match="n must be"):
        build(ARITH, 0)
    with pytest.raises(ValueError, match="split"):
        build(ARITH, 2, "test")
    (tmp_path / "bad.yaml").write_text("lr: 0.1\n")
    with pytest.raises(ValueError, match="no 'mix:'"):
        normalize_mix(tmp_path / "bad.yaml")


# -- TRL reward functions -------------------------------------------------------------------
def test_reward_funcs_score_as_env_step_plain_and_conversational(rows):
    correctness, fmt = reward_funcs(MIX)
    assert (correctness.__name__, fmt.__name__) == ("thinkgym_correctness", "thinkgym_format")
    expected, expected_format, columns = [], [], {"env_id": [], "seed": [], "difficulty": []}
    completions = []
    for row in rows:
        env = gym.make(row["env_id"], difficulty=row["difficulty"])
        for completion in completions_for(row["answer"]):
            env.reset(seed=row["seed"])
            _, reward, _, _, info = env.step(completion)
            expected.append(reward)
            expected_format.append(info["reward_components"]["format"])
            completions.append(completion)
            for key in columns:
                columns[key].append(row[key])
    assert {1.0, 0.0} <= set(expected)  # the cases differ, so equality below means something
    prompts = [None] * len(completions)
    assert correctness(prompts, completions, **columns, trainer_state=None) == expected
    chats = [[{"role": "assistant", "content": c}] for c in completions]
    assert correctness(prompts=prompts, completions=chats, completion_ids=None, **columns) == expected
    parts = [[{"role": "assistant", "content": [{"type": "text", "text": c}]}] for c in completions]
    assert correctness(prompts, parts, **columns) == expected
    assert fmt(prompts, completions, **columns) == fmt(prompts, chats) == expected_format
    assert 1.0 in expected_format and 0.0 in expected_format


def test_every_single_turn_env_scores_its_reference_answer_from_the_row():
    envs = [e for e in thinkgym.list_envs() if not registry.env_info(e).multi_turn and not registry.env_info(e).requires]
    rows = build(envs, 2 * len(envs), "eval", seed=5).to_list()
    assert {r["env_id"] for r in rows} == set(envs)
    columns = {k: [r[k] for r in rows] for k in ("env_id", "seed", "difficulty")}
    scores = CorrectnessReward(envs)(None, [f"<think>x</think><answer>{r['answer']}</answer>" for r in rows], **columns)
    assert [(r["env_id"], s) for r, s in zip(rows, scores) if s != 1.0] == []


def test_per_env_functions_split_the_rows(rows):
    funcs = reward_funcs(MIX, per_env=True, with_format=False)
    assert [f.__name__ for f in funcs] == [f"thinkgym_correctness[{ARITH}]", f"thinkgym_correctness[{PATH}]"]
    completions = [f"<answer>{r['answer']}</answer>" for r in rows]
    columns = {k: [r[k] for r in rows] for k in ("env_id", "seed", "difficulty")}
    arith, path = (f(None, completions, **columns) for f in funcs)
    for row, a, p in zip(rows, arith, path):
        assert (a, p) == ((1.0, None) if row["env_id"] == ARITH else (None, 1.0))
    with pytest.raises(ValueError, match="needs the env ids"):
        reward_funcs(per_env=True)


def test_reward_funcs_need_the_problem_columns():
    with pytest.raises(ValueError, match="'env_id' and 'seed'"):
        CorrectnessReward()(["p"], ["<answer>1</answer>"])
    with pytest.raises(ValueError, match="2 completions but 1 env_id"):
        CorrectnessReward()([None, None], ["a", "b"], env_id=[ARITH], seed=[1], difficulty=[1])
    with pytest.raises(TypeError, match="completion must be"):
        CorrectnessReward()([None], [3], env_id=[ARITH], seed=[1], difficulty=[1])


def test_multi_turn_envs_are_refused_or_scored_none(request):
    game = "test/Game-v0"
    from thinkgym.envs.logic.mastermind import MastermindEnv

    registry.register_env(game, MastermindEnv)  # a multi-turn env under an id of its own
    request.addfinalizer(lambda: registry.unregister(game))
    with pytest.raises(MultiTurnNotSupported, match="multi-turn"):
        reward_funcs([ARITH, game])
    with pytest.raises(MultiTurnNotSupported, match="multi-turn"):
        thinkgym.score(game, 0, "<answer>e4</answer>")
    func = CorrectnessReward()
    with pytest.warns(RuntimeWarning, match="test/Game-v0 is multi-turn"):
        out = func(None, ["<answer>e4</answer>"] * 2, env_id=[game, game], seed=[0, 1], difficulty=[1, 1])
    assert out == [None, None]


def test_reward_funcs_pickle_and_run_in_threads(rows):
    funcs = reward_funcs(MIX, per_env=True)
    clones = pickle.loads(pickle.dumps(funcs))
    assert [f.__name__ for f in clones] == [f.__name__ for f in funcs]
    completions = [c for r in rows for c in completions_for(r["answer"])]
    columns = {k: [r[k] for r in rows for _ in range(6)] for k in ("env_id", "seed", "difficulty")}
    serial = [f(None, completions, **columns) for f in funcs]
    assert [f(None, completions, **columns) for f in clones] == serial
    with ThreadPoolExecutor(4) as pool:  # threads each use their own env instances
        jobs = [pool.submit(f, None, completions, **columns) for f in funcs * 8]
        assert [j.result() for j in jobs] == serial * 8


# -- thinkgym.score and the other trainers' examples -----------------------------------------
def test_score_matches_step_and_bounds_hostile_text(rows):
    row = next(r for r in rows if r["env_id"] == PATH)
    right = f"<think>x</think><answer>{row['answer']}</answer>"
    assert thinkgym.score(PATH, row["seed"], right, row["difficulty"]) == 1.0
    assert thinkgym.score(PATH, row["seed"], [{"role": "assistant", "content": right}], row["difficulty"]) == 1.0
    assert thinkgym.score(PATH, row["seed"], "<answer>A</answer>", row["difficulty"]) == 0.0
    start = time.perf_counter()
    assert thinkgym.score(ARITH, 1, "<answer>" + "9" * 3_000_000 + "</answer>") == 0.0
    assert thinkgym.score(ARITH, 1, "<answer>" + "(" * 4000 + "1" + ")" * 4000 + "</answer>") == 0.0
    assert time.perf_counter() - start < 2.0
    with pytest.raises(thinkgym.UnknownEnvError, match="did you mean"):
        thinkgym.score("thinkgym/ShortestPth-v0", 1, right)


def test_verl_compute_score_and_rows(rows):
    verl = load_example("verl_reward")
    for row in rows:
        data = verl.to_verl(row)
        assert data["data_source"] == row["env_id"] and data["reward_model"]["ground_truth"] == row["answer"]
        answer = f"<think>x</think><answer>{row['answer']}</answer>"
        assert verl.compute_score(data["data_source"], answer, row["answer"], data["extra_info"]) == 1.0
        assert verl.compute_score(data["data_source"], "<answer>zz</answer>", row["answer"], data["extra_info"]) == 0.0
    with pytest.raises(ValueError, match="extra_info"):
        verl.compute_score(ARITH, "<answer>1</answer>", "1", None)


def test_openrlhf_reward_func(rows):
    openrlhf = load_example("openrlhf_reward")
    prompts = [f"<|im_start|>system\n{R1_SYSTEM_PROMPT}<|im_end|>\n" for _ in rows]
    answers = [f"<think>x</think><answer>{r['answer']}</answer>" for r in rows[:3]] + ["<think>?</think>"] * 3
    labels = [openrlhf.label(r) for r in rows]
    out = openrlhf.reward_func([p + a for p, a in zip(prompts, answers)], prompts, labels)
    assert out["rewards"].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


# -- CLI ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_export_writes_the_dataset(tmp_path, capsys, suffix):
    out = tmp_path / f"problems{suffix}"
    assert cli(["export", f"{ARITH}:2", PATH, "--n", "6", "--split", "eval", "--seed", "4", "--out", str(out)]) == 0
    assert "wrote 6 eval problems" in capsys.readouterr().out
    if suffix == ".jsonl":
        written = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        written = pq.read_table(out).to_pylist()
    assert written == build(MIX, 6, "eval", seed=4).to_list()


def test_export_errors(tmp_path, capsys):
    assert cli(["export", ARITH, "--n", "2", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--out must end in .jsonl or .parquet" in capsys.readouterr().err
    assert cli(["export", f"{ARITH}:lots", "--n", "2", "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "bad weight" in capsys.readouterr().err


# -- TRL ---------------------------------------------------------------------------------------
def test_trl_grpo_example_runs_one_step(tiny_model_dir, tmp_path):
    pytest.importorskip("trl")
    example = load_example("trl_grpo")
    trainer = example.main(
        ["--model", str(tiny_model_dir), "--problems", "2", "--steps", "1", "--prompts-per-step", "2",
         "--generations", "2", "--max-completion-length", "8", "--output-dir", str(tmp_path), "--cpu"]
    )  # fmt: skip
    assert trainer.state.global_step == 1
    logged = trainer.state.log_history[0]
    for name in (f"thinkgym_correctness[{ARITH}]", f"thinkgym_correctness[{PATH}]", "thinkgym_format"):
        # a finite mean: the function scored its rows (None everywhere would log NaN)
        assert math.isfinite(logged[f"rewards/{name}/mean"]), name
