"""The fast paths of the GRPO step and of generation compute what the plain computations do:
the blockwise log-softmax against ``log_softmax(...).gather`` (values, entropy, gradients),
inverse-transform sampling against the softmax, the reserved KV cache against DynamicCache."""

import pytest
import torch

from thinkgym.agents import logprobs
from thinkgym.agents.logprobs import selected_logps


def _plain(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The textbook computation: float32 log-softmax over the whole [B, T, V] tensor."""
    full = logits[:, : targets.shape[1]].float().log_softmax(-1)
    entropy = -(full.exp() * full).sum(-1)
    return full.gather(-1, targets[..., None]).squeeze(-1), entropy


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("extra", [0, 1, 3], ids=["T=L", "T=L-1", "T=L-3"])
def test_blockwise_logps_match_plain_log_softmax(monkeypatch, dtype, extra):
    monkeypatch.setattr(logprobs, "CHUNK_POSITIONS", 4)  # several blocks per row, one ragged
    gen = torch.Generator().manual_seed(0)
    batch, length, vocab = 3, 11, 50
    base = (torch.randn(batch, length + extra, vocab, generator=gen) * 3).to(dtype)
    targets = torch.randint(vocab, (batch, length), generator=gen)
    weights = torch.randn(batch, length, generator=gen)

    results = []
    for fast in (False, True):
        logits = base.clone().requires_grad_(True)
        if fast:
            logps, entropy = selected_logps(logits, targets, with_entropy=True)
        else:
            logps, entropy = _plain(logits, targets)
        assert logps.dtype == torch.float32 and logps.shape == (batch, length)
        (logps * weights).sum().backward()
        results.append((logps.detach(), entropy.detach(), logits.grad))
    (plain, plain_ent, plain_grad), (fast, fast_ent, fast_grad) = results
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fast_ent, plain_ent, atol=1e-4, rtol=1e-4)
    assert fast_grad.dtype == dtype and fast_grad.shape == base.shape
    tol = {"atol": 1e-6, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-2, "rtol": 1e-2}
    torch.testing.assert_close(fast_grad.float(), plain_grad.float(), **tol)
    assert not fast_grad[:, length:].any()  # positions without a target get no gradient


def test_blockwise_logps_refuse_bad_shapes():
    with pytest.raises(ValueError, match="T <= L"):
        selected_logps(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))


def _frequencies(logits: torch.Tensor, draws: int, top_p: float = 1.0) -> torch.Tensor:
    from thinkgym.agents.generation import _sample

    gen = torch.Generator().manual_seed(1)
    rows = logits.expand(draws, -1)
    tokens = _sample(rows, 1.0, top_p, False, gen)
    return torch.bincount(tokens, minlength=logits.shape[-1]).double() / draws


def test_inverse_transform_sampling_follows_the_softmax():
    logits = torch.tensor([[2.0, 0.0, -1.0, float("-inf"), 1.0, -30.0]])
    expected = logits.double().softmax(-1)[0]  # independent: float64 softmax
    freq = _frequencies(logits, 200_000)
    assert freq[3] == 0  # probability 0 is never drawn
    # 200k draws: the standard error of each frequency is below 0.0012
    torch.testing.assert_close(freq, expected, atol=5e-3, rtol=0)


def test_inverse_transform_sampling_keeps_the_nucleus():
    logits = torch.tensor([[3.0, 2.0, 0.5, 0.0, -1.0]])
    probs = logits.double().softmax(-1)[0]
    # top_p = 0.8: the smallest prefix of the sorted tokens whose mass reaches 0.8
    order = probs.argsort(descending=True)
    mass, keep = 0.0, []
    for token in order.tolist():
        keep.append(token)
        mass += float(probs[token])
        if mass >= 0.8:
            break
    expected = torch.zeros_like(probs)
    expected[keep] = probs[keep] / probs[keep].sum()
    freq = _frequencies(logits, 200_000, top_p=0.8)
    assert all(freq[t] == 0 for t in range(5) if t not in keep)
    torch.testing.assert_close(freq, expected, atol=5e-3, rtol=0)


def test_reserved_cache_generates_as_the_growing_cache(tiny_model_dir, monkeypatch):
    """Greedy and seeded completions are the same with transformers' DynamicCache, with rows
    of different lengths and rows that stop early."""
    from transformers import DynamicCache

    from thinkgym.agents import generation
    from thinkgym.agents.policy import load_policy

    model, tokenizer = load_policy(str(tiny_model_dir))
    prompts = [[5, 6, 7, 8], [9, 10], [5, 6, 7, 8], [11, 12, 13, 14, 15, 16]]
    fast = [generation.generate_ids(model, tokenizer, prompts, max_new_tokens=12, greedy=True),
            generation.generate_ids(model, tokenizer, prompts, max_new_tokens=12, seed=4, temperature=3.0)]
    monkeypatch.setattr(generation, "_reserved_cache", lambda reserve, dtype=None: DynamicCache())
    plain = [generation.generate_ids(model, tokenizer, prompts, max_new_tokens=12, greedy=True),
             generation.generate_ids(model, tokenizer, prompts, max_new_tokens=12, seed=4, temperature=3.0)]
    for a, b in zip(fast, plain):
        assert [c.completion_ids for c in a] == [c.completion_ids for c in b]


def test_common_prefix_prefill_generates_as_separate_prefills(tiny_model_dir, monkeypatch):
    """Prompts sharing a long opening (an evaluation batch's system prompt) prefill it once; the
    completions are those of prompts prefilled whole, and of each prompt generated alone."""
    from thinkgym.agents import generation
    from thinkgym.agents.policy import load_policy

    model, tokenizer = load_policy(str(tiny_model_dir))
    system = list(range(100, 130))  # 30 shared tokens
    prompts = [system + [5, 6, 7], system + [9], system + [5, 6, 7], system + [11, 12, 13, 14, 15], system[:20] + [8] * 12]
    assert generation._common_prefix(prompts) == 20
    assert generation._common_prefix([[1, 2, 3], [1, 2, 3]]) == 2  # every row keeps a token of its own
    shared = [generation.generate_ids(model, tokenizer, prompts, max_new_tokens=10, greedy=True),
              generation.generate_ids(model, tokenizer, prompts, max_new_tokens=10, seed=2, temperature=3.0)]
    alone = [generation.generate_ids(model, tokenizer, [p], max_new_tokens=10, greedy=True)[0] for p in prompts]
    monkeypatch.setattr(generation, "MIN_SHARED_PREFIX", 10**9)
    whole = [generation.generate_ids(model, tokenizer, prompts, max_new_tokens=10, greedy=True),
             generation.generate_ids(model, tokenizer, prompts, max_new_tokens=10, seed=2, temperature=3.0)]
    for a, b in zip(shared, whole):
        assert [c.completion_ids for c in a] == [c.completion_ids for c in b]
    assert [c.completion_ids for c in shared[0]] == [c.completion_ids for c in alone]
