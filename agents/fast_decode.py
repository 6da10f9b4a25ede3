"""One decoding step of a Llama-architecture policy as plain tensor operations.

During sampling, every new token runs the whole model over a batch of one-position rows. On a
CPU that step is made of about 200 small matrix products and 600 small element-wise operations;
through the ``transformers`` modules (hooks, mask construction, per-module dispatch, three
separate q/k/v and two gate/up products, weights laid out ``[out, in]``) it takes about 90 ms for
16 rows of SmolLM2-135M on two cores. :class:`LlamaStep` runs the same computation from weights
gathered once: q/k/v fused into one matrix, gate/up into another, all in the compute dtype (the
autocast dtype, else the parameters' own) and, in bf16 on a CPU, prepacked for oneDNN; it reuses the model's own rotary
embedding module and ``scaled_dot_product_attention`` with grouped queries packed per key/value
head, as ``transformers`` does for one query position.

The numerics follow the module path under autocast: the residual stream stays in the
parameters' dtype, RMSNorm runs in float32, the products run in the compute dtype, keys and
values go through the same KV-cache layers. Results agree with ``model(...)`` to rounding (a
test compares logits and greedy continuations on a tiny Llama, in float32 and under bf16
autocast). The prefill still runs through ``model(...)``.

Only a plain ``LlamaForCausalLM`` (what thinkgym's default policy is) takes this path:
:func:`llama_step` returns ``None`` for any other model (another architecture, a PEFT wrapper,
attention or MLP biases, a non-SiLU activation, a model in training mode), which then decodes
through ``model(...)`` as before. The gathered buffers are kept per model and the weights copied into
them again at every call (a few tenths of a second; nothing cheaper detects an in-place update).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import torch
import torch.nn.functional as F

_STEPS: weakref.WeakKeyDictionary[Any, LlamaStep] = weakref.WeakKeyDictionary()


def llama_step(model: Any, compute_dtype: torch.dtype | None) -> LlamaStep | None:
    """The decoding step for ``model`` computing in ``compute_dtype`` (``None``: the parameters'
    dtype), or ``None`` when the model is not a plain Llama (see the module docstring)."""
    if not _supported(model):
        return None
    dtype = compute_dtype or model.model.embed_tokens.weight.dtype
    step = _STEPS.get(model)
    if step is None or step.dtype != dtype:
        step = _STEPS[model] = LlamaStep(model, dtype)
    else:
        # Always: the fused AdamW kernel updates parameters in place without bumping their
        # version counters, so no cheap check tells an updated policy from an unchanged one.
        step.refresh()
    return step


def _supported(model: Any) -> bool:
    if type(model).__name__ != "LlamaForCausalLM" or model.training:
        return False
    config = model.config
    if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False) or getattr(config, "hidden_act", "silu") != "silu":
        return False
    return getattr(config, "pretraining_tp", 1) == 1 and not hasattr(model, "_hf_hook")


class LlamaStep:
    """Gathered weights of one model and the step over them."""

    def __init__(self, model: Any, dtype: torch.dtype) -> None:
        config = model.config
        self.dtype = dtype
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.intermediate = config.intermediate_size
        self.rotary = model.model.rotary_emb
        self.embed = model.model.embed_tokens  # (V, H): looked up, not multiplied
        self.norms = [(_Norm(layer.input_layernorm), _Norm(layer.post_attention_layernorm)) for layer in model.model.layers]
        self.norm = _Norm(model.model.norm)
        self.linears: list[_Linear] = []
        for layer in model.model.layers:
            attn, mlp = layer.self_attn, layer.mlp
            self.linears += [_Linear([attn.q_proj, attn.k_proj, attn.v_proj], dtype), _Linear([attn.o_proj], dtype),
                             _Linear([mlp.gate_proj, mlp.up_proj], dtype), _Linear([mlp.down_proj], dtype)]
        self.linears.append(_Linear([model.lm_head], dtype))
        self.refresh()

    @torch.no_grad()
    def refresh(self) -> None:
        """Gather the current weights again (about 0.2 s for 135M parameters on two cores)."""
        for linear in self.linears:
            linear.refresh()

    @torch.no_grad()
    def __call__(self, token: torch.Tensor, position: torch.Tensor, attention: torch.Tensor, cache: Any) -> torch.Tensor:
        """Logits ``(A, V)`` in the compute dtype for one new token per row: ``token`` and
        ``position`` ``(A,)``, ``attention`` ``(A, L)`` over the cache's positions plus this one
        (1: attend, 0: padding); the new keys and values are appended to ``cache``."""
        rows, heads, kv_heads, dim = len(token), self.heads, self.kv_heads, self.head_dim
        group = heads // kv_heads
        x = F.embedding(token, self.embed.weight)  # (A, H), the residual stream in the parameters' dtype
        cos, sin = self.rotary(x[:, None], position[:, None])  # (A, 1, D)
        cos, sin = cos[:, None], sin[:, None]  # (A, 1, 1, D)
        mask = attention.bool()[:, None, None, :]  # (A, 1, 1, L)
        q_end, k_end = heads * dim, (heads + kv_heads) * dim
        for index, (norm1, norm2) in enumerate(self.norms):
            qkv_proj, o_proj, gate_up_proj, down_proj = self.linears[4 * index : 4 * index + 4]
            qkv = qkv_proj(norm1(x).to(self.dtype))  # (A, (Q + 2K) D)
            q = _rotate(qkv[:, :q_end].view(rows, heads, 1, dim), cos, sin)
            k = _rotate(qkv[:, q_end:k_end].view(rows, kv_heads, 1, dim), cos, sin)
            v = qkv[:, k_end:].view(rows, kv_heads, 1, dim)
            keys, values = cache.layers[index].update(k.to(self.dtype), v)
            # One query position: the G query heads of a key/value head become G query rows.
            q = q.to(keys.dtype).view(rows, kv_heads, group, dim)
            out = F.scaled_dot_product_attention(q, keys.to(q.dtype), values.to(q.dtype), attn_mask=mask)  # (A, K, G, D)
            x = x + o_proj(out.reshape(rows, heads * dim).to(self.dtype))
            gate_up = gate_up_proj(norm2(x).to(self.dtype))  # (A, 2 I)
            x = x + down_proj(F.silu(gate_up[:, : self.intermediate]) * gate_up[:, self.intermediate :])
        return self.linears[-1](self.norm(x).to(self.dtype))


class _Linear:
    """``nn.Linear`` modules without biases, their weights concatenated along the output
    dimension and kept in the compute dtype. In bf16 on a CPU the matrix is handed to oneDNN
    prepacked (``torch.ops.mkldnn._reorder_linear_weight``, what inductor's freezing does): the
    products give the same values as ``F.linear`` and take about half the time at a few rows,
    because the packing is not redone at every call. Otherwise it is stored ``[in, out]``."""

    def __init__(self, modules: list[Any], dtype: torch.dtype) -> None:
        self.modules, self.dtype = modules, dtype
        weight = modules[0].weight
        self.buffer = torch.empty((sum(m.weight.shape[0] for m in modules), weight.shape[1]), dtype=dtype, device=weight.device)  # (out, in)
        self.packed = dtype == torch.bfloat16 and weight.device.type == "cpu" and _can_pack()
        self.matrix = self.buffer

    def refresh(self) -> None:
        start = 0
        for module in self.modules:
            self.buffer[start : start + module.weight.shape[0]].copy_(module.weight)
            start += module.weight.shape[0]
        if self.packed:
            self.matrix = torch.ops.mkldnn._reorder_linear_weight(self.buffer, PACKED_ROWS)
        else:
            self.matrix = self.buffer.t().contiguous()  # (in, out): faster products than (out, in)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed:
            return torch.ops.mkldnn._linear_pointwise(x, self.matrix, None, "none", [], "")
        return torch.mm(x, self.matrix)


PACKED_ROWS = 16
"""The batch size the packed layout is tuned for (it is correct for any)."""


@functools.cache
def _can_pack() -> bool:
    """Whether this torch build has oneDNN's packed bf16 linear and it agrees with ``F.linear``."""
    try:
        weight, x = torch.randn(24, 8).bfloat16(), torch.randn(3, 8).bfloat16()
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, PACKED_ROWS)
        return torch.equal(torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], ""), F.linear(x, weight))
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


class _Norm:
    """``LlamaRMSNorm``'s arithmetic: float32 statistics, the weight applied in its own dtype."""

    def __init__(self, module: Any) -> None:
        self.module, self.eps = module, module.variance_epsilon

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        return self.module.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding (``apply_rotary_pos_emb``): ``x * cos + rotate_half(x) * sin``."""
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin
