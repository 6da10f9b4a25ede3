"""``thinkgym eval``, ``thinkgym compare`` and ``thinkgym plot``: measure a policy, compare two
measurements, and draw a run's training curves.

``thinkgym eval --model PATH_OR_NAME (--envs ID [ID ...] | --mix configs/X.yaml) [--n 100]
[--difficulty D|all] [--samples K] [--seed S] [--out DIR]`` evaluates on held-out problems
(see :mod:`thinkgym.agents.evaluate`) and writes the report files of
:mod:`thinkgym.agents.report` into DIR.

``thinkgym eval --api-base URL --model NAME [--api-key-env VAR] [--concurrency N] [--resume]
...`` evaluates a served model through an OpenAI-compatible chat-completions API instead (see
:mod:`thinkgym.agents.api`): the same problems, prompts and report, plus token usage.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from thinkgym.agents.cli import CLIError
from thinkgym.agents.evaluate import (  # noqa: F401  (library code; re-exported from here for old imports)
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    GenerationOptions,
    display_name,
    run_eval,
)
from thinkgym.prompts import R1_SYSTEM_PROMPT


def __getattr__(name: str) -> object:
    if name == "device_and_dtype":  # moved to thinkgym.agents.policy; imported lazily (torch)
        from thinkgym.agents.policy import device_and_dtype

        return device_and_dtype
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a policy per task on held-out problems")
    p.add_argument("--model", default="default", help="model name, model/run/checkpoint directory (default: the embedded SmolLM2-135M-Instruct); with --api-base, the served model's name")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--envs", nargs="+", metavar="ID", help="env ids to evaluate on")
    which.add_argument("--mix", metavar="CONFIG", help="a training config: evaluate on its env mix (its levels, unless --difficulty)")
    p.add_argument("--n", type=int, default=100, help="held-out problems per env (default 100)")
    p.add_argument("--difficulty", default=None, help="a level, or 'all' to spread the n problems over every level (default: 1, or the mix's levels)")
    p.add_argument("--samples", type=int, default=1, help="K sampled answers per problem for pass@k and maj@k (default 1: greedy only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out problem stream (default 0)")
    p.add_argument("--out", help="output directory (default runs/eval/<model>-<time>)")
    add_generation_args(p)
    api = p.add_argument_group("served model (OpenAI-compatible API)")
    api.add_argument("--api-base", metavar="URL", help="evaluate the model served at this API root (e.g. http://127.0.0.1:8000/v1) instead of loading one; --model is then its served name")
    api.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key (default: OPENAI_API_KEY when set, else none)")
    api.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (default 8)")
    api.add_argument("--request-timeout", type=float, default=300.0, help="seconds per request before it is retried (default 300)")
    api.add_argument("--max-retries", type=int, default=6, help="retries of a request on 429, 5xx, timeouts and dropped connections, with exponential backoff (default 6)")
    api.add_argument("--prefix-mode", choices=("continue", "prepend"), default="continue",
                     help="how --response-prefix is sent: continue = as an assistant message the server continues (vLLM, SGLang); "
                          "prepend = only put in front of each answer, unseen by the model (transformers serve, hosted APIs)")
    api.add_argument("--resume", action="store_true", help="continue an interrupted evaluation in --out from its response cache")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("compare", help="per-task before/after table and chart of two evaluations")
    p.add_argument("before", help="an evaluation directory (or its results.json)")
    p.add_argument("after", help="another evaluation directory")
    p.add_argument("--out", help="where to write compare.md and compare.png (default: the AFTER directory)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("plot", help="draw a training run's curves as PNG files")
    p.add_argument("run_dir", help="a `thinkgym train` run directory")
    p.add_argument("--out", help="output directory (default RUN_DIR/plots)")
    p.set_defaults(func=cmd_plot)


def add_generation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"conversations decoded at once; a finished one is replaced by a waiting one (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--max-new-tokens", type=int, help=f"per turn (default {DEFAULT_MAX_NEW_TOKENS}, or the --mix config's)")
    p.add_argument("--response-prefix", help="text that opens every answer, e.g. '<think>\\n' (\\n: a newline; default: none, or the --mix config's)")
    p.add_argument("--stop", action="append", metavar="TEXT", help="end each answer at the first TEXT, kept in the answer, e.g. '</answer>' (repeatable; default: none, or the --mix config's stop_strings)")
    p.add_argument("--temperature", type=float, default=1.0, help="for the K samples (default 1.0)")
    p.add_argument("--top-p", type=float, default=1.0, help="for the K samples (default 1.0)")
    p.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, cuda:1, ...")
    p.add_argument("--dtype", choices=("auto", "fp32", "bf16"), default="auto", help="weights: auto = bf16 where the hardware is fast at it")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_difficulty(value: str | None) -> int | str | None:
    if value is None or value == "all":
        return value
    try:
        return int(value)
    except ValueError:
        raise CLIError(f"--difficulty must be a level (1, 2, ...) or 'all', got {value!r}") from None


def generation_options(args: argparse.Namespace) -> GenerationOptions:
    """The :class:`GenerationOptions` of the generation flags (see :func:`add_generation_args`)."""
    max_new_tokens = DEFAULT_MAX_NEW_TOKENS if args.max_new_tokens is None else args.max_new_tokens
    for name, value in (("batch-size", args.batch_size), ("max-new-tokens", max_new_tokens)):
        if value < 1:
            raise CLIError(f"--{name} must be >= 1, got {value}")
    prefix = (args.response_prefix or "").replace("\\n", "\n")  # '<think>\n' typed in a shell
    stops = tuple(stop.replace("\\n", "\n") for stop in args.stop or ())
    if any(not stop for stop in stops):
        raise CLIError("--stop needs non-empty text")
    return GenerationOptions(max_new_tokens, prefix, args.temperature, args.top_p, args.batch_size, args.device,
                             args.dtype, not args.no_progress, stops)


def default_out(model_name: str) -> Path:
    stem = Path(model_name.rstrip("/")).name or "model"
    return Path("runs") / "eval" / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def cmd_eval(args: argparse.Namespace) -> int:
    from thinkgym.agents.evaluate import tasks_for

    for name in ("n", "samples"):
        if getattr(args, name) < 1:
            raise CLIError(f"--{name} must be >= 1, got {getattr(args, name)}")
    options = generation_options(args)
    difficulty = parse_difficulty(args.difficulty)
    system_prompt: str | None = R1_SYSTEM_PROMPT
    if args.mix:
        from thinkgym.agents.config import load_config
        from thinkgym.agents.evaluate import tasks_from_config

        config = load_config(args.mix)
        tasks, system_prompt = tasks_from_config(config, difficulty), config.system_prompt
        if args.response_prefix is None:
            options = replace(options, response_prefix=config.response_prefix)
        if args.max_new_tokens is None:
            options = replace(options, max_new_tokens=config.max_new_tokens)
        if args.stop is None:
            options = replace(options, stop_strings=tuple(config.stop_strings))
    else:
        tasks = tasks_for(args.envs, difficulty or 1)
    out = Path(args.out) if args.out else default_out(args.model)
    if args.api_base:
        from thinkgym.agents.api import ApiOptions
        from thinkgym.agents.evaluate import run_api_eval

        if args.resume and not args.out:
            raise CLIError("--resume needs --out: the directory of the evaluation to continue")
        api = ApiOptions(args.api_base, args.model, args.api_key_env, args.concurrency, args.request_timeout, args.max_retries, args.prefix_mode)
        paths = run_api_eval(api, tasks, n=args.n, samples=args.samples, seed=args.seed, out=out, options=options,
                             system_prompt=system_prompt, resume=args.resume)
    else:
        if args.resume:
            raise CLIError("--resume continues a served-model evaluation: it needs --api-base")
        paths = run_eval(args.model, tasks, n=args.n, samples=args.samples, seed=args.seed, out=out, options=options, system_prompt=system_prompt)
    print(paths["table"].read_text(encoding="utf-8"))
    print(f"report: {paths['table']}\nresults: {paths['results']}\nchart: {paths['chart']}\ncompletions: {paths['completions']}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from thinkgym.agents.report import compare_chart, compare_table, load_outcomes, load_results

    before, after = load_results(args.before), load_results(args.after)
    out = Path(args.out) if args.out else (Path(args.after) if Path(args.after).is_dir() else Path(args.after).parent)
    out.mkdir(parents=True, exist_ok=True)
    table = compare_table(before, after, outcomes=(load_outcomes(args.before), load_outcomes(args.after)))
    (out / "compare.md").write_text(table, encoding="utf-8")
    compare_chart(before, after, out / "compare.png")
    print(table)
    print(f"table: {out / 'compare.md'}\nchart: {out / 'compare.png'}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from thinkgym.agents.curves import plot_run

    for path in plot_run(args.run_dir, args.out):
        print(path)
    return 0
