"""Policy loading and batched generation, on the tiny model (same tokenizer as the default)."""

from __future__ import annotations

import pytest
import torch

from thinkgym.agents.checkpoint import write_checkpoint
from thinkgym.agents.generation import encode_chat, generate, generate_ids
from thinkgym.agents.policy import load_policy
from thinkgym.prompts import build_messages


def test_load_tiny_model_has_chat_template(tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    assert tokenizer.chat_template
    assert tokenizer.padding_side == "left"
    assert next(model.parameters()).dtype == torch.float32
    assert "<|im_start|>assistant" in tokenizer.decode(encode_chat(tokenizer, build_messages("2+2?")))


def test_missing_path_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_policy(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="not a model directory"):
        load_policy(str(tmp_path))


def test_model_without_chat_template_is_refused(tiny_model_dir, tmp_path):
    model, tokenizer = load_policy(str(tiny_model_dir))
    tokenizer.chat_template = None
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(ValueError, match="chat template"):
        load_policy(str(tmp_path))


def test_run_directory_resolves_to_latest_checkpoint(tiny_model_dir, tmp_path):
    model, tokenizer = load_policy(str(tiny_model_dir))

    def save(marker: float):
        def write(folder):
            with torch.no_grad():
                model.model.norm.weight.fill_(marker)
            model.save_pretrained(folder / "model")
            tokenizer.save_pretrained(folder / "model")

        return write

    write_checkpoint(tmp_path, 1, save(1.0), keep=2)
    write_checkpoint(tmp_path, 2, save(2.0), keep=2)
    (tmp_path / "checkpoints" / ".tmp-step-000003").mkdir()  # an interrupted write is ignored
    loaded, _ = load_policy(str(tmp_path))
    assert torch.all(loaded.model.norm.weight == 2.0)


def test_generation_matches_unbatched_greedy_and_stops(tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    chats = [build_messages("What is 2+2?"), build_messages("Name a long, long river in a sentence or two.")]
    batched = generate(model, tokenizer, chats, max_new_tokens=12, greedy=True)
    for chat, completion in zip(chats, batched):
        alone = generate(model, tokenizer, [chat], max_new_tokens=12, greedy=True)[0]
        assert alone.completion_ids == completion.completion_ids  # left padding does not change results
        ids = torch.tensor([completion.prompt_ids])
        reference = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False)
        assert reference[0, ids.shape[1] :].tolist() == completion.completion_ids
        assert completion.num_tokens <= 12
        assert completion.truncated == (tokenizer.eos_token_id not in completion.completion_ids)


def test_sampling_is_seeded_and_respects_stop_tokens(tiny_model_dir):
    model, tokenizer = load_policy(str(tiny_model_dir))
    prompts = [[1, 2, 3], [4, 5]]
    first = generate_ids(model, tokenizer, prompts, max_new_tokens=8, seed=3)
    again = generate_ids(model, tokenizer, prompts, max_new_tokens=8, seed=3)
    assert [c.completion_ids for c in first] == [c.completion_ids for c in again]
    # Make EOS the only likely token: every row stops after one token.
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[tokenizer.eos_token_id] = 10.0
    model.lm_head = head
    stopped = generate_ids(model, tokenizer, prompts, max_new_tokens=8, greedy=True)
    assert [c.completion_ids for c in stopped] == [[tokenizer.eos_token_id]] * 2
    assert all(not c.truncated and c.text == "" for c in stopped)
