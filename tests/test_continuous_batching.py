"""Continuous batching (``generate_ids(..., max_rows=k)``): at most ``k`` rows decode at once,
waiting prompts take finished rows' places, and every completion is the one generated with all
prompts at once, and with each prompt alone (greedy; fp32 and bf16 autocast, through the fast
decoding step and through ``model(...)``)."""

import pytest
import torch

from thinkgym.agents import generation
from thinkgym.agents.policy import load_policy

SYSTEM = list(range(100, 130))  # an opening all prompts share (the system prompt), prefilled once


def _prompts() -> list[list[int]]:
    # Lengths 31 .. 52 in no order, so that later prompts are longer than the running batch's
    # cache (room is made on the left), duplicates (prefilled once), and one prompt without the
    # shared opening.
    tails = [[5, 6, 7], [9], list(range(200, 222)), [5, 6, 7], [11, 12, 13, 14, 15], [8] * 9, list(range(300, 316)), [40, 41], [9]]
    return [SYSTEM + tail for tail in tails] + [SYSTEM[:20] + [8] * 12]


def _load(tiny_model_dir):
    """The tiny Llama with larger random weights (sharp attention: a wrong position or a wrong
    cache column changes the greedy tokens) and an untied output layer (its greedy completions
    vary; with the tied embedding they repeat the prompt's last token)."""
    model, tokenizer = load_policy(str(tiny_model_dir))
    gen = torch.Generator().manual_seed(0)
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=False)
    with torch.no_grad():
        for layer in model.model.layers:
            for linear in (*layer.self_attn.children(), *layer.mlp.children()):
                if isinstance(linear, torch.nn.Linear):
                    linear.weight.copy_(torch.randn(linear.weight.shape, generator=gen) * 0.3)
        head.weight.copy_(torch.randn(head.weight.shape, generator=gen))
    model.lm_head = head
    return model, tokenizer


def _stopping(model, tokenizer, prompts):
    """Stop tokens that end the greedy completions at different lengths: the tokens the
    completions produce at a few different steps (found with the plain, unbounded batch; two
    steps are past the tests' budget of 10 tokens, so that those rows run out of tokens)."""
    free = generation.generate_ids(model, tokenizer, prompts, max_new_tokens=16, greedy=True)
    stops = {c.completion_ids[step] for c, step in zip(free, [1, 3, 5, 2, 7, 4, 12, 0, 6, 11])}
    return sorted(stops)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-step", "module-step"])
@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["fp32", "bf16"])
def test_bounded_rows_generate_what_unbounded_batches_do(tiny_model_dir, monkeypatch, fast, dtype):
    monkeypatch.setattr(generation, "FAST_DECODE", fast)
    model, tokenizer = _load(tiny_model_dir)
    prompts, max_new = _prompts(), 10
    stops = _stopping(model, tokenizer, prompts)
    monkeypatch.setattr(generation, "stop_token_ids", lambda *_: stops)

    def run(batch, rows=None):
        return generation.generate_ids(model, tokenizer, batch, max_new_tokens=max_new, greedy=True, autocast_dtype=dtype, max_rows=rows)

    whole = run(prompts)
    lengths = [c.num_tokens for c in whole]
    assert len(set(lengths)) >= 4 and max(lengths) == max_new  # rows end at different steps, some by the budget
    assert any(not c.truncated for c in whole) and any(c.truncated for c in whole)
    for rows in (1, 2, 3, 7):
        bounded = run(prompts, rows)
        assert [c.completion_ids for c in bounded] == [c.completion_ids for c in whole], rows
        assert [c.truncated for c in bounded] == [c.truncated for c in whole]
        assert [c.text for c in bounded] == [c.text for c in whole]
    if dtype is None:  # bf16: a batch of one may round differently from a batch of ten
        assert [run([p])[0].completion_ids for p in prompts] == [c.completion_ids for c in whole]


