"""The public GRPO math against hand-computed values and a plain-Python reference."""

from __future__ import annotations

import math

import pytest
import torch

from thinkgym.agents.grpo import AGGREGATIONS, DIVERGENCES, group_advantages, grpo_loss

# Two sequences of up to 3 completion tokens; the second has only 2.
LOGPS = [[-1.0, -0.5, -2.0], [-0.3, -1.2, 0.0]]
OLD = [[-1.1, -0.4, -1.5], [-0.3, -1.6, 0.0]]
REF = [[-0.9, -0.7, -2.2], [-0.5, -1.0, 0.0]]
MASK = [[1, 1, 1], [1, 1, 0]]
ADV = [1.5, -0.5]

# D(delta) for delta = ref - logp, written out independently of the module.
REFERENCE_DIVERGENCES = {
    "k1": lambda d: -d,
    "k2": lambda d: d * d / 2,
    "k3": lambda d: math.exp(d) - 1 - d,
    "forward_kl": lambda d: math.exp(d) * d - math.exp(d) + 1,
    "js": lambda d: (math.exp(d) * d - (1 + math.exp(d)) * math.log((1 + math.exp(d)) / 2)) / 2,
    "chi2": lambda d: (math.exp(d) - 1) ** 2,
    "hellinger": lambda d: (math.exp(d / 2) - 1) ** 2,
    "none": lambda d: 0.0,
}


def reference_loss(divergence, aggregation, beta=0.04, eps=0.2, eps_high=None, max_len=None):
    eps_high = eps if eps_high is None else eps_high
    per_token = []
    for b in range(2):
        row = []
        for t in range(3):
            r = math.exp(LOGPS[b][t] - OLD[b][t])
            a = ADV[b]
            surrogate = min(r * a, min(max(r, 1 - eps), 1 + eps_high) * a)
            row.append(-(surrogate - beta * REFERENCE_DIVERGENCES[divergence](REF[b][t] - LOGPS[b][t])))
        per_token.append(row)
    masked = [[per_token[b][t] * MASK[b][t] for t in range(3)] for b in range(2)]
    if aggregation == "seq-mean":
        return sum(sum(masked[b]) / sum(MASK[b]) for b in range(2)) / 2
    if aggregation == "token-mean":
        return sum(map(sum, masked)) / sum(map(sum, MASK))
    return sum(map(sum, masked)) / (2 * (max_len or 3))


def tensors():
    return (torch.tensor(LOGPS), torch.tensor(OLD), torch.tensor(REF), torch.tensor(ADV), torch.tensor(MASK, dtype=torch.float32))


def test_group_advantages_by_hand():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 2.0, 4.0])
    # group 1: mean 1/3, Bessel std sqrt(1/3); group 2: mean 2, std 2
    s1 = math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2)
    expected = [(2 / 3) / (s1 + 1e-4), (-1 / 3) / (s1 + 1e-4), (-1 / 3) / (s1 + 1e-4), -2 / 2.0001, 0.0, 2 / 2.0001]
    assert torch.allclose(group_advantages(rewards, 3), torch.tensor(expected), atol=1e-6)
    batch_std = float(rewards.std())
    centred = [2 / 3, -1 / 3, -1 / 3, -2.0, 0.0, 2.0]
    assert torch.allclose(group_advantages(rewards, 3, "batch"), torch.tensor([c / (batch_std + 1e-4) for c in centred]), atol=1e-6)
    assert torch.allclose(group_advantages(rewards, 3, "none"), torch.tensor(centred), atol=1e-6)


def test_equal_rewards_give_zero_advantage():
    assert torch.equal(group_advantages(torch.ones(8), 4), torch.zeros(8))


@pytest.mark.parametrize("bad", [dict(group_size=1), dict(group_size=4), dict(scale="nope")])
def test_group_advantages_rejects_bad_input(bad):
    args = {"rewards": torch.zeros(6), "group_size": 3, **bad}
    with pytest.raises(ValueError):
        group_advantages(**args)


@pytest.mark.parametrize("aggregation", sorted(AGGREGATIONS))
@pytest.mark.parametrize("divergence", sorted(DIVERGENCES))
def test_loss_matches_reference(divergence, aggregation):
    logps, old, ref, adv, mask = tensors()
    got = grpo_loss(logps, old, ref, adv, mask, beta=0.04, divergence=divergence, aggregation=aggregation, max_completion_length=4)
    want = reference_loss(divergence, aggregation, max_len=4)
    assert float(got) == pytest.approx(want, abs=1e-6)


