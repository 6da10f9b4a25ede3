"""Per-task evaluation of a policy on held-out problems.

Problems come from :func:`thinkgym.splits.problem_stream` with split ``"eval"``: seeds
from a stream that training never draws from, and only prompts whose hash puts them in the
held-out share, so no evaluation prompt is ever a training prompt. The same ``seed``, tasks and
``n`` give the same problems, so two policies evaluated alike are compared on the same set.

Each problem gets one greedy completion (accuracy is greedy pass@1) and, with ``samples`` K > 1,
K sampled ones (pass@k, maj@k). Episodes are played by the one episode engine,
:func:`thinkgym.agents.episodes.play`, the loop training rollouts use too: completions are
generated in batches through a :class:`Sampler`; a multi-turn env is played until its episode
ends. An episode is correct when its last step's ``info["correct"]`` is.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import asdict
from pathlib import Path
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

import thinkgym
from thinkgym.agents.episodes import Episode, Messages, Policy, Sampler, batch_seed, check_stop_strings, play
from thinkgym.agents.metrics import summarize
from thinkgym.errors import UserError
from thinkgym.prompts import R1_SYSTEM_PROMPT, build_messages
from thinkgym.splits import problem_stream

DEFAULT_MAX_NEW_TOKENS = 192
DEFAULT_BATCH_SIZE = 128
MAX_EPISODE_TURNS = 64
"""Hard stop for a multi-turn episode whose env never ends it (its own ``max_turns`` comes first)."""


@dataclass(frozen=True)
class EvalTask:
    """One env of the evaluation set: its id, the levels to draw problems from, and env options."""

    env_id: str
    difficulties: tuple[int, ...] = (1,)
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        info = thinkgym.env_info(self.env_id)  # raises UnknownEnvError (a ValueError) with a suggestion
        if not self.difficulties:
            raise UserError(f"{self.env_id}: no difficulty levels to evaluate")
        for level in self.difficulties:
            if not 1 <= level <= info.max_difficulty:
                raise UserError(f"{self.env_id}: difficulty must be in 1..{info.max_difficulty}, got {level}")


def tasks_for(env_ids: Sequence[str], difficulty: int | str) -> list[EvalTask]:
    """Eval tasks for ``env_ids`` at one ``difficulty`` or at every level (``"all"``)."""
    tasks = []
    for env_id in env_ids:
        if difficulty == "all":
            levels = tuple(range(1, thinkgym.env_info(env_id).max_difficulty + 1))
        else:
            levels = (int(difficulty),)
        tasks.append(EvalTask(env_id, levels))
    return tasks


def tasks_from_config(config: Any, difficulty: int | str | None = None) -> list[EvalTask]:
    """Eval tasks for a training config's env mix: each env at its mix level and with its
    options, unless ``difficulty`` (a level or ``"all"``) overrides the levels."""
    tasks = []
    for spec in config.mix:
        if difficulty is None:
            levels: tuple[int, ...] = (spec.difficulty,)
        else:
            (levels,) = (t.difficulties for t in tasks_for([spec.id], difficulty))
        tasks.append(EvalTask(spec.id, levels, dict(spec.kwargs)))
    return tasks


def _split_count(n: int, parts: int) -> list[int]:
    return [n // parts + (i < n % parts) for i in range(parts)]


def _make_env(task: EvalTask, level: int) -> Any:
    return thinkgym.make(task.env_id, difficulty=level, disable_env_checker=True, **dict(task.kwargs))


def eval_problems(task: EvalTask, n: int, seed: int) -> list[tuple[Any, int, list[Any]]]:
    """The held-out problems of one task: ``(env, level, refs)`` per level, ``n`` problems spread
    over its levels (``eval`` split of stream ``seed``), each level with the env that poses them.
    Every evaluation, and the chance level beside it, reads its problems from here."""
    out = []
    for level, count in zip(task.difficulties, _split_count(n, len(task.difficulties))):
        if count == 0:
            continue
        env = _make_env(task, level)
        out.append((env, level, list(itertools.islice(problem_stream(env, task.env_id, "eval", seed, level), count))))
    return out


def _episodes(task: EvalTask, n: int, samples: int, seed: int, system_prompt: str | None) -> tuple[list[Episode], list[Any]]:
    """The episodes of one task (n problems spread over its levels, greedy plus K samples each)
    and the envs opened for them. Single-turn episodes share one env per level; a multi-turn
    episode gets its own env when :meth:`Episode.open` is called."""
    episodes, envs = [], []
    multi_turn = thinkgym.env_info(task.env_id).multi_turn
    attempts = [("greedy", 0)] + ([("sample", i) for i in range(samples)] if samples > 1 else [])
    for env, _, refs in eval_problems(task, n, seed):
        envs.append(env)
        for ref in refs:
            for kind, index in attempts:
                episodes.append(
                    Episode(
                        ref, build_messages(ref.prompt, system_prompt), env=None if multi_turn else env, own_env=multi_turn,
                        max_turns=MAX_EPISODE_TURNS if multi_turn else 1, multi_turn=multi_turn, kind=kind, sample=index,
                    )
                )
    return episodes, envs


@dataclass
class EvalResult:
    results: dict[str, Any]
    records: list[dict[str, Any]]


def evaluate(
    sampler: Policy | Sampler,
    tasks: Sequence[EvalTask],
    *,
    model_name: str,
    n: int = 100,
    samples: int = 1,
    seed: int = 0,
    batch_size: int = 32,
    system_prompt: str | None = R1_SYSTEM_PROMPT,
    progress: bool = True,
) -> EvalResult:
    """Evaluate on ``n`` held-out problems per task; returns ``results.json``'s dict and the records.

    ``sampler`` is a chat :class:`Sampler` (a loaded model) or any :class:`Policy` (a served
    model: :class:`thinkgym.agents.api.ApiPolicy`)."""
    if n < 1:
        raise UserError(f"n must be >= 1, got {n}")
    if samples < 1:
        raise UserError(f"samples must be >= 1, got {samples}")
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1, got {batch_size}")
    if len({t.env_id for t in tasks}) != len(tasks):
        raise UserError("each env may appear only once in an evaluation")
    episodes: dict[str, list[Episode]] = {}
    envs: list[Any] = []
    try:
        for task in tasks:
            episodes[task.env_id], opened = _episodes(task, n, samples, seed, system_prompt)
            envs += opened
        everything = [e for task_episodes in episodes.values() for e in task_episodes]
        with tqdm(total=len(everything), desc="eval", unit="ep", disable=not progress, dynamic_ncols=True) as bar:
            # Single-turn problems of every task share batches; multi-turn episodes each hold an
            # env (maybe an engine process), so they are played in waves of one batch.
            single = [e for e in everything if not e.multi_turn]
            status = bar.set_postfix_str
            if getattr(sampler, "max_rows", None):
                # A sampler that bounds its own rows refills them as completions end: all
                # single-turn conversations go in one call, and it reports each as it ends.
                sampler.on_finish = lambda _: bar.update(1)
                try:
                    play(single, sampler, batch_size=max(1, len(single)), seed=batch_seed(seed, 0), on_batch=status)
                finally:
                    sampler.on_finish = None
            else:
                play(single, sampler, batch_size=batch_size, seed=batch_seed(seed, 0), on_done=lambda: bar.update(1), on_batch=status)
            factories = {t.env_id: functools.partial(_make_env, t) for t in tasks}
            multi = [e for e in everything if e.multi_turn]
            for start in range(0, len(multi), batch_size):
                wave, opened = multi[start : start + batch_size], []
                try:
                    for e in wave:
                        opened.append(e.open(factories[e.env_id]))
                    play(wave, sampler, batch_size=batch_size, seed=batch_seed(seed, 1, start), on_done=lambda: bar.update(1),
                         on_batch=lambda text: status(f"multi-turn {text}"))
                finally:
                    for env in opened:
                        env.close()
    finally:
        for env in envs:
            env.close()
    records = [e.record() for task_episodes in episodes.values() for e in task_episodes]
    task_results = {
        env_id: summarize([e.record() for e in task_episodes], multi_turn=thinkgym.env_info(env_id).multi_turn)
        for env_id, task_episodes in episodes.items()
    }
    accuracies = [t["accuracy"] for t in task_results.values()]
    results = {
        "model": model_name,
        "tasks": task_results,
        "mean_accuracy": sum(accuracies) / len(accuracies) if accuracies else 0.0,
    }
    return EvalResult(results, records)


def policy_sampler(
    model: Any,
    tokenizer: Any,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    response_prefix: str = "",
    autocast_dtype: Any = None,
    max_rows: int | None = None,
    stop_strings: Sequence[str] = (),
) -> ModelSampler:
    """A :class:`Sampler` over a loaded policy, with batched KV-cache generation.

    ``response_prefix`` (a training config's, e.g. ``"<think>\\n"``) opens every assistant turn:
    it is appended to the prompt tokens and put back in front of the completion text, as in
    training rollouts. ``max_rows`` bounds the rows decoded at once (continuous batching,
    :func:`thinkgym.agents.generation.generate_ids`): :func:`evaluate` then hands it every
    single-turn conversation in one call. ``stop_strings`` end a completion at the first of them
    (a training config's, e.g. ``["</answer>"]``), as in training rollouts.
    """
    return ModelSampler(model, tokenizer, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                        response_prefix=response_prefix, autocast_dtype=autocast_dtype, max_rows=max_rows, stop_strings=stop_strings)


class ModelSampler:
    """The :class:`Sampler` of :func:`policy_sampler`. ``on_finish`` (set by :func:`evaluate`
    for a progress bar) is called as each completion ends."""

    def __init__(self, model: Any, tokenizer: Any, *, max_new_tokens: int, temperature: float, top_p: float, response_prefix: str,
                 autocast_dtype: Any, max_rows: int | None, stop_strings: Sequence[str] = ()) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.stop_strings = check_stop_strings(stop_strings)
        self.max_new_tokens, self.temperature, self.top_p, self.autocast_dtype = max_new_tokens, temperature, top_p, autocast_dtype
        self.response_prefix, self.max_rows = response_prefix, max_rows
        self.prefix = list(tokenizer(response_prefix, add_special_tokens=False)["input_ids"]) if response_prefix else []
        self.on_finish: Any = None

    def __call__(self, conversations: Sequence[Messages], *, greedy: bool, seed: int) -> list[tuple[str, int]]:
        from thinkgym.agents.generation import encode_chat, generate_ids

        prompts = [encode_chat(self.tokenizer, c) + self.prefix for c in conversations]
        completions = generate_ids(
            self.model, self.tokenizer, prompts, max_new_tokens=self.max_new_tokens, temperature=self.temperature,
            top_p=self.top_p, greedy=greedy, seed=seed, autocast_dtype=self.autocast_dtype, max_rows=self.max_rows,
            on_finish=self.on_finish, stop_strings=self.stop_strings,
        )
        return [(self.response_prefix + c.text, c.num_tokens) for c in completions]


@dataclass(frozen=True)
class GenerationOptions:
    """How completions are generated during an evaluation."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    response_prefix: str = ""
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = DEFAULT_BATCH_SIZE
    device: str = "auto"
    dtype: str = "auto"
    progress: bool = True
    stop_strings: tuple[str, ...] = ()


def display_name(model: str) -> str:
    from thinkgym.agents.policy import DEFAULT_ALIASES, DEFAULT_MODEL

    return DEFAULT_MODEL if model in DEFAULT_ALIASES else model


def run_eval(
    model: str, tasks: list, *, n: int, samples: int, seed: int, out: Path, options: GenerationOptions,
    system_prompt: str | None = R1_SYSTEM_PROMPT,
) -> dict[str, Path]:
    """Load the policy, evaluate it on held-out problems and write the report; returns the paths."""
    from thinkgym.agents.policy import device_and_dtype, load_policy
    from thinkgym.agents.report import write_eval

    device, dtype = device_and_dtype(options.device, options.dtype)
    policy, tokenizer = load_policy(model, dtype=dtype, device=device)
    sampler = policy_sampler(policy, tokenizer, max_new_tokens=options.max_new_tokens, temperature=options.temperature, top_p=options.top_p,
                             response_prefix=options.response_prefix, max_rows=options.batch_size, stop_strings=options.stop_strings)
    started = time.perf_counter()
    result = evaluate(sampler, tasks, model_name=display_name(model), n=n, samples=samples, seed=seed,
                      batch_size=options.batch_size, system_prompt=system_prompt, progress=options.progress)
    settings = {
        **_settings(model, tasks, n, samples, seed, options, system_prompt), "device": str(device),
        "dtype": str(dtype).removeprefix("torch."), "seconds": round(time.perf_counter() - started, 1),
    }
    return write_eval(out, result.results, result.records, settings)


def _settings(model: str, tasks: Sequence[EvalTask], n: int, samples: int, seed: int, options: GenerationOptions,
              system_prompt: str | None) -> dict[str, Any]:
    return {
        "model": model, "tasks": [{"env_id": t.env_id, "difficulties": list(t.difficulties), "kwargs": dict(t.kwargs)} for t in tasks],
        "n": n, "samples": samples, "seed": seed, "split": "eval", **asdict(options), "system_prompt": system_prompt,
    }


def run_api_eval(
    api: Any, tasks: list, *, n: int, samples: int, seed: int, out: Path, options: GenerationOptions,
    system_prompt: str | None = R1_SYSTEM_PROMPT, resume: bool = False, client: Any = None,
) -> dict[str, Path]:
    """Evaluate a served model (``api``: :class:`thinkgym.agents.api.ApiOptions`) like
    :func:`run_eval` and write the same report, plus per-task token usage in ``results.json``.

    Responses are cached in ``out/api_cache.jsonl`` as they arrive; ``resume`` reuses that cache
    (without it, an existing cache is an error, so that two runs never mix). One short request
    is sent first, so that a bad URL, key or model fails before anything is written. ``client``
    replaces the ``openai.AsyncOpenAI`` client (tests)."""
    from thinkgym.agents.api import CACHE_FILE, ApiError, ApiPolicy, ResponseCache
    from thinkgym.agents.report import write_eval

    cache_path = Path(out) / CACHE_FILE
    if cache_path.exists() and not resume:
        raise ApiError(f"{out} already holds {CACHE_FILE} from an earlier evaluation: pass --resume to continue it, or choose another --out")
    policy = ApiPolicy(api, max_new_tokens=options.max_new_tokens, temperature=options.temperature, top_p=options.top_p,
                       response_prefix=options.response_prefix, stop_strings=options.stop_strings, cache=ResponseCache(cache_path), client=client)
    try:
        if not policy.cache.entries:
            policy.check(build_messages("Reply with OK.", system_prompt))
        started = time.perf_counter()
        result = evaluate(policy, tasks, model_name=api.model, n=n, samples=samples, seed=seed, batch_size=options.batch_size,
                          system_prompt=system_prompt, progress=options.progress)
        seconds = time.perf_counter() - started
    finally:
        policy.close()
    totals = {k: 0 for k in ("requests", "cached", "prompt_tokens", "completion_tokens")}
    for env_id, task in result.results["tasks"].items():
        task["usage"] = dict(policy.usage.get(env_id, totals))
        for k in totals:
            totals[k] += task["usage"][k]
    result.results["usage"] = totals
    settings = {**_settings(api.model, tasks, n, samples, seed, options, system_prompt), **api.settings(), "resumed": resume,
                "seconds": round(seconds, 1), "problems_per_second": round(sum(t["n"] for t in result.results["tasks"].values()) / max(seconds, 1e-9), 2)}
    for local_only in ("device", "dtype"):
        settings.pop(local_only, None)
    return write_eval(out, result.results, result.records, settings)
