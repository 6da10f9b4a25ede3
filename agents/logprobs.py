"""Log-probs of sampled tokens with the prompt computed once per group.

The G completions of a GRPO group share their prompt, which is most of each sequence (about
140 of 200 tokens for an arithmetic problem under the R1 system prompt). Instead of running G
padded copies of prompt + completion, :func:`shared_prefix_batch` splits each sequence into

* a prefix: every token before the last one that precedes the first model token; each
  distinct prefix is one row of a left-padded ``[U, P]`` batch, and
* a suffix: that last prompt token, then the model's tokens (and, multi-turn, the env text
  between turns), right-padded into ``[B, S]``;

and :func:`shared_prefix_logps` runs the prefixes once with the KV cache, copies each prefix's
cache rows to the sequences that share it (an index, so gradients of all G copies flow back into
the one prefix pass), then runs the suffixes on top and turns the logits of suffix positions
0..S-2 into the log-probs of tokens 1..S-1. Mathematically this is the same forward as the
padded full sequences; it costs U x P + B x S positions instead of B x (P + S).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import torch

from thinkgym.agents.episodes import Episode


def shared_prefix_batch(episodes: Sequence[Episode], advantages: torch.Tensor, pad_id: int) -> dict[str, Any]:
    """A micro-batch for :func:`shared_prefix_logps`: ``prefix_ids``/``prefix_attention``
    ``[U, P]`` (left-padded), ``expand`` ``[B]`` (sequence -> prefix row), ``ids``/``attention``
    ``[B, S]`` (suffixes, right-padded), ``mask`` ``[B, S - 1]`` (1 on model tokens 1..S-1 of
    each suffix) and ``advantages``."""
    cuts = [max(1, e.mask.index(1) if 1 in e.mask else len(e.token_ids) - 1) - 1 for e in episodes]
    distinct: dict[tuple[int, ...], int] = {}
    expand = [distinct.setdefault(tuple(e.token_ids[:cut]), len(distinct)) for e, cut in zip(episodes, cuts)]
    prefixes = list(distinct)
    width = max(1, max(len(p) for p in prefixes))
    prefix_ids = torch.full((len(prefixes), width), pad_id, dtype=torch.long)
    prefix_attention = torch.zeros((len(prefixes), width), dtype=torch.long)
    for row, prefix in enumerate(prefixes):
        if prefix:
            prefix_ids[row, width - len(prefix) :] = torch.tensor(prefix)
            prefix_attention[row, width - len(prefix) :] = 1
    length = max(len(e.token_ids) - cut for e, cut in zip(episodes, cuts))
    ids = torch.full((len(episodes), length), pad_id, dtype=torch.long)
    attention = torch.zeros((len(episodes), length), dtype=torch.long)
    mask = torch.zeros((len(episodes), length), dtype=torch.float32)
    for row, (e, cut) in enumerate(zip(episodes, cuts)):
        n = len(e.token_ids) - cut
        ids[row, :n] = torch.tensor(e.token_ids[cut:])
        attention[row, :n] = 1
        mask[row, :n] = torch.tensor(e.mask[cut:], dtype=torch.float32)
    return {
        "prefix_ids": prefix_ids,
        "prefix_attention": prefix_attention,
        "expand": torch.tensor(expand),
        "ids": ids,
        "attention": attention,
        "mask": mask[:, 1:],
        "advantages": advantages,
    }


def shared_prefix_logps(model: Any, m: dict[str, Any], autocast: torch.dtype | None, with_entropy: bool = False) -> tuple[torch.Tensor, float | None]:
    """Log-probs ``[B, S - 1]`` of suffix tokens 1..S-1 for a :func:`shared_prefix_batch`; with
    ``with_entropy``, also the mean policy entropy on model tokens."""
    from transformers import DynamicCache

    from thinkgym.agents.generation import _cache_keyword

    device = next(model.parameters()).device
    prefix_attention, expand = m["prefix_attention"].to(device), m["expand"].to(device)
    ids, attention = m["ids"].to(device), m["attention"].to(device)
    cache_kw = _cache_keyword(model)
    cache = DynamicCache()
    ctx = torch.autocast(device_type=device.type, dtype=autocast) if autocast else contextlib.nullcontext()
    with ctx:
        prefix_pos = (prefix_attention.cumsum(-1) - 1).clamp(min=0)  # (U, P): left padding does not shift positions
        model(input_ids=m["prefix_ids"].to(device), attention_mask=prefix_attention, position_ids=prefix_pos, use_cache=True, logits_to_keep=1, **{cache_kw: cache})
        cache.batch_select_indices(expand)  # (U, ...) -> (B, ...): differentiable, gradients of the G copies add up
        start = prefix_attention.sum(-1)[expand]  # (B,): real prefix length = first suffix position
        positions = start[:, None] + torch.arange(ids.shape[1], device=device)  # (B, S)
        full_attention = torch.cat([prefix_attention[expand], attention], dim=-1)  # (B, P + S)
        out = model(input_ids=ids, attention_mask=full_attention, position_ids=positions, use_cache=True, **{cache_kw: cache})
    # Position t predicts token t + 1; the last position predicts nothing (its gradient is 0).
    logps, ent = selected_logps(out.logits, ids[:, 1:], with_entropy=with_entropy)  # (B, S - 1)
    entropy = None
    if ent is not None:
        mask = m["mask"].to(device)
        entropy = float((ent * mask).sum() / mask.sum().clamp(min=1))
    return logps, entropy


CHUNK_POSITIONS = 64
"""Positions per block of :func:`selected_logps`: a float32 block of 64 x 49k logits is 12 MB."""


def selected_logps(logits: torch.Tensor, targets: torch.Tensor, with_entropy: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``log_softmax(logits)[b, t, targets[b, t]]`` as a float32 ``[B, T]`` tensor, for logits
    ``[B, L, V]`` (any float dtype, ``L >= T``: positions from ``T`` on are ignored) and targets
    ``[B, T]``; with ``with_entropy``, also the (detached) entropy of each position, ``[B, T]``.

    The same values and gradients as ``logits[:, :T].float().log_softmax(-1).gather(...)``, but
    computed over blocks of :data:`CHUNK_POSITIONS` positions: no ``[B, T, V]`` float32 tensor is
    ever held, and the gradient is written once, in the logits' dtype, straight into a tensor
    of the logits' shape (no slice-backward copy).
    """
    if logits.dim() != 3 or targets.dim() != 2 or targets.shape[0] != logits.shape[0] or targets.shape[1] > logits.shape[1]:
        raise ValueError(f"logits must be [B, L, V] and targets [B, T] with T <= L, got {tuple(logits.shape)} and {tuple(targets.shape)}")
    logps, entropy = _SelectedLogps.apply(logits, targets, with_entropy)
    return logps, entropy if with_entropy else None


