"""The decoding step over gathered weights (agents/fast_decode.py) computes what the model's own
forward computes, follows weight updates, and is only used for the models it handles."""

from __future__ import annotations

import contextlib

import pytest
import torch

from thinkgym.agents import fast_decode, generation
from thinkgym.agents.fast_decode import llama_step
from thinkgym.agents.policy import load_policy


def _prefilled(model, prompts, pad_id, dtype):
    """A reserved cache after prefilling left-padded ``prompts``, with the attention mask and
    the next positions."""
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), pad_id)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, p in enumerate(prompts):
        ids[row, width - len(p):] = torch.tensor(p)
        attention[row, width - len(p):] = 1
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    cache = generation._reserved_cache(8, dtype)
    with torch.no_grad(), _autocast(dtype):
        model(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=True, cache=cache, logits_to_keep=1)
    return cache, attention, positions[:, -1] + 1


def _autocast(dtype):
    return torch.autocast("cpu", dtype=dtype) if dtype is not None else contextlib.nullcontext()


@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["fp32", "bf16-autocast"])
def test_step_logits_and_cache_match_the_model_forward(tiny_model_dir, dtype):
    """Three decoding steps on rows of different lengths (left padding, grouped-query heads):
    the logits and the cached keys and values equal those of ``model(...)`` to rounding."""
    model, tokenizer = load_policy(str(tiny_model_dir))
    model.eval()
    prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]]
    ours, attention, position = _prefilled(model, prompts, tokenizer.pad_token_id, dtype)
    theirs, _, _ = _prefilled(model, prompts, tokenizer.pad_token_id, dtype)
    step = llama_step(model, dtype)
    assert step is not None
    token = torch.tensor([20, 21, 22])
    tolerance = {"atol": 1e-5, "rtol": 1e-5} if dtype is None else {"atol": 1e-2, "rtol": 1e-2}
    for _ in range(3):
        attention = torch.cat([attention, attention.new_ones((3, 1))], dim=-1)
        fast = step(token, position, attention, ours)
        with torch.no_grad(), _autocast(dtype):
            plain = model(input_ids=token[:, None], attention_mask=attention, position_ids=position[:, None], use_cache=True, cache=theirs).logits[:, -1]
        assert fast.dtype == plain.dtype
        torch.testing.assert_close(fast.float(), plain.float(), **tolerance)
        for a, b in zip(ours.layers, theirs.layers):
            torch.testing.assert_close(a.keys.float(), b.keys.float(), **tolerance)
            torch.testing.assert_close(a.values.float(), b.values.float(), **tolerance)
        token, position = plain.float().argmax(-1), position + 1


def test_generation_is_the_same_with_and_without_the_step(tiny_model_dir, monkeypatch):
    """Greedy and seeded completions (rows stopping early, a shared group prompt) are the same
    tokens through the gathered-weights step as through ``model(...)``."""
    model, tokenizer = load_policy(str(tiny_model_dir))
    prompts = [[5, 6, 7, 8], [9, 10], [5, 6, 7, 8], [11, 12, 13, 14, 15, 16]]

    def both():
        return [generation.generate_ids(model, tokenizer, prompts, max_new_tokens=12, greedy=True),
                generation.generate_ids(model, tokenizer, prompts, max_new_tokens=12, seed=4, temperature=3.0)]

    calls = []
    monkeypatch.setattr(generation, "llama_step", lambda *a: calls.append(a) or llama_step(*a))
    fast = both()
    assert calls, "the tiny Llama should decode through the gathered-weights step"
    monkeypatch.setattr(generation, "FAST_DECODE", False)
    plain = both()
    for a, b in zip(fast, plain):
        assert [c.completion_ids for c in a] == [c.completion_ids for c in b]


def test_step_follows_in_place_weight_updates(tiny_model_dir):
    """An optimizer step changes parameters in place: the next call copies them again, so the
    step never decodes with stale weights."""
    model, tokenizer = load_policy(str(tiny_model_dir))
    model.eval()
    step = llama_step(model, None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, fused=True)  # updates without bumping versions
    ids = torch.tensor([[5, 6, 7, 8]])
    model.train()
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    model.eval()
    again = llama_step(model, None)
    assert again is step
    cache, attention, position = _prefilled(model, [[5, 6, 7]], tokenizer.pad_token_id, None)
    reference, _, _ = _prefilled(model, [[5, 6, 7]], tokenizer.pad_token_id, None)
    attention = torch.cat([attention, attention.new_ones((1, 1))], dim=-1)
    token = torch.tensor([9])
    with torch.no_grad():
        plain = model(input_ids=token[:, None], attention_mask=attention, position_ids=position[:, None], use_cache=True, cache=reference).logits[:, -1]
    torch.testing.assert_close(again(token, position, attention, cache), plain, atol=1e-5, rtol=1e-5)


def test_other_models_decode_through_their_forward(tiny_model_dir):
    """A model in training mode, another architecture or a Llama with attention biases gets no
    step: generation then calls ``model(...)``."""
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    model, _ = load_policy(str(tiny_model_dir))
    model.train()
    assert llama_step(model, None) is None
    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100)).eval()
    assert llama_step(gpt2, None) is None
    biased = LlamaForCausalLM(LlamaConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                          num_attention_heads=2, num_key_value_heads=1, attention_bias=True)).eval()
    assert llama_step(biased, None) is None
    assert not fast_decode._STEPS.get(biased)
