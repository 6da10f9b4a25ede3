"""Stop strings (``stop_strings: ["</answer>"]``): a completion ends as soon as its decoded text
holds one, in local generation (every batching path), in training rollouts (the next turn's
tokens close the assistant turn properly) and in served-model evaluation (cut on our side),
and the option reaches every evaluation from the config and the CLI."""

from __future__ import annotations

import argparse
import json
import types

import pytest
import torch

from test_continuous_batching import SYSTEM, _load
from thinkgym.agents import generation
from thinkgym.agents.cmd_eval import add_generation_args, generation_options
from thinkgym.agents.config import TrainConfig, config_from_dict
from thinkgym.agents.episodes import Reply, first_stop
from thinkgym.agents.evaluate import GenerationOptions, run_api_eval, tasks_for
from thinkgym.agents.rollout import TokenPolicy
from thinkgym.errors import UserError

PROMPTS = [SYSTEM + tail for tail in ([5, 6, 7], [9], list(range(200, 222)), [11, 12, 13], [8] * 9, [40, 41], [300, 301])]
MAX_NEW = 24


def _expected(tokenizer, ids, stops):
    """Where a completion with tokens ``ids`` must end for ``stops``, found by decoding ever longer
    prefixes (not by the code under test): (number of tokens, text) or None."""
    for n in range(1, len(ids) + 1):
        text = tokenizer.decode(ids[:n], skip_special_tokens=True)
        ends = [text.index(s) + len(s) for s in stops if s in text]
        if ends:
            return n, text[: min(ends)]
    return None


@pytest.fixture(scope="module")
def setup(tiny_model_dir):
    """The tiny model, its free greedy completions (no stop string) and stop strings taken from
    the middle of three of them, so that rows stop at different steps and others run out."""
    model, tokenizer = _load(tiny_model_dir)
    free = generation.generate_ids(model, tokenizer, PROMPTS, max_new_tokens=MAX_NEW, greedy=True)
    assert all(c.truncated for c in free)  # the random model never stops by itself here
    stops = []
    for c, at in zip(free, (4, 9, 14)):
        head = tokenizer.decode(c.completion_ids[:at], skip_special_tokens=True)
        stops.append(head[-3:])
    return model, tokenizer, free, stops


@pytest.mark.parametrize("fast", [True, False], ids=["fast-step", "module-step"])
@pytest.mark.parametrize("rows", [None, 2], ids=["one-batch", "max-rows-2"])
def test_a_row_ends_where_its_text_first_holds_a_stop_string(setup, monkeypatch, fast, rows):
    model, tokenizer, free, stops = setup
    monkeypatch.setattr(generation, "FAST_DECODE", fast)
    got = generation.generate_ids(model, tokenizer, PROMPTS, max_new_tokens=MAX_NEW, greedy=True, stop_strings=stops, max_rows=rows)
    stopped = 0
    for whole, c in zip(free, got):
        expected = _expected(tokenizer, whole.completion_ids, stops)
        if expected is None:
            assert c.completion_ids == whole.completion_ids and c.truncated and c.stop_string is None
            continue
        n, text = expected
        stopped += 1
        assert c.completion_ids == whole.completion_ids[:n]  # the same tokens, up to the one that completes the string
        assert c.text == text and not c.truncated
        assert c.stop_string in stops and text.endswith(c.stop_string)
    assert stopped >= 3 and len({c.num_tokens for c in got}) >= 3


def test_no_stop_strings_change_nothing(setup):
    model, tokenizer, free, _ = setup
    again = generation.generate_ids(model, tokenizer, PROMPTS, max_new_tokens=MAX_NEW, greedy=True, stop_strings=())
    assert [c.completion_ids for c in again] == [c.completion_ids for c in free]
    assert all(c.stop_string is None for c in again)


def test_sampled_rows_stop_too(setup):
    """Sampling (not greedy): every completion that holds a stop string ends right after it."""
    model, tokenizer, _, stops = setup
    frequent = [tokenizer.decode([t]) for t in range(300, 340)]  # short texts a sampled row will produce often
    got = generation.generate_ids(model, tokenizer, PROMPTS * 3, max_new_tokens=MAX_NEW, seed=3, stop_strings=stops + frequent)
    for c in got:
        full = tokenizer.decode(c.completion_ids, skip_special_tokens=True)
        before = tokenizer.decode(c.completion_ids[:-1], skip_special_tokens=True)
        if c.stop_string is not None:
            assert full.startswith(c.text) and c.text.endswith(c.stop_string)
            assert first_stop(before, stops + frequent) is None  # it did not run past an earlier occurrence
        else:
            assert first_stop(full, stops + frequent) is None


