"""The fast paths of the GRPO step and of generation compute what the plain computations do:
the blockwise log-softmax against ``log_softmax(...).gather`` (values, entropy, gradients)."""

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
