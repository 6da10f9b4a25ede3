"""SFT, rejection sampling and pruning: prompt tokens are masked, SFT lowers the loss on its
training set and writes a checkpoint the other commands load, rejection sampling keeps only
verified completions, pruning drops exactly what it reports."""

from __future__ import annotations

import json

import pytest

from thinkgym.agents.cli import main
from thinkgym.agents.config import ConfigError, EnvSpec
from thinkgym.agents.policy import load_policy
from thinkgym.agents.pruning import cap_share, drop_duplicates, prune
from thinkgym.agents.rejection import correct_examples, measure_solve_rates, sample_and_verify, summary
from thinkgym.agents.sft import IGNORE, collate, encode_example, mean_loss
from thinkgym.agents.sft_config import load_sft_config
from thinkgym.agents.sft_data import read_jsonl, solver_examples, train_problems, write_jsonl
from thinkgym.splits import split_of

MIX = [EnvSpec("thinkgym/Arithmetic-v0", 2.0), EnvSpec("thinkgym/BfsDistance-v0")]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return load_policy(str(tiny_model_dir))[1]


# -- data and masking -----------------------------------------------------------------------------


def test_solver_examples_are_train_split_and_deterministic():
    examples = solver_examples(MIX, 6, seed=3)
    assert len(examples) == 6
    assert all(split_of(e["prompt"]) == "train" for e in examples)
    assert all(e["completion"].startswith("<think>\n") and e["completion"].endswith(f"<answer>{e['answer']}</answer>") for e in examples)
    assert examples == solver_examples(MIX, 6, seed=3)
    assert examples != solver_examples(MIX, 6, seed=3, stream=1)


def test_mix_without_explain_is_rejected_before_model_load():
    with pytest.raises(ConfigError, match="no solver traces for thinkgym/Mastermind-v0"):
        load_sft_config(None, ["mix=[thinkgym/Mastermind-v0]"])
    with pytest.raises(ConfigError, match="unknown key 'stpes'.*did you mean 'steps'"):
        load_sft_config(None, ["stpes=3"])


def test_prompt_tokens_are_masked(tokenizer):
    example = {"prompt": "What is 2 + 3?", "completion": "<think>\n2 + 3 = 5\n</think>\n<answer>5</answer>"}
    ids, labels = encode_example(tokenizer, example, "Be brief.", response_prefix="<think>\n")
    completion = tokenizer("2 + 3 = 5\n</think>\n<answer>5</answer>", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    n_prompt = len(ids) - len(completion)
    assert labels[:n_prompt] == [IGNORE] * n_prompt  # system, user, generation prompt and "<think>\n"
    assert labels[n_prompt:] == completion == ids[n_prompt:]
    assert "What is 2 + 3?" in tokenizer.decode(ids[:n_prompt]) and tokenizer.decode(ids[:n_prompt]).endswith("<think>\n")
    # chat-message prompts are used as given (no system prompt added)
    ids2, labels2 = encode_example(tokenizer, {**example, "prompt": [{"role": "user", "content": "What is 2 + 3?"}]}, "Be brief.")
    assert "Be brief." not in tokenizer.decode(ids2)
    batch = collate([(ids, labels), (ids2, labels2)], pad_id=0)
    assert batch["labels"].shape == batch["ids"].shape
    assert int((batch["labels"] != IGNORE).sum()) == len(completion) + sum(t != IGNORE for t in labels2)
    assert (batch["labels"][batch["attention"] == 0] == IGNORE).all()


def test_jsonl_reader_names_the_bad_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "p", "completion": "c"}\n{"prompt": 3, "completion": "c"}\n')
    with pytest.raises(ValueError, match=r"d.jsonl:2: 'prompt' must be"):
        read_jsonl(path)


# -- training -------------------------------------------------------------------------------------