def test_clip_higher_and_beta_zero_needs_no_reference():
    logps, old, _, adv, mask = tensors()
    got = grpo_loss(logps, old, None, adv, mask, beta=0.0, epsilon=0.1, epsilon_high=0.3, aggregation="token-mean")
    assert float(got) == pytest.approx(reference_loss("none", "token-mean", beta=0.0, eps=0.1, eps_high=0.3), abs=1e-6)
    with pytest.raises(ValueError, match="ref_logps"):
        grpo_loss(logps, old, None, adv, mask, beta=0.04)


def test_divergences_vanish_when_policies_agree_and_are_nonnegative():
    delta = torch.linspace(-3, 3, 61)
    for name, fn in DIVERGENCES.items():
        assert float(fn(torch.zeros(1))) == pytest.approx(0.0, abs=1e-7), name
        if name != "k1":  # k1 is unbiased but signed
            assert bool((fn(delta) >= -1e-7).all()), name


def test_sequence_ratio_uses_the_masked_mean_log_ratio():
    logps, old, _, adv, mask = tensors()
    got = grpo_loss(logps, old, None, adv, mask, beta=0.0, sequence_ratio=True)
    seq = [sum((LOGPS[b][t] - OLD[b][t]) * MASK[b][t] for t in range(3)) / sum(MASK[b]) for b in range(2)]
    per_seq = [-min(math.exp(s) * a, min(max(math.exp(s), 0.8), 1.2) * a) for s, a in zip(seq, ADV)]
    assert float(got) == pytest.approx(sum(per_seq) / 2, abs=1e-6)


def test_gradients_flow_only_through_policy_logps():
    logps, old, ref, adv, mask = tensors()
    logps.requires_grad_(True)
    for t in (old, ref, adv):
        t.requires_grad_(True)
    loss = grpo_loss(logps, old.detach(), ref.detach(), adv.detach(), mask, divergence="k3")
    loss.backward()
    assert logps.grad is not None and logps.grad.abs().sum() > 0
    assert old.grad is None and ref.grad is None and adv.grad is None
    assert bool((logps.grad[1, 2] == 0).all())  # a masked token gets no gradient


def test_on_policy_gradient_is_the_advantage_weighted_score():
    # With old == logps (mu = 1) and beta = 0, d loss / d logp_t = -A / |o| for seq-mean.
    logps = torch.tensor(LOGPS, requires_grad=True)
    grpo_loss(logps, logps.detach(), None, torch.tensor(ADV), torch.tensor(MASK, dtype=torch.float32), beta=0.0).backward()
    expected = torch.tensor([[-1.5 / 3] * 3, [0.5 / 2, 0.5 / 2, 0.0]]) / 2
    assert torch.allclose(logps.grad, expected, atol=1e-6)


@pytest.mark.parametrize("aggregation", sorted(AGGREGATIONS))
def test_micro_batch_shares_recover_the_full_batch_loss(aggregation):
    logps, old, ref, adv, mask = tensors()
    full = grpo_loss(logps, old, ref, adv, mask, aggregation=aggregation, max_completion_length=3)
    agg = AGGREGATIONS[aggregation]
    tokens = int(mask.sum())
    parts = sum(
        agg.share(mask[i : i + 1], 2, tokens)
        * grpo_loss(logps[i : i + 1], old[i : i + 1], ref[i : i + 1], adv[i : i + 1], mask[i : i + 1], aggregation=aggregation, max_completion_length=3)
        for i in range(2)
    )
    assert float(parts) == pytest.approx(float(full), abs=1e-6)


def test_stats_report_clipping_and_divergence():
    logps, old, ref, adv, mask = tensors()
    _, stats = grpo_loss(logps, old, ref, adv, mask, return_stats=True)
    # token (0,2): r = exp(-0.5) < 0.8 with A > 0: not clipped; token (1,1): r = exp(0.4) > 1.2, A < 0: not clipped
    assert stats["clip_fraction"] == 0.0
    _, stats = grpo_loss(logps, old, ref, -adv, mask, return_stats=True)
    # now token (0,2) has r < 0.8 with A < 0 and token (1,1) r > 1.2 with A > 0: 2 of 5 tokens
    assert stats["clip_fraction"] == pytest.approx(2 / 5)
    assert stats["kl"] > 0


def test_unknown_names_are_rejected():
    logps, old, ref, adv, mask = tensors()
    with pytest.raises(ValueError, match="unknown divergence"):
        grpo_loss(logps, old, ref, adv, mask, divergence="wasserstein")
    with pytest.raises(ValueError, match="unknown aggregation"):
        grpo_loss(logps, old, ref, adv, mask, aggregation="sum")
