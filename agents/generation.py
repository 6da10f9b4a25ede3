"""Batched sampling with the KV cache, for training rollouts and evaluation.

``generate(model, tokenizer, messages_batch, max_new_tokens=...)`` renders each chat (a list of
``{"role", "content"}`` messages) with the tokenizer's chat template, left-pads the batch, runs
one prefill and then one forward per new token over the rows that are still running (for a
plain Llama, :mod:`thinkgym.agents.fast_decode`'s step over gathered weights): a row
stops at the first stop token (the tokenizer's EOS and the model's generation-config EOS ids),
or at the first of the caller's stop strings (``"</answer>"``: nothing after the answer is read),
and is removed from the batch and the cache, so finished sequences cost nothing. Identical
prompts (a GRPO group's G copies) are prefilled once and share their cache rows, and a prefix
common to all prompts (an evaluation batch's system prompt) is prefilled once for all of them.
New keys and values are written into a cache reserved for ``max_new_tokens`` more positions.
``generate_ids`` does the same from token ids (multi-turn rollouts extend a conversation's ids).

The policy is not changed: it runs in eval mode under ``torch.no_grad`` and is put back in its
previous mode. Sampling uses a private ``torch.Generator``, so ``seed`` makes a call
reproducible without touching the global RNG.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from thinkgym.agents.episodes import check_stop_strings, first_stop
from thinkgym.agents.fast_decode import llama_step
from thinkgym.errors import UserError


@dataclass
class Completion:
    """One sampled completion.

    ``completion_ids`` are the sampled tokens, including the stop token when the model produced
    one (that token is trained too: it is how the policy learns to stop); ``text`` is their
    decoding without the stop token and special tokens.
    """

    text: str
    prompt_ids: list[int]
    completion_ids: list[int]
    truncated: bool
    """True when ``max_new_tokens`` ran out before a stop token or stop string."""
    stop_string: str | None = None
    """The stop string that ended the completion: ``text`` ends with it (anything its last token
    carried past it is cut from ``text``, not from ``completion_ids``); None when a stop token
    or the budget ended it."""

    @property
    def num_tokens(self) -> int:
        return len(self.completion_ids)


def encode_chat(tokenizer: Any, messages: Sequence[dict[str, str]]) -> list[int]:
    """Token ids of ``messages`` rendered with the chat template, ending with the assistant
    generation prompt."""
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokenizer's EOS and the ids the model's generation config lists as EOS."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if gen_eos is not None:
        ids.update([gen_eos] if isinstance(gen_eos, int) else gen_eos)
    if not ids:
        raise UserError("the tokenizer has no EOS token and the model's generation config names none")
    return sorted(ids)


def generate(
    model: Any,
    tokenizer: Any,
    messages_batch: Sequence[Sequence[dict[str, str]]],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    greedy: bool = False,
    seed: int | None = None,
    autocast_dtype: torch.dtype | None = None,
    stop_strings: Sequence[str] = (),
) -> list[Completion]:
    """Sample one completion per chat in ``messages_batch`` (see the module docstring).

    ``greedy`` takes the most likely token (``temperature`` and ``top_p`` are then ignored);
    ``autocast_dtype`` (e.g. ``torch.bfloat16``) runs the forwards under autocast.
    """
    prompts = [encode_chat(tokenizer, messages) for messages in messages_batch]
    return generate_ids(
        model,
        tokenizer,
        prompts,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        greedy=greedy,
        seed=seed,
        autocast_dtype=autocast_dtype,
        stop_strings=stop_strings,
    )


@torch.no_grad()
def generate_ids(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    greedy: bool = False,
    seed: int | None = None,
    autocast_dtype: torch.dtype | None = None,
    max_rows: int | None = None,
    on_finish: Callable[[int], None] | None = None,
    stop_strings: Sequence[str] = (),
) -> list[Completion]:
    """Sample one completion per prompt, given as token ids (no padding).

    ``max_rows`` bounds the rows decoded at once (continuous batching): the other prompts wait,
    and as rows finish, waiting prompts are prefilled and take their places in the batch and
    the cache, so that a long completion does not hold a batch of short ones back; only the
    last rows run with a shrinking batch. ``None``: every prompt at once. ``on_finish`` is called
    with a prompt's index as its completion ends (a progress display). ``stop_strings`` (e.g.
    ``["</answer>"]``) also end a row, as soon as its decoded text contains one of them (see
    :attr:`Completion.stop_string`); only rows whose new token can complete one are decoded."""
    if max_new_tokens < 1:
        raise UserError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if not greedy and temperature <= 0:
        raise UserError(f"temperature must be > 0 (or use greedy=True), got {temperature}")
    if not 0 < top_p <= 1:
        raise UserError(f"top_p must be in (0, 1], got {top_p}")
    if max_rows is not None and max_rows < 1:
        raise UserError(f"max_rows must be >= 1, got {max_rows}")
    stop_strings = check_stop_strings(stop_strings)
    if not prompt_ids:
        return []
    if any(len(p) == 0 for p in prompt_ids):
        raise ValueError("every prompt needs at least one token")
    device = next(model.parameters()).device
    stops = torch.tensor(stop_token_ids(model, tokenizer), device=device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else int(stops[0])
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed) if seed is not None else int(torch.randint(2**62, ()).item()))

    batch = len(prompt_ids)
    rows = batch if max_rows is None else min(batch, max_rows)
    # Prompts that open alike (the system prompt of an evaluation) prefill that common prefix
    # once; its keys and values are copied into every prompt's cache rows.
    distinct_all = list(dict.fromkeys(tuple(p) for p in prompt_ids))
    common = _common_prefix(distinct_all) if len(distinct_all) > 1 else 0
    if common < MIN_SHARED_PREFIX:
        common = 0
    autocasting = autocast_dtype is not None and autocast_dtype != torch.float32
    cache_dtype = autocast_dtype if autocasting else None
    cache_kw = _cache_keyword(model)

    def prefill(indices: Sequence[int], reserve: int) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """A cache with the prompts ``indices`` (left-padded after the shared prefix), the logits
        of their last positions, their attention rows and positions."""
        # A GRPO group repeats its prompt G times: prefill each distinct prompt once, then copy
        # its cache rows (``expand``: row of the batch -> row of the prefill).
        distinct: dict[tuple[int, ...], int] = {}
        expand = torch.tensor([distinct.setdefault(tuple(prompt_ids[i]), len(distinct)) for i in indices], device=device)
        unique = list(distinct)
        width = max(len(p) for p in unique) - common
        input_ids = torch.full((len(unique), width), pad_id, dtype=torch.long, device=device)  # (U, P), left-padded
        attention = torch.zeros((len(unique), width), dtype=torch.long, device=device)
        for row, ids in enumerate(unique):
            input_ids[row, width - len(ids) + common :] = torch.tensor(list(ids[common:]), dtype=torch.long)
            attention[row, width - len(ids) + common :] = 1
        positions = common + (attention.cumsum(-1) - 1).clamp(min=0)  # (U, P): padding does not shift positions
        attention = torch.cat([attention.new_ones((len(unique), common)), attention], dim=-1)  # (U, C + P)
        cache = _reserved_cache(reserve, cache_dtype)
        for index, (keys, values) in enumerate(shared_kv):
            cache.update(keys.expand(len(unique), -1, -1, -1), values.expand(len(unique), -1, -1, -1), index)
        out = model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True, logits_to_keep=1, **{cache_kw: cache})
        logits = out.logits[:, -1]  # (U, V)
        if len(unique) < len(indices):
            cache.batch_select_indices(expand)
            logits, attention, positions = logits[expand], attention[expand], positions[expand]
        return cache, logits, attention, positions[:, -1]

    new_tokens: list[list[int]] = [[] for _ in range(batch)]
    finished = [False] * batch
    cut: dict[int, tuple[str, str]] = {}  # row -> (text up to its stop string, the stop string)
    watch = _completing_tokens(tokenizer, stop_strings, device) if stop_strings else None
    was_training = model.training
    model.eval()
    step_fn = llama_step(model, cache_dtype) if FAST_DECODE else None
    try:
        with _autocast(device, autocast_dtype):
            shared_kv: list[tuple[torch.Tensor, torch.Tensor]] = []
            if common:
                shared = torch.tensor([distinct_all[0][:common]], dtype=torch.long, device=device)  # (1, C)
                prefix_cache = _reserved_cache(0, cache_dtype)
                model(input_ids=shared, position_ids=torch.arange(common, device=device)[None], use_cache=True, logits_to_keep=1, **{cache_kw: prefix_cache})
                shared_kv = [(layer.keys, layer.values) for layer in prefix_cache.layers]
            cache, logits, attention, last_pos = prefill(range(rows), max_new_tokens)
            waiting = collections.deque(range(rows, batch))  # prompts not yet in the batch
            slot_row = list(range(rows))  # the prompt each row of the batch decodes; -1: finished, free
            refill_at = max(1, rows // REFILL_FRACTION)
            queued = rows < batch
            while True:
                token = _sample(logits.float(), temperature, top_p, greedy, generator)  # (A,)
                done = torch.isin(token, stops)
                if watch is not None:  # rows whose new token may complete a stop string
                    could = token >= len(watch)
                    could |= watch[token.clamp(max=len(watch) - 1)]
                    candidates = could.tolist()
                for slot, (row, tok, stop) in enumerate(zip(slot_row, token.tolist(), done.tolist())):
                    if row < 0:
                        continue
                    new_tokens[row].append(tok)
                    if watch is not None and not stop and candidates[slot]:
                        text = tokenizer.decode(new_tokens[row], skip_special_tokens=True)
                        found = first_stop(text, stop_strings)
                        if found is not None:
                            cut[row] = (text[: found[0]], found[1])
                            stop = True
                    finished[row] = stop
                    if stop or len(new_tokens[row]) == max_new_tokens:
                        slot_row[slot] = -1
                        if on_finish is not None:
                            on_finish(row)
                live = [slot for slot, row in enumerate(slot_row) if row >= 0]
                if not live and not waiting:
                    break
                if not waiting and len(live) < len(slot_row):  # drop finished rows from the batch and the cache
                    index = torch.tensor(live, device=device)
                    cache.batch_select_indices(index)
                    token, attention, last_pos = token[index], attention[index], last_pos[index]
                    slot_row = [slot_row[slot] for slot in live]
                    live = list(range(len(slot_row)))
                if live:
                    attention = torch.cat([attention, attention.new_ones((len(slot_row), 1))], dim=-1)
                    last_pos = last_pos + 1
                    if step_fn is not None:
                        logits = step_fn(token, last_pos, attention, cache)
                    else:
                        out = model(
                            input_ids=token[:, None],
                            attention_mask=attention,
                            position_ids=last_pos[:, None],
                            use_cache=True,
                            **{cache_kw: cache},
                        )
                        logits = out.logits[:, -1]
                free = [slot for slot, row in enumerate(slot_row) if row < 0]
                if waiting and (len(free) >= refill_at or not live):
                    admitted = [waiting.popleft() for _ in range(min(len(free), len(waiting)))]
                    slots = free[: len(admitted)]
                    added, added_logits, added_attention, added_pos = prefill(admitted, 0)
                    length, added_length = attention.shape[-1], added_attention.shape[-1]
                    if added_length > length:  # room on the left for the longer prompts
                        _pad_left(cache, added_length - length)
                        attention = torch.cat([attention.new_zeros((len(slot_row), added_length - length)), attention], dim=-1)
                        length = added_length
                    index = torch.tensor(slots, device=device)
                    _place(cache, added, index)
                    attention[index] = torch.cat([attention.new_zeros((len(slots), length - added_length)), added_attention], dim=-1)
                    last_pos = last_pos.clone()
                    last_pos[index] = added_pos
                    logits = logits.clone()
                    logits[index] = added_logits.to(logits.dtype)
                    for slot, row in zip(slots, admitted):
                        slot_row[slot] = row
                    live += slots
                if queued:
                    # Columns no running row attends (finished rows' prompts) are cut off the left.
                    first = int(attention[torch.tensor(live, device=device)].any(0).long().argmax())
                    if first:
                        _drop_left(cache, first)
                        attention = attention[:, first:]
    finally:
        model.train(was_training)

    completions = []
    for row in range(batch):
        ids = new_tokens[row]
        if row in cut:
            text, stop_string = cut[row]
        else:
            text_ids = ids[:-1] if finished[row] else ids
            text, stop_string = tokenizer.decode(text_ids, skip_special_tokens=True), None
        completions.append(Completion(text, list(prompt_ids[row]), ids, truncated=not finished[row], stop_string=stop_string))
    return completions


_COMPLETING: "weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], torch.Tensor]]" = weakref.WeakKeyDictionary()


def _completing_tokens(tokenizer: Any, stop_strings: tuple[str, ...], device: torch.device) -> torch.Tensor:
    """A boolean mask over the tokenizer's ids: the tokens that can complete one of
    ``stop_strings``, i.e. whose text holds a stop string's last character (or a replacement
    character: a token that is part of a multi-byte character decodes alone to one). Computed
    once per tokenizer and set of stop strings (0.4 s for a 49k vocabulary)."""
    key = tuple(sorted(set(stop_strings)))
    try:
        per_tokenizer = _COMPLETING.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: no cache
        per_tokenizer = {}
    if key not in per_tokenizer:
        last = {stop[-1] for stop in key}
        if any(ord(ch) > 127 for ch in last):
            last.add("\ufffd")
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        per_tokenizer[key] = torch.tensor([any(ch in text for ch in last) for text in texts], dtype=torch.bool)
    return per_tokenizer[key].to(device)


FAST_DECODE = True
"""Decode plain Llama models with :func:`thinkgym.agents.fast_decode.llama_step` (the same
numbers as ``model(...)``, faster on a CPU: README, Performance); False: always ``model(...)``."""

MIN_SHARED_PREFIX = 16
"""Prompts of a batch whose common prefix is at least this long prefill it once."""

REFILL_FRACTION = 8
"""With ``max_rows``, waiting prompts are prefilled once an eighth of the rows are free (a
prefill of several prompts at once costs about as much as one), or when none is running."""


def _common_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """The length of the longest common prefix of ``prompts``, short of the shortest prompt's
    last token (every row keeps a token to prefill on its own)."""
    first, shortest = prompts[0], min(len(p) for p in prompts)
    length = shortest - 1
    for other in prompts[1:]:
        n = 0
        while n < length and other[n] == first[n]:
            n += 1
        length = n
    return length


def _sample(logits: torch.Tensor, temperature: float, top_p: float, greedy: bool, generator: torch.Generator) -> torch.Tensor:
    """One token per row of ``logits`` (A, V), by inverse transform: one uniform number per row
    against the cumulative probabilities (``torch.multinomial`` draws an exponential variate for
    every vocabulary entry: 13 ms a step for 16 x 49k on one core)."""
    if greedy:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)  # (A, V)
    order = None
    if top_p < 1.0:  # nucleus: keep the smallest set of tokens whose mass reaches top_p
        probs, order = probs.sort(dim=-1, descending=True)
        probs = probs.masked_fill(probs.cumsum(-1) - probs > top_p, 0.0)
    cdf = probs.cumsum(-1)  # (A, V)
    u = torch.rand((len(cdf), 1), generator=generator, device=cdf.device, dtype=cdf.dtype) * cdf[:, -1:]
    # The first index whose cumulative mass exceeds u: a token of probability 0 never has one.
    token = torch.searchsorted(cdf, u, right=True).clamp_(max=cdf.shape[-1] - 1)  # (A, 1)
    if order is not None:
        token = order.gather(-1, token)
    return token.squeeze(-1)


@functools.cache
def _reserved_layer_class() -> type:
    from transformers.cache_utils import DynamicLayer

    class ReservedLayer(DynamicLayer):
        """A KV-cache layer whose keys and values live in buffers with room for ``reserve``
        more positions after the prefill: each new token is written in place instead of the
        whole cache being concatenated anew (``DynamicLayer``), which moved O(T^2) bytes.
        With ``dtype`` (the autocast dtype, which attention casts keys and values to anyway)
        they are stored in that dtype: cast once per token, not once per token and layer for
        the whole cache."""

        def __init__(self, reserve: int, dtype: torch.dtype | None = None) -> None:
            super().__init__()
            self.reserve, self.dtype, self.length = reserve, dtype, 0

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
                self._keys = key_states[..., :0, :].to(self.dtype or key_states.dtype)  # (B, H, 0, D), grown below
                self._values = value_states[..., :0, :].to(self.dtype or value_states.dtype)
            start, end = self.length, self.length + key_states.shape[-2]
            if end > self._keys.shape[-2]:  # (B, H, capacity, D): grow once, with room to spare
                room = end + self.reserve
                self._keys = torch.cat([self._keys[..., :start, :], self._keys.new_empty((*key_states.shape[:-2], room - start, key_states.shape[-1]))], dim=-2)
                self._values = torch.cat([self._values[..., :start, :], self._values.new_empty((*value_states.shape[:-2], room - start, value_states.shape[-1]))], dim=-2)
            self._keys[..., start:end, :] = key_states
            self._values[..., start:end, :] = value_states
            self.length = end
            self.keys, self.values = self._keys[..., :end, :], self._values[..., :end, :]
            return self.keys, self.values

        def pad_left(self, n: int) -> None:
            """Put ``n`` empty positions before the stored ones."""
            shape = (*self._keys.shape[:-2], n + self.length + self.reserve, self._keys.shape[-1])
            keys, values = self._keys.new_zeros(shape), self._values.new_zeros(shape)
            keys[..., n : n + self.length, :], values[..., n : n + self.length, :] = self.keys, self.values
            self._keys, self._values, self.length = keys, values, n + self.length
            self.keys, self.values = self._keys[..., : self.length, :], self._values[..., : self.length, :]

        def drop_left(self, n: int) -> None:
            """Forget the first ``n`` positions (a view: nothing is copied)."""
            self._keys, self._values, self.length = self._keys[..., n:, :], self._values[..., n:, :], self.length - n
            self.keys, self.values = self._keys[..., : self.length, :], self._values[..., : self.length, :]

        def place(self, rows: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> None:
            """Overwrite the last positions of the batch rows ``rows`` with ``keys`` and ``values``
            ``(len(rows), H, n, D)``: a newly prefilled prompt takes a finished row's place."""
            n = keys.shape[-2]
            self._keys[rows, :, self.length - n : self.length] = keys.to(self._keys.dtype)
            self._values[rows, :, self.length - n : self.length] = values.to(self._values.dtype)

        def batch_select_indices(self, indices: torch.Tensor) -> None:
            if self.length:
                self._keys, self._values = self._keys[indices], self._values[indices]
                self.keys, self.values = self._keys[..., : self.length, :], self._values[..., : self.length, :]

    return ReservedLayer


def _reserved_cache(reserve: int, dtype: torch.dtype | None = None) -> Any:
    """A ``DynamicCache`` made of :func:`_reserved_layer_class` layers (generation only: the
    in-place writes are not differentiable)."""
    from transformers import DynamicCache

    cache = DynamicCache()
    cache.layer_class_to_replicate = functools.partial(_reserved_layer_class(), reserve, dtype)
    return cache


def _pad_left(cache: Any, n: int) -> None:
    for layer in cache.layers:
        layer.pad_left(n)


def _drop_left(cache: Any, n: int) -> None:
    for layer in cache.layers:
        layer.drop_left(n)


def _place(cache: Any, added: Any, rows: torch.Tensor) -> None:
    """Copy ``added``'s cache rows into ``cache``'s batch rows ``rows``, right-aligned."""
    for layer, new in zip(cache.layers, added.layers):
        layer.place(rows, new.keys, new.values)


def _cache_keyword(model: Any) -> str:
    """transformers 5 renames ``past_key_values`` to ``cache``; use whichever the model takes."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft wraps with **kwargs
    forward = getattr(base, "forward", None)
    try:
        return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"
    except (TypeError, ValueError):
        return "past_key_values"


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager[Any]:
    if dtype is None or dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
