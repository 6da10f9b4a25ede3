"""Attention for training forwards on a CPU: the same values as SDPA, a faster backward.

A training forward of SmolLM2-135M over a GRPO micro-batch (16 suffixes of ~60 tokens over
~200 keys) spent about a fifth of its forward+backward time in
``_scaled_dot_product_flash_attention_for_cpu_backward`` (about 23 ms per layer on two cores,
eight times the forward), plus the copies of ``repeat_kv`` for grouped-query heads. At these
sizes the scores ``[B, H, T, L]`` are small (7 MB in float32 per layer), so the plain
computation is cheaper: :class:`_GroupedAttention` folds the query heads of each key/value head
into rows (no ``repeat_kv``), computes scores, softmax and output in float32 with batched matrix
products, keeps the probabilities, and writes the backward by hand (``dV = P^T dO``,
``dS = softmax_backward(dO V^T)``, ``dQ = dS K``, ``dK = dS^T Q``). Its results agree with
SDPA's to float32 rounding (closer to a float32 reference than the bf16 flash kernel; a test
compares values and gradients).

:func:`use_training_attention` switches a model to it under the name ``"thinkgym_sdpa"``
(registered with transformers' attention and mask interfaces; the mask is SDPA's). The function
only takes the path above when it pays and is exact: a CPU tensor that needs a gradient, a
boolean (or no) mask shared by the heads, no dropout, no extra bias. Everything else (no-grad
forwards: generation prefill, the reference, evaluation; a GPU) goes to transformers' own
``sdpa_attention_forward`` unchanged. The name is not saved with a checkpoint (transformers does
not serialise the attention implementation), so exported models load anywhere.
"""

from __future__ import annotations

from typing import Any

import torch

NAME = "thinkgym_sdpa"
_NEG = torch.finfo(torch.float32).min


def use_training_attention(model: Any) -> bool:
    """Switch ``model`` (a transformers model using SDPA) to :data:`NAME`; return whether it was
    switched (a model on another attention implementation is left as it is)."""
    config = getattr(model, "config", None)
    if getattr(config, "_attn_implementation", None) not in ("sdpa", NAME) or not hasattr(model, "set_attn_implementation"):
        return False
    _register()
    model.set_attn_implementation(NAME)
    return model.config._attn_implementation == NAME


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, training_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)


def training_attention(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-interface signature: ``query`` ``[B, H, T, D]``, ``key``/``value``
    ``[B, K, L, D]``, ``attention_mask`` boolean ``[B or 1, 1, T, L]`` (True: attend) or None;
    returns ``[B, T, H, D]``."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    grad = torch.is_grad_enabled() and (query.requires_grad or key.requires_grad or value.requires_grad)
    extra = any(kwargs.get(name) is not None for name in ("softcap", "position_bias", "sinks", "s_aux")) or kwargs.get("output_attentions")
    mask_ok = attention_mask is None or (attention_mask.dtype == torch.bool and attention_mask.dim() == 4 and attention_mask.shape[1] == 1)
    heads, kv_heads = query.shape[1], key.shape[1]
    if not grad or query.device.type != "cpu" or dropout or extra or not mask_ok or heads % kv_heads:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, is_causal=is_causal, **kwargs)
    length, dim = query.shape[2], query.shape[3]
    scale = dim**-0.5 if scaling is None else scaling
    if attention_mask is None:
        # What sdpa_attention_forward does without a mask: causal (keys cropped to the queries,
        # SDPA's is_causal being top-left aligned) for several queries, else attend to everything.
        causal = length > 1 and (is_causal if is_causal is not None else getattr(module, "is_causal", True))
        if causal:
            key, value = key[:, :, :length], value[:, :, :length]
            attention_mask = torch.ones(length, length, dtype=torch.bool, device=query.device).tril()[None, None]
        else:
            attention_mask = torch.ones(1, 1, length, key.shape[2], dtype=torch.bool, device=query.device)
    bias = torch.zeros(attention_mask.shape, dtype=torch.float32, device=query.device).masked_fill_(~attention_mask, _NEG)  # (B|1, 1, T, L)
    live = attention_mask.any(-1, keepdim=True)  # (B|1, 1, T, 1): rows with no key give 0, like SDPA
    out = _GroupedAttention.apply(query, key, value, bias, live, scale)  # (B, H, T, D)
    return out.transpose(1, 2).contiguous(), None


class _GroupedAttention(torch.autograd.Function):
    """softmax(Q K^T * scale + bias) V for grouped-query heads, in float32, with its backward."""

    @staticmethod
    def forward(ctx: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, bias: torch.Tensor, live: torch.Tensor, scale: float) -> torch.Tensor:
        batch, heads, length, dim = query.shape
        kv_heads, keys = key.shape[1], key.shape[2]
        group = heads // kv_heads
        q = query.reshape(batch, kv_heads, group * length, dim).float()  # (B, K, G T, D): head h = k G + g
        k, v = key.float(), value.float()  # (B, K, L, D)
        with torch.autocast(query.device.type, enabled=False):  # float32 products, also under autocast
            scores = torch.matmul(q, k.transpose(-1, -2)).view(batch, kv_heads, group, length, keys)  # (B, K, G, T, L)
            scores.mul_(scale).add_(bias.view(bias.shape[0], 1, 1, length, keys))
            probs = torch.softmax(scores, -1).mul_(live.view(live.shape[0], 1, 1, length, 1)).view(batch, kv_heads, group * length, keys)
            out = torch.matmul(probs, v)  # (B, K, G T, D)
        ctx.save_for_backward(q, k, v, probs)
        ctx.scale, ctx.dtypes = scale, (query.dtype, key.dtype, value.dtype)
        return out.view(batch, heads, length, dim).to(query.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:
        q, k, v, probs = ctx.saved_tensors
        batch, kv_heads, rows, dim = q.shape
        g = grad_out.reshape(batch, kv_heads, rows, dim).float()  # (B, K, G T, D)
        grad_v = torch.matmul(probs.transpose(-1, -2), g)  # (B, K, L, D)
        grad_probs = torch.matmul(g, v.transpose(-1, -2))  # (B, K, G T, L)
        grad_scores = torch._softmax_backward_data(grad_probs, probs, -1, torch.float32).mul_(ctx.scale)
        grad_q = torch.matmul(grad_scores, k)  # (B, K, G T, D)
        grad_k = torch.matmul(grad_scores.transpose(-1, -2), q)  # (B, K, L, D)
        query_dtype, key_dtype, value_dtype = ctx.dtypes
        heads = grad_out.shape[1]
        return grad_q.view(batch, heads, -1, dim).to(query_dtype), grad_k.to(key_dtype), grad_v.to(value_dtype), None, None, None