def test_first_stop_takes_the_earliest_end():
    assert first_stop("ab</answer>cd</answer>", ["</answer>"]) == (11, "</answer>")
    assert first_stop("xx abc yy", ["abc", "b"]) == (5, "b")
    assert first_stop("nothing", ["</answer>"]) is None


@pytest.mark.parametrize("bad", [[""], "</answer>", [None]])
def test_bad_stop_strings_are_one_clear_error(setup, bad):
    model, tokenizer, _, _ = setup
    with pytest.raises(UserError, match="stop string"):
        generation.generate_ids(model, tokenizer, PROMPTS[:1], max_new_tokens=2, stop_strings=bad)


def test_config_validates_stop_strings():
    assert config_from_dict({"stop_strings": ["</answer>"]}).stop_strings == ["</answer>"]
    with pytest.raises(UserError, match="stop_strings"):
        config_from_dict({"stop_strings": [""]})


def test_cli_stop_flag():
    parser = argparse.ArgumentParser()
    add_generation_args(parser)
    assert generation_options(parser.parse_args(["--stop", "</answer>", "--stop", "END"])).stop_strings == ("</answer>", "END")
    assert generation_options(parser.parse_args([])).stop_strings == ()
    with pytest.raises(UserError, match="--stop"):
        generation_options(parser.parse_args(["--stop", ""]))


def test_rollout_turn_ended_by_a_stop_string_is_closed_by_the_template(setup):
    """A turn that a stop string ended has no stop token among its sampled ids, so the tokens
    spliced in before the env's next message must start with the chat template's own closing
    (``<|im_end|>``); after the model's stop token they must not repeat it."""
    model, tokenizer, free, stops = setup
    config = TrainConfig(max_new_tokens=MAX_NEW, stop_strings=stops)
    policy = TokenPolicy(model, tokenizer, config, None)
    messages = [{"role": "user", "content": "hi"}]
    eos = tokenizer(tokenizer.eos_token, add_special_tokens=False)["input_ids"]

    def spliced(reply):
        episode = types.SimpleNamespace(messages=messages, token_ids=[], mask=[])
        policy.observe(episode, reply, "next")
        return episode.token_ids

    assert spliced(Reply("<answer>1</answer>", 5, stop_string="</answer>"))[: len(eos)] == eos
    assert spliced(Reply("<answer>1</answer>", 5))[: len(eos)] != eos
    episodes = [types.SimpleNamespace(token_ids=list(p), mask=[0] * len(p)) for p in PROMPTS]
    replies = policy.reply(episodes, greedy=True, seed=0)
    ended = [r for r in replies if r.stop_string is not None]
    assert len(ended) >= 3 and all(r.text.endswith(r.stop_string) and not r.truncated for r in ended)
    assert all(e.mask.count(1) == r.num_tokens for e, r in zip(episodes, replies))


def test_served_answers_are_cut_at_the_stop_string(tmp_path):
    """The server's own ``stop`` would drop the stop string from the text; the cut is made on our
    side, so the answer block stays whole and what follows it is not read."""
    from test_api_eval import ARITH, FakeClient, _answers, _api, _user_prompt

    answers = _answers(ARITH, 4)

    def answer(request):  # right, then a wrong second block that a reader of the last block would take
        right = answers.get(_user_prompt(request), "0")
        return f"<think>ok</think><answer>{right}</answer>\n<answer>{int(right) + 1}</answer>"

    options = GenerationOptions(max_new_tokens=8, batch_size=4, progress=False, stop_strings=("</answer>",))
    paths = run_api_eval(_api(), tasks_for([ARITH], 1), n=4, samples=1, seed=0, out=tmp_path / "cut", options=options, client=FakeClient(answer))
    results = json.loads(paths["results"].read_text())["tasks"][ARITH]
    assert results["accuracy"] == 1.0 and results["format_rate"] == 1.0
    records = [json.loads(line) for line in paths["completions"].read_text().splitlines()]
    assert all(r["completion"].endswith("</answer>") and r["completion"].count("<answer>") == 1 for r in records)
    assert json.loads(paths["settings"].read_text())["stop_strings"] == ["</answer>"]
    plain = GenerationOptions(max_new_tokens=8, batch_size=4, progress=False)
    paths = run_api_eval(_api(), tasks_for([ARITH], 1), n=4, samples=1, seed=0, out=tmp_path / "plain", options=plain, client=FakeClient(answer))
    assert json.loads(paths["results"].read_text())["tasks"][ARITH]["format_rate"] == 0.0  # two answer blocks: not the R1 format