def test_bounded_rows_keep_at_most_k_rows_and_a_short_cache(tiny_model_dir, monkeypatch):
    """No decoding step runs more than ``max_rows`` rows, and the cache does not grow with the
    number of prompts: columns no running row attends are cut off."""
    model, tokenizer = _load(tiny_model_dir)
    prompts, max_new = _prompts() * 3, 10
    stops = _stopping(model, tokenizer, prompts[:10])
    monkeypatch.setattr(generation, "stop_token_ids", lambda *_: stops)
    seen = []
    real = generation.llama_step(model, None)

    def spy(token, position, attention, cache):
        seen.append((len(token), attention.shape[-1]))
        return real(token, position, attention, cache)

    monkeypatch.setattr(generation, "llama_step", lambda *_: spy)
    out = generation.generate_ids(model, tokenizer, prompts, max_new_tokens=max_new, greedy=True, max_rows=4)
    assert len(out) == len(prompts) and all(1 <= c.num_tokens <= max_new for c in out)
    assert max(rows for rows, _ in seen) <= 4
    longest = max(len(p) for p in prompts)
    assert max(width for _, width in seen) <= longest + max_new + 1
    assert len(seen) < sum(c.num_tokens for c in out)  # rows shared the steps


def test_bounded_rows_sample_reproducibly_and_within_the_budget(tiny_model_dir):
    model, tokenizer = _load(tiny_model_dir)
    prompts = _prompts()
    first = generation.generate_ids(model, tokenizer, prompts, max_new_tokens=9, seed=5, temperature=2.0, max_rows=3)
    again = generation.generate_ids(model, tokenizer, prompts, max_new_tokens=9, seed=5, temperature=2.0, max_rows=3)
    assert [c.completion_ids for c in first] == [c.completion_ids for c in again]
    assert all(c.num_tokens == 9 or not c.truncated for c in first)
    assert [c.prompt_ids for c in first] == prompts


def test_bounded_rows_refuse_a_bad_bound(tiny_model_dir):
    from thinkgym.errors import UserError

    model, tokenizer = load_policy(str(tiny_model_dir))
    with pytest.raises(UserError, match="max_rows"):
        generation.generate_ids(model, tokenizer, [[1, 2]], max_new_tokens=2, max_rows=0)


def test_evaluation_with_bounded_rows_gives_the_same_report(tiny_model_dir):
    """``evaluate`` hands a sampler with ``max_rows`` every single-turn conversation at once
    (greedy and sampled apart) and counts each completion as it ends; the records are those of
    batches of the same size without refills."""
    from thinkgym.agents.evaluate import EvalTask, evaluate, policy_sampler

    model, tokenizer = load_policy(str(tiny_model_dir))
    tasks = [EvalTask("thinkgym/Arithmetic-v0", (1,)), EvalTask("thinkgym/Syllogism-v0", (1,))]
    reports, calls = [], []
    for rows in (None, 3):
        sampler = policy_sampler(model, tokenizer, max_new_tokens=6, response_prefix="<think>\n", max_rows=rows)
        real = sampler.__call__

        def counting(conversations, *, greedy, seed, real=real, sampler=sampler):
            calls.append((sampler.max_rows, len(conversations), sampler.on_finish is not None))
            return real(conversations, greedy=greedy, seed=seed)

        sampler.__class__ = type("Counting", (type(sampler),), {"__call__": lambda self, c, **kw: counting(c, **kw)})
        reports.append(evaluate(sampler, tasks, model_name="tiny", n=4, samples=2, seed=0, batch_size=3, progress=False))
        assert sampler.on_finish is None
    plain, bounded = reports
    greedy = [r for r in plain.records if r["kind"] == "greedy"]
    assert [r for r in bounded.records if r["kind"] == "greedy"] == greedy and len(greedy) == 8
    assert bounded.results["tasks"].keys() == plain.results["tasks"].keys()
    unbounded = [n for rows, n, _ in calls if rows is None]
    assert max(unbounded) == 3 and sum(unbounded) == 24  # batches of 3
    assert sorted(n for rows, n, hooked in calls if rows == 3 and hooked) == [8, 16]  # greedy, sampled