def _blocks(batch: int, length: int) -> list[tuple[int, int, int]]:
    """(row, start, end) blocks covering ``[batch, length]``: contiguous memory in a [B, L, V] tensor."""
    return [(b, s, min(s + CHUNK_POSITIONS, length)) for b in range(batch) for s in range(0, length, CHUNK_POSITIONS)]


class _SelectedLogps(torch.autograd.Function):
    """Forward: per block, logsumexp in float32 and the target's logit. Backward: per block,
    ``grad * (onehot(target) - softmax)``, recomputing the softmax from the saved logits and
    logsumexp (the logits are what a plain computation keeps alive too)."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, targets: torch.Tensor, with_entropy: bool) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length = targets.shape
        lse = torch.empty((batch, length), dtype=torch.float32, device=logits.device)  # (B, T)
        entropy = torch.zeros((batch, length) if with_entropy else (0,), dtype=torch.float32, device=logits.device)
        for b, s, e in _blocks(batch, length):
            block = logits[b, s:e].float()  # (C, V)
            lse[b, s:e] = block.logsumexp(-1)
            if with_entropy:
                probs = (block - lse[b, s:e, None]).exp_()
                entropy[b, s:e] = lse[b, s:e] - (probs * block).sum(-1)
        picked = logits[:, :length].gather(-1, targets[..., None]).squeeze(-1).float()  # (B, T)
        ctx.save_for_backward(logits, targets, lse)
        ctx.mark_non_differentiable(entropy)
        return picked - lse, entropy

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor, _entropy_grad: Any) -> tuple[torch.Tensor, None, None]:
        logits, targets, lse = ctx.saved_tensors
        batch, length = targets.shape
        out = torch.empty_like(logits, memory_format=torch.contiguous_format)  # (B, L, V)
        out[:, length:] = 0  # positions without a target
        grad = grad.float()
        for b, s, e in _blocks(batch, length):
            g = grad[b, s:e, None]  # (C, 1)
            block = (logits[b, s:e].float() - lse[b, s:e, None]).exp_().mul_(-g)  # -g * softmax, (C, V)
            block.scatter_add_(-1, targets[b, s:e, None], g)
            out[b, s:e] = block
        return out, None, None
