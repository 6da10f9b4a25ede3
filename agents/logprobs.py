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
    logits = out.logits[:, :-1].float()  # (B, S - 1, V): position t predicts token t + 1
    targets = ids[:, 1:]  # (B, S - 1)
    lse = logits.logsumexp(-1)
    logps = logits.gather(-1, targets[..., None]).squeeze(-1) - lse  # (B, S - 1)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            ent = lse - (logits.softmax(-1) * logits).sum(-1)  # (B, S - 1)
            mask = m["mask"].to(device)
            entropy = float((ent * mask).sum() / mask.sum().clamp(min=1))
    return logps, entropy