def test_sft_lowers_training_loss_and_checkpoint_loads(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    write_jsonl(data, solver_examples(MIX, 4, seed=0))
    examples = read_jsonl(data)
    before_model, tok = load_policy(str(tiny_model_dir))
    before = mean_loss(before_model, tok, examples, system_prompt=None)
    run = tmp_path / "sft"
    args = ["sft", f"model={tiny_model_dir}", f"data={data}", f"output_dir={run}", "steps=8", "batch_size=4",
            "learning_rate=3.0e-3", "system_prompt=null", "progress=false", "bf16=false", "checkpoint_every=4"]
    assert main(args) == 0
    after_model, _ = load_policy(str(run))  # the run directory resolves to its latest checkpoint
    after = mean_loss(after_model, tok, examples, system_prompt=None)
    assert after < before - 0.5, (before, after)
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert all(r["tokens"] > 0 for r in rows)
    assert (run / "checkpoints" / "step-000008" / "trainer_state.pt").is_file()
    # resuming a finished run trains nothing more and keeps the weights
    assert main(["sft", "--resume", str(run), "steps=8"]) == 0
    assert len((run / "log.jsonl").read_text().splitlines()) == 8


# -- rejection sampling ---------------------------------------------------------------------------


def scripted_sampler(answers: dict[str, str]):
    """Answers correctly on the 1st and 3rd call of each prompt, wrongly otherwise."""
    calls: dict[str, int] = {}

    def sample(conversations, *, greedy, seed):
        out = []
        for messages in conversations:
            prompt = messages[-1]["content"]
            calls[prompt] = calls.get(prompt, 0) + 1
            n = calls[prompt]
            text = f"<think>{'ok ' * n}</think><answer>{answers[prompt]}</answer>" if n in (1, 3) else "<think>hm</think><answer>-12345</answer>"
            out.append((text, 10 + n))
        return out

    return sample


def test_rejection_sampling_keeps_only_verified_completions():
    problems = train_problems(MIX, 5, seed=0)
    sampler = scripted_sampler({p.prompt: p.answer for p in problems})
    scored = sample_and_verify(sampler, problems, k=4, system_prompt=None, batch_size=3)
    assert [s.correct for s in scored] == [[True, False, True, False]] * 5
    everything = correct_examples(scored)
    assert len(everything) == 10 and all(e["solve_rate"] == 0.5 for e in everything)
    shortest = correct_examples(scored, shortest=True)
    assert len(shortest) == 5 and all(e["tokens"] == 11 for e in shortest)
    assert summary(scored, len(shortest))["correct_samples"] == 10
    # every kept completion really earns full reward from a fresh env
    import thinkgym

    for e in everything:
        env = thinkgym.make(e["env"], difficulty=e["difficulty"])
        env.reset(seed=e["seed"])
        assert env.step(e["completion"])[1] == 1.0


def test_measured_solve_rates_feed_pruning():
    examples = solver_examples(MIX, 4, seed=5)
    answers = {e["prompt"]: e["answer"] for e in examples}
    always = lambda convs, greedy, seed: [(f"<answer>{answers[c[-1]['content']]}</answer>", 3) for c in convs]  # noqa: E731
    rated = measure_solve_rates(always, examples, k=2, system_prompt=None)
    assert all(e["solve_rate"] == 1.0 for e in rated)
    kept, report = prune(rated, drop_solved=True)
    assert kept == [] and report.dropped == {"always_solved": 4}


# -- pruning --------------------------------------------------------------------------------------


def make_rows():
    rows = []
    for i in range(6):
        rows.append({"prompt": f"a{i}", "completion": "c", "env": "A", "difficulty": 1, "solve_rate": [0.0, 0.5, 1.0][i % 3]})
    for i in range(2):
        rows.append({"prompt": f"b{i}", "completion": "c", "env": "B", "difficulty": 2, "solve_rate": 0.5})
    rows.append({"prompt": "a0 ", "completion": "other", "env": "A", "difficulty": 1, "solve_rate": 0.5})  # duplicate prompt
    return rows


def test_pruning_drops_exactly_what_it_reports():
    rows = make_rows()
    kept, dropped = drop_duplicates(rows)
    assert dropped == [rows[-1]] and len(kept) == 8
    kept, report = prune(rows, dedup=True, drop_solved=True, drop_unsolved=True)
    assert report.dropped == {"duplicate": 1, "always_solved": 2, "never_solved": 2}
    assert [r["prompt"] for r in kept] == ["a1", "a4", "b0", "b1"]
    assert report.before == 9 and report.after == 4 and report.envs_after == {"A": 2, "B": 2}


def test_cap_share_keeps_each_group_under_its_share():
    rows = make_rows()[:8]  # 6 of env A, 2 of env B
    kept, dropped = cap_share(rows, "env", 0.6)
    assert [r["prompt"] for r in kept] == ["a0", "a1", "a2", "b0", "b1"]  # A: 3 of 5 = 0.6
    assert len(dropped) == 3
    kept, _ = cap_share(rows, "difficulty", 0.5)
    assert sorted(r["difficulty"] for r in kept) == [1, 1, 2, 2]
    with pytest.raises(ValueError, match="no env share of 0.4 is possible with 2"):
        cap_share(rows, "env", 0.4)
    with pytest.raises(ValueError, match="lack 'solve_rate'"):
        prune([{"prompt": "p", "completion": "c"}], drop_solved=True)


def test_prune_cli_writes_data_and_report(tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, make_rows())
    assert main(["prune", str(src), "--out", str(out), "--dedup", "--max-env-share", "0.6"]) == 0
    report = json.loads((tmp_path / "out.jsonl.prune.json").read_text())
    assert report["dropped"] == {"duplicate": 1, "env_share": 3}
    assert len(read_jsonl(out)) == report["after"] == 5
    assert "dropped (env_share): 3" in capsys.readouterr().out


def test_sample_correct_cli_runs_on_a_tiny_model(tiny_model_dir, tmp_path, capsys):
    mix = tmp_path / "mix.yaml"
    mix.write_text("mix:\n  - {id: thinkgym/Arithmetic-v0}\nresponse_prefix: \"<think>\\n\"\nbf16: false\n")
    out = tmp_path / "correct.jsonl"
    args = ["sample-correct", "--model", str(tiny_model_dir), "--mix", str(mix), "--k", "2", "--problems", "3", "--out", str(out), "--max-new-tokens", "4", "--no-progress"]
    assert main(args) == 0
    stats = json.loads(capsys.readouterr().out.splitlines()[0])
    assert stats["problems"] == 3 and stats["samples"] == 6
    assert len(out.read_text().splitlines()) == stats["kept_examples"] == stats["correct_samples"]  # random weights: (almost surely) none
