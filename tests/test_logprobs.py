"""The shared-prefix forward gives the same log-probs and gradients as padded full sequences,
and generation prefills a repeated prompt once without changing what is sampled."""

import pytest
import torch

from thinkgym.agents.generation import generate_ids
from thinkgym.agents.logprobs import shared_prefix_batch
from thinkgym.agents.policy import load_policy
from thinkgym.agents.episodes import Episode
from thinkgym.agents.trainer import prepare_micro_batch, token_logps


def _episodes(prompts: list[list[int]], replies: list[list[list[int]]]) -> list[Episode]:
    """Single- and multi-turn shaped episodes: ``replies`` per prompt, each a list of segments
    alternating model tokens (mask 1) and env text (mask 0)."""
    episodes = []
    for group, (prompt, group_replies) in enumerate(zip(prompts, replies)):
        for segments in group_replies:
            ids, mask = list(prompt), [0] * len(prompt)
            for index, segment in enumerate(segments):
                ids += segment
                mask += [1 - index % 2] * len(segment)
            episodes.append(Episode(None, [], group=group, token_ids=ids, mask=mask))
    return episodes


def _selected(logps: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
    return [row[m.bool()] for row, m in zip(logps, mask)]


def test_shared_prefix_matches_padded_sequences(tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    pad = tokenizer.pad_token_id or tokenizer.eos_token_id
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]
    replies = [[[[20, 21, 22]], [[23]], [[24, 25, 26, 27, 28]]], [[[30, 31], [40, 41, 42], [32, 33]], [[34, 35, 36]]]]
    episodes = _episodes(prompts, replies)
    advantages = torch.arange(len(episodes), dtype=torch.float32)

    padded = prepare_micro_batch(episodes, advantages, tokenizer)
    shared = shared_prefix_batch(episodes, advantages, pad)
    assert shared["prefix_ids"].shape[0] == 2  # one prefix row per distinct prompt
    assert shared["mask"].sum() == padded["mask"].sum() == sum(e.completion_tokens for e in episodes)

    grads = []
    values = []
    for m in (padded, shared):
        model.zero_grad()
        logps, entropy = token_logps(model, m, None, with_entropy=True)
        selected = _selected(logps, m["mask"])
        torch.cat(selected).sum().backward()
        values.append((selected, entropy))
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(values[0][0], values[1][0]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert values[0][1] == pytest.approx(values[1][1], rel=1e-4)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-3)


def test_repeated_prompts_sample_as_when_prefilled_apart(tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    prompts = [[5, 6, 7, 8]] * 3 + [[9, 10]] * 3
    together = generate_ids(model, tokenizer, prompts, max_new_tokens=6, greedy=True)
    apart = [generate_ids(model, tokenizer, [p], max_new_tokens=6, greedy=True)[0] for p in prompts]
    assert [c.completion_ids for c in together] == [c.completion_ids for c in apart]
    sampled = generate_ids(model, tokenizer, prompts, max_new_tokens=6, seed=3)
    assert [c.completion_ids for c in sampled] == [c.completion_ids for c in generate_ids(model, tokenizer, prompts, max_new_tokens=6, seed=3)]


@pytest.mark.parametrize("share_prefix", [True, False], ids=["shared-prefix", "padded"])
def test_bf16_reference_gives_the_log_probs_of_autocast_over_fp32_weights(tiny_model_dir, share_prefix):
    """The frozen reference stores its linear weights in bf16 (no cast per forward): its
    log-probs under autocast are exactly those of a float32 copy under autocast, and the
    embedding stays float32 (untied from the output projection)."""
    import copy

    from thinkgym.agents.run import frozen_reference

    model, tokenizer = load_policy(str(tiny_model_dir))
    episodes = _episodes([[5, 6, 7, 8, 9, 10], [11, 12, 13]], [[[[20, 21, 22]], [[23, 24]]], [[[30, 31, 32]]]])
    m = prepare_micro_batch(episodes, torch.zeros(len(episodes)), tokenizer, share_prefix)
    plain = copy.deepcopy(model).eval().requires_grad_(False)
    frozen = frozen_reference(model, torch.bfloat16)
    assert frozen.lm_head.weight.dtype == torch.bfloat16 and frozen.model.layers[0].mlp.up_proj.weight.dtype == torch.bfloat16
    assert frozen.model.embed_tokens.weight.dtype == torch.float32
    assert model.lm_head.weight.dtype == torch.float32 and model.lm_head.weight is model.model.embed_tokens.weight  # the policy is untouched
    with torch.no_grad():
        expected, _ = token_logps(plain, m, torch.bfloat16)
        got, _ = token_logps(frozen, m, torch.bfloat16)
    assert torch.equal(expected, got)
    assert frozen_reference(model, None).lm_head.weight.dtype == torch.float32
