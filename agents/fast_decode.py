"""One decoding step of a Llama-architecture policy as plain tensor operations.

During sampling, every new token runs the whole model over a batch of one-position rows. On a
CPU that step is made of about 200 small matrix products and 600 small element-wise operations;
through the ``transformers`` modules (hooks, mask construction, per-module dispatch, three
separate q/k/v and two gate/up products, weights laid out ``[out, in]``) it takes about 90 ms for
16 rows of SmolLM2-135M on two cores. :class:`LlamaStep` runs the same computation from weights
gathered once: q/k/v fused into one ``[in, out]`` matrix, gate/up into another, all in the
compute dtype (the autocast dtype, else the parameters' own), and reuses the model's own rotary
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
through ``model(...)`` as before. The gathered weights are kept per model and copied again when a
parameter changes (an optimizer step bumps its version counter).
"""

from __future__ import annotations

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
    elif step.stale():
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
        self.model, self.dtype = weakref.ref(model), dtype
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.intermediate = config.intermediate_size
        self.rotary = model.model.rotary_emb
        self.embed = model.model.embed_tokens.weight  # (V, H): looked up, not multiplied
        self.norms = [(_Norm(layer.input_layernorm), _Norm(layer.post_attention_layernorm)) for layer in model.model.layers]
        self.norm = _Norm(model.model.norm)
        # Each gathered matrix, ``[in, out]`` in the compute dtype, and the parameters it is made of
        # (concatenated along ``out``). The buffers are allocated once and refreshed in place.
        self.sources: list[list[torch.Tensor]] = []
        for layer in model.model.layers:
            attn, mlp = layer.self_attn, layer.mlp
            self.sources += [[attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight], [attn.o_proj.weight],
                             [mlp.gate_proj.weight, mlp.up_proj.weight], [mlp.down_proj.weight]]
        self.gathered = [torch.empty((parts[0].shape[1], sum(p.shape[0] for p in parts)), dtype=dtype, device=parts[0].device) for parts in self.sources]
        # The vocabulary projection stays ``[V, H]``: a transposed copy of it costs more than its
        # products gain (a cast-only copy, as autocast makes).
        self.head = torch.empty_like(model.lm_head.weight, dtype=dtype)
        self.params: list[torch.Tensor] = []
        self.versions: list[int] = []
        self.refresh()

    def stale(self) -> bool:
        """Whether a parameter was replaced or changed in place since the last :meth:`refresh`."""
        model = self.model()
        if model is None:
            return True
        params = list(model.parameters())
        return len(params) != len(self.params) or any(p is not q or p._version != v for p, q, v in zip(params, self.params, self.versions))

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy the current weights into the gathered matrices (a few tenths of a second for
        135M parameters on two cores: casts and transposes into buffers that already exist)."""
        for parts, out in zip(self.sources, self.gathered):
            start = 0
            for weight in parts:
                out[:, start : start + weight.shape[0]].copy_(weight.t())
                start += weight.shape[0]
        self.head.copy_(self.model().lm_head.weight)
        model = self.model()
        self.params = list(model.parameters()) if model is not None else []
        self.versions = [p._version for p in self.params]

    @torch.no_grad()
    def __call__(self, token: torch.Tensor, position: torch.Tensor, attention: torch.Tensor, cache: Any) -> torch.Tensor:
        """Logits ``(A, V)`` in the compute dtype for one new token per row: ``token`` and
        ``position`` ``(A,)``, ``attention`` ``(A, L)`` over the cache's positions plus this one
        (1: attend, 0: padding); the new keys and values are appended to ``cache``."""
        rows, heads, kv_heads, dim = len(token), self.heads, self.kv_heads, self.head_dim
        group = heads // kv_heads
        x = F.embedding(token, self.embed)  # (A, H), the residual stream in the parameters' dtype
        cos, sin = self.rotary(x[:, None], position[:, None])  # (A, 1, D)
        cos, sin = cos[:, None], sin[:, None]  # (A, 1, 1, D)
        mask = attention.bool()[:, None, None, :]  # (A, 1, 1, L)
        q_end, k_end = heads * dim, (heads + kv_heads) * dim
        for index, (norm1, norm2) in enumerate(self.norms):
            qkv_w, o_w, gate_up_w, down_w = self.gathered[4 * index : 4 * index + 4]
            qkv = torch.mm(norm1(x).to(self.dtype), qkv_w)  # (A, (Q + 2K) D)
            q = _rotate(qkv[:, :q_end].view(rows, heads, 1, dim), cos, sin)
            k = _rotate(qkv[:, q_end:k_end].view(rows, kv_heads, 1, dim), cos, sin)
            v = qkv[:, k_end:].view(rows, kv_heads, 1, dim)
            keys, values = cache.layers[index].update(k.to(self.dtype), v)
            # One query position: the G query heads of a key/value head become G query rows.
            q = q.to(keys.dtype).view(rows, kv_heads, group, dim)
            out = F.scaled_dot_product_attention(q, keys.to(q.dtype), values.to(q.dtype), attn_mask=mask)  # (A, K, G, D)
            x = x + torch.mm(out.reshape(rows, heads * dim).to(self.dtype), o_w)
            gate_up = torch.mm(norm2(x).to(self.dtype), gate_up_w)  # (A, 2 I)
            x = x + torch.mm(F.silu(gate_up[:, : self.intermediate]) * gate_up[:, self.intermediate :], down_w)
        return F.linear(self.norm(x).to(self.dtype), self.head)


class _Norm:
    """``LlamaRMSNorm``'s arithmetic: float32 statistics, the weight applied in its own dtype."""

    def __init__(self, module: Any) -> None:
        self.weight, self.eps = module.weight, module.variance_epsilon

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        return self.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding (``apply_rotary_pos_emb``): ``x * cos + rotate_half(x) * sin``."""
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin
