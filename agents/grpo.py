"""The GRPO math as small pure functions on tensors; the trainer calls them.

For a prompt, a group of G completions is sampled and scored; every token of completion i gets
the advantage A_i of its reward within the group, and the policy maximises

    J = mean over tokens of [ min(r * A, clip(r, 1 - eps, 1 + eps_high) * A) - beta * D(pi_theta || pi_ref) ]

with r = pi_theta / pi_theta_old per token (or per sequence, GSPO). There is no value model.

Variants come from registries of small functions, so adding one is adding a dict entry:

* :data:`ADVANTAGE_SCALES` - how the centred group rewards are scaled;
* :data:`DIVERGENCES` - per-token estimators D_t of a divergence between the policy and the
  reference, from the policy's own samples, as functions of ``delta = ref_logps - logps``;
* :data:`AGGREGATIONS` - how per-token losses become one number, and what share of the batch a
  micro-batch carries (so that gradient accumulation gives the full-batch gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Tensor = torch.Tensor

# ----------------------------------------------------------------------------------------------
# Advantages

ADVANTAGE_SCALES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    # (centred [groups, G], rewards [groups, G]) -> advantages [groups, G]
    "group": lambda centred, r: centred / (r.std(dim=1, keepdim=True) + 1e-4),  # GRPO
    "batch": lambda centred, r: centred / (r.std() + 1e-4),  # std of the whole batch
    "none": lambda centred, r: centred,  # Dr. GRPO: no std scaling
}


def group_advantages(rewards: Tensor, group_size: int, scale: str = "group") -> Tensor:
    """Advantages ``[B]`` for rewards ``[B]`` made of contiguous groups of ``group_size``.

    ``"group"``: (r - group mean) / (group std + 1e-4); ``"batch"``: (r - group mean) /
    (batch std + 1e-4); ``"none"``: r - group mean. Stds use Bessel's correction.
    """
    if scale not in ADVANTAGE_SCALES:
        raise ValueError(f"unknown advantage scale {scale!r}; known: {', '.join(ADVANTAGE_SCALES)}")
    if group_size < 2 or rewards.dim() != 1 or rewards.numel() % group_size:
        raise ValueError(f"need 1-d rewards made of whole groups of size >= 2, got shape {tuple(rewards.shape)} and G={group_size}")
    r = rewards.reshape(-1, group_size)  # (groups, G)
    centred = r - r.mean(dim=1, keepdim=True)
    return ADVANTAGE_SCALES[scale](centred, r).reshape(-1)


# ----------------------------------------------------------------------------------------------
# Divergences: D_t(delta), delta = ref_logps - logps, rho = exp(delta). All are zero at delta = 0.


def _js(delta: Tensor) -> Tensor:
    rho = delta.exp()
    return (rho * delta - (1 + rho) * torch.log((1 + rho) / 2)) / 2


DIVERGENCES: dict[str, Callable[[Tensor], Tensor]] = {
    "k1": lambda delta: -delta,  # log pi - log pi_ref: the naive KL estimator
    "k2": lambda delta: delta.pow(2) / 2,
    "k3": lambda delta: delta.exp() - 1 - delta,  # DeepSeekMath's unbiased, always >= 0
    "forward_kl": lambda delta: delta.exp() * delta - delta.exp() + 1,  # KL(pi_ref || pi)
    "js": _js,  # Jensen-Shannon
    "chi2": lambda delta: (delta.exp() - 1).pow(2),  # Pearson chi-squared
    "hellinger": lambda delta: (torch.exp(delta / 2) - 1).pow(2),  # squared Hellinger (x2)
    "none": torch.zeros_like,
}


# ----------------------------------------------------------------------------------------------
# Aggregations


@dataclass(frozen=True)
class Aggregation:
    """``reduce(loss_t, mask, max_completion_length)`` turns per-token losses ``[B, T]`` into a
    scalar; ``share(mask, batch_sequences, batch_tokens)`` is the weight of a micro-batch with
    ``mask`` in a batch of ``batch_sequences`` sequences and ``batch_tokens`` completion tokens,
    so that summing ``share * reduce`` over micro-batches gives ``reduce`` of the whole batch."""

    reduce: Callable[[Tensor, Tensor, int], Tensor]
    share: Callable[[Tensor, int, int], float]


AGGREGATIONS: dict[str, Aggregation] = {
    "seq-mean": Aggregation(  # DeepSeekMath: mean over sequences of the per-sequence token mean
        lambda loss, mask, _: ((loss * mask).sum(-1) / mask.sum(-1).clamp(min=1)).mean(),
        lambda mask, seqs, _: mask.shape[0] / seqs,
    ),
    "token-mean": Aggregation(  # DAPO: every completion token weighs the same
        lambda loss, mask, _: (loss * mask).sum() / mask.sum().clamp(min=1),
        lambda mask, _, tokens: float(mask.sum()) / max(tokens, 1),
    ),
    "dr-grpo": Aggregation(  # Dr. GRPO: a constant normaliser, no length bias
        lambda loss, mask, max_len: (loss * mask).sum() / (mask.shape[0] * max_len),
        lambda mask, seqs, _: mask.shape[0] / seqs,
    ),
}


# ----------------------------------------------------------------------------------------------
# The loss


def grpo_loss(
    logps: Tensor,
    old_logps: Tensor,
    ref_logps: Tensor | None,
    advantages: Tensor,
    mask: Tensor,
    *,
    epsilon: float = 0.2,
    epsilon_high: float | None = None,
    beta: float = 0.04,
    divergence: str = "k3",
    aggregation: str = "seq-mean",
    max_completion_length: int | None = None,
    sequence_ratio: bool = False,
    return_stats: bool = False,
) -> Tensor | tuple[Tensor, dict[str, float]]:
    """The clipped GRPO loss (to minimise) of per-token log-probs ``[B, T]`` of the sampled
    tokens under the policy (``logps``, with grad), the sampling policy (``old_logps``) and the
    reference (``ref_logps``; may be None when ``beta == 0`` or ``divergence == "none"``).

    ``advantages`` is ``[B]`` (or ``[B, T]``); ``mask`` is 1 on completion tokens. Per token:
    ratio r = exp(logps - old_logps) (``sequence_ratio``: GSPO, exp of the masked mean log-ratio
    of the sequence, the same for all its tokens); surrogate = min(r A, clip(r, 1 - epsilon,
    1 + epsilon_high) A), ``epsilon_high`` defaulting to ``epsilon``; loss_t = -(surrogate -
    beta D_t). Aggregation as in :data:`AGGREGATIONS`; ``max_completion_length`` (``"dr-grpo"``)
    defaults to T. With ``return_stats`` also returns detached floats: ``kl`` (mean D_t),
    ``clip_fraction`` (tokens whose clipped term is the active one) and ``ratio`` (mean r).
    """
    if divergence not in DIVERGENCES:
        raise ValueError(f"unknown divergence {divergence!r}; known: {', '.join(DIVERGENCES)}")
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}; known: {', '.join(AGGREGATIONS)}")
    eps_high = epsilon if epsilon_high is None else epsilon_high
    mask = mask.to(logps.dtype)
    adv = advantages if advantages.dim() == 2 else advantages[:, None]  # (B, 1) or (B, T)

    log_ratio = logps - old_logps  # (B, T)
    if sequence_ratio:
        log_ratio = ((log_ratio * mask).sum(-1, keepdim=True) / mask.sum(-1, keepdim=True).clamp(min=1)).expand_as(logps)
    ratio = log_ratio.exp()
    clipped = ratio.clamp(1 - epsilon, 1 + eps_high)
    surrogate = torch.minimum(ratio * adv, clipped * adv)

    use_divergence = beta != 0 and divergence != "none"
    if use_divergence:
        if ref_logps is None:
            raise ValueError(f"beta={beta} with divergence {divergence!r} needs ref_logps")
        div = DIVERGENCES[divergence](ref_logps - logps)
    else:
        div = torch.zeros_like(logps)
    per_token = -(surrogate - beta * div)
    loss = AGGREGATIONS[aggregation].reduce(per_token, mask, max_completion_length or logps.shape[1])
    if not return_stats:
        return loss
    with torch.no_grad():
        tokens = mask.sum().clamp(min=1)
        active_clip = ((ratio < 1 - epsilon) & (adv < 0)) | ((ratio > 1 + eps_high) & (adv > 0))
        stats = {
            "kl": float((div * mask).sum() / tokens),
            "clip_fraction": float((active_clip.to(mask.dtype) * mask).sum() / tokens),
            "ratio": float((ratio * mask).sum() / tokens),
        }
    return loss, stats

