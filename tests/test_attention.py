"""The training attention (agents/attention.py) gives SDPA's values and gradients, leaves
no-grad forwards to SDPA itself, and is not saved with a model."""

import json

import pytest
import torch
import torch.nn.functional as F

from thinkgym.agents.attention import NAME, training_attention, use_training_attention
from thinkgym.agents.logprobs import shared_prefix_batch, shared_prefix_logps
from thinkgym.agents.policy import load_policy
from thinkgym.agents.episodes import Episode


class _Module(torch.nn.Module):
    is_causal = True

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.num_key_value_groups = groups


def _inputs(dtype: torch.dtype, batch: int = 3, heads: int = 4, kv_heads: int = 2, length: int = 5, keys: int = 9, dim: int = 8):
    gen = torch.Generator().manual_seed(0)
    # The query arrives transposed from [B, T, H, D], as from a model's projection.
    q = torch.randn(batch, length, heads, dim, generator=gen).to(dtype).transpose(1, 2).requires_grad_()
    k = torch.randn(batch, kv_heads, keys, dim, generator=gen).to(dtype).requires_grad_()
    v = torch.randn(batch, kv_heads, keys, dim, generator=gen).to(dtype).requires_grad_()
    grad = torch.randn(batch, length, heads, dim, generator=gen).to(dtype)
    return q, k, v, grad


def _mask(batch: int, length: int, keys: int) -> torch.Tensor:
    """Causal over a cache of ``keys - length`` earlier positions, left padding on row 0 and a
    query row of row 1 that sees no key at all (a padded query position)."""
    mask = torch.arange(keys)[None, :] <= torch.arange(length)[:, None] + keys - length
    mask = mask[None, None].repeat(batch, 1, 1, 1)
    mask[0, :, :, :3] = False
    mask[1, :, 0, :] = False
    return mask


def _sdpa(q, k, v, mask, scale, causal=False):
    """Plain SDPA over key/value heads repeated to the query heads, output [B, T, H, D]."""
    groups = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale, is_causal=causal)
    return out.transpose(1, 2)


def _values_and_grads(fn, q, k, v, grad):
    q, k, v = (t.detach().clone().requires_grad_() for t in (q, k, v))
    out = fn(q, k, v)
    out.backward(grad)
    return out.detach(), q.grad, k.grad, v.grad


def _reference(q, k, v, mask, scale):
    """The textbook formula in float64: a query that sees no key gets 0."""
    groups = q.shape[1] // k.shape[1]
    q, k, v = q.double(), k.double().repeat_interleave(groups, dim=1), v.double().repeat_interleave(groups, dim=1)
    scores = (q @ k.transpose(-1, -2)) * scale
    live = mask.any(-1, keepdim=True)
    scores = torch.where(live, scores.masked_fill(~mask, float("-inf")), 0.0)
    return (scores.softmax(-1) * live @ v).transpose(1, 2)


@pytest.mark.parametrize("case", ["padding", "dead_row", "causal", "full"])
def test_matches_sdpa_and_the_formula_in_float32(case):
    keys = 5 if case == "causal" else 9
    q, k, v, grad = _inputs(torch.float32, length=5, keys=keys)
    mask = _mask(3, 5, 9) if case in ("padding", "dead_row") else None
    if case == "padding":
        mask[1, :, 0, 0] = True  # every query sees a key
    module = _Module(groups=2)
    module.is_causal = case != "full"
    ours = _values_and_grads(lambda q, k, v: training_attention(module, q, k, v, mask, scaling=0.3)[0], q, k, v, grad)
    dense = mask if mask is not None else torch.ones(1, 1, 5, keys, dtype=torch.bool)
    if case == "causal":
        dense = torch.ones(5, 5, dtype=torch.bool).tril()[None, None]
    formula = _values_and_grads(lambda q, k, v: _reference(q, k, v, dense, 0.3), q, k, v, grad.double())
    for a, b in zip(ours, formula):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a.double(), b.double(), atol=1e-5, rtol=1e-5)
    if case == "dead_row":  # SDPA's kernels disagree on such a row (NaN or 0); ours gives 0
        assert torch.equal(ours[0][1, 0], torch.zeros_like(ours[0][1, 0]))
    else:
        plain = _values_and_grads(lambda q, k, v: _sdpa(q, k, v, mask, 0.3, causal=case == "causal"), q, k, v, grad)
        for a, b in zip(ours, plain):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_bf16_is_as_close_to_float32_as_sdpa():
    q, k, v, grad = _inputs(torch.bfloat16, keys=9)
    mask = _mask(3, 5, 9)
    mask[1, :, 0, 0] = True  # every query sees a key: SDPA's bf16 kernel is then defined everywhere
    module = _Module(groups=2)
    exact = _values_and_grads(lambda q, k, v: _sdpa(q.float(), k.float(), v.float(), mask, 0.3), q, k, v, grad.float())
    ours = _values_and_grads(lambda q, k, v: training_attention(module, q, k, v, mask, scaling=0.3)[0], q, k, v, grad)
    plain = _values_and_grads(lambda q, k, v: _sdpa(q, k, v, mask, 0.3), q, k, v, grad)
    for o, p, e in zip(ours, plain, exact):
        assert o.dtype == torch.bfloat16
        assert (o.float() - e).abs().max() <= (p.float() - e).abs().max() + 1e-2


def test_no_grad_and_other_cases_go_to_sdpa(monkeypatch):
    import transformers.integrations.sdpa_attention as sdpa

    calls = []
    real = sdpa.sdpa_attention_forward
    monkeypatch.setattr(sdpa, "sdpa_attention_forward", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    q, k, v, _ = _inputs(torch.float32)
    mask, module = _mask(3, 5, 9), _Module(groups=2)
    with torch.no_grad():
        training_attention(module, q, k, v, mask, scaling=0.3)
    training_attention(module, q, k, v, mask, scaling=0.3, dropout=0.1)
    training_attention(module, q, k, v, torch.zeros(mask.shape), scaling=0.3)  # an additive float mask
    assert len(calls) == 3
    training_attention(module, q, k, v, mask, scaling=0.3)
    assert len(calls) == 3


def _episodes() -> list[Episode]:
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]
    replies = [[[20, 21, 22], [23], [24, 25, 26, 27, 28]], [[30, 31, 40, 41], [34, 35, 36]]]
    return [
        Episode(None, [], group=g, token_ids=p + r, mask=[0] * len(p) + [1] * len(r))
        for g, (p, rs) in enumerate(zip(prompts, replies))
        for r in rs
    ]


def test_model_log_probs_and_gradients_match_sdpa(tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    batch = shared_prefix_batch(_episodes(), torch.ones(5), tokenizer.pad_token_id)
    results = []
    for switch in (False, True):
        if switch:
            assert use_training_attention(model) and model.config._attn_implementation == NAME
        model.zero_grad()
        logps, _ = shared_prefix_logps(model, batch, None)
        (logps * batch["mask"]).sum().backward()
        with torch.no_grad():
            no_grad, _ = shared_prefix_logps(model, batch, None)
        results.append((logps.detach() * batch["mask"], [p.grad.clone() for p in model.parameters()], no_grad))
    (before, grads_before, no_grad_before), (after, grads_after, no_grad_after) = results
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    for a, b in zip(grads_after, grads_before):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert torch.equal(no_grad_after, no_grad_before)  # no-grad forwards are SDPA's own


def test_not_saved_with_the_model(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    model, _ = load_policy(str(tiny_model_dir))
    use_training_attention(model)
    model.save_pretrained(tmp_path)
    assert NAME not in json.dumps(json.loads((tmp_path / "config.json").read_text()))
    assert AutoModelForCausalLM.from_pretrained(tmp_path).config._attn_implementation == "sdpa"
