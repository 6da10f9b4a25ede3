"""``thinkgym sft``, ``thinkgym sample-correct`` and ``thinkgym prune``: the supervised stages of
the R1 recipe.

    thinkgym sft --config configs/sft.yaml [key=value ...]         # solver traces of the mix
    thinkgym sft --config configs/sft.yaml data=correct.jsonl model=runs/grpo
    thinkgym sft --resume runs/sft
    thinkgym sample-correct --model runs/grpo --mix configs/default.yaml --k 4 --out correct.jsonl [--shortest]
    thinkgym prune correct.jsonl --out pruned.jsonl --dedup --drop-solved --max-env-share 0.5

``sft`` takes the same kind of config as ``train`` (a dataclass, YAML presets, ``key=value``
overrides, validated before the model loads; see :class:`thinkgym.agents.sft_config.SFTConfig`)
and writes the same checkpoint layout, so ``thinkgym train model=runs/sft`` and ``thinkgym eval
--model runs/sft`` take its result. ``sample-correct`` writes JSONL ready for ``sft data=...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from thinkgym.agents.cli import CLIError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sft", help="supervised fine-tuning on R1 completions (solver traces or a JSONL file)")
    p.add_argument("--config", help="YAML preset (e.g. configs/sft.yaml)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this SFT run from its latest checkpoint")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. steps=20 data=correct.jsonl")
    p.set_defaults(func=cmd_sft)

    p = sub.add_parser("sample-correct", help="rejection sampling: keep the completions the env verifies, as SFT data")
    p.add_argument("--model", default="default", help="policy: model name, model/run/checkpoint directory")
    p.add_argument("--mix", required=True, metavar="CONFIG", help="a training config (YAML) whose env mix, system prompt and response prefix to use")
    p.add_argument("--k", type=int, default=4, help="samples per problem (default 4)")
    p.add_argument("--problems", type=int, default=64, help="train-split problems to sample (default 64)")
    p.add_argument("--out", required=True, help="output JSONL file")
    p.add_argument("--shortest", action="store_true", help="keep only the shortest correct completion per problem")
    p.add_argument("--seed", type=int, default=1, help="seed of the problem stream and the sampling (default 1)")
    _sampling_args(p)
    p.set_defaults(func=cmd_sample_correct)

    p = sub.add_parser("prune", help="prune an SFT JSONL set: duplicates, always/never solved problems, env/difficulty shares")
    p.add_argument("data", help="input JSONL ({prompt, completion} plus env/difficulty/seed/solve_rate)")
    p.add_argument("--out", required=True, help="output JSONL file (a report is written next to it as OUT.prune.json)")
    p.add_argument("--dedup", action="store_true", help="keep one example per prompt")
    p.add_argument("--drop-solved", action="store_true", help="drop problems the policy solves in every sample")
    p.add_argument("--drop-unsolved", action="store_true", help="drop problems the policy solves in no sample")
    p.add_argument("--max-env-share", type=float, help="no env above this share of the result")
    p.add_argument("--max-difficulty-share", type=float, help="no difficulty level above this share of the result")
    p.add_argument("--model", help="measure solve rates with this policy (when the data lacks solve_rate)")
    p.add_argument("--mix", metavar="CONFIG", help="training config for the system prompt / response prefix when measuring (default: configs' defaults)")
    p.add_argument("--k", type=int, default=4, help="samples per problem when measuring solve rates (default 4)")
    p.add_argument("--seed", type=int, default=2, help="sampling seed when measuring (default 2)")
    _sampling_args(p)
    p.set_defaults(func=cmd_prune)


def _sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--max-new-tokens", type=int, help="per completion (default: the --mix config's)")
    p.add_argument("--batch-size", type=int, default=32, help="completions per generation batch (default 32)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_sft(args: argparse.Namespace) -> int:
    from thinkgym.agents.sft_config import load_sft_config

    overrides = list(args.overrides)
    if args.resume:
        saved = Path(args.resume) / "config.yaml"
        if not saved.is_file():
            raise CLIError(f"{args.resume} is not a run directory (no config.yaml)")
        config = load_sft_config(args.config or saved, overrides + [f"output_dir={args.resume}"])
    else:
        if not args.config and not overrides:
            raise CLIError("give --config FILE (e.g. configs/sft.yaml) and/or key=value overrides")
        config = load_sft_config(args.config, overrides)
    from thinkgym.agents.faults import TrainingStopped
    from thinkgym.agents.sft import train_sft

    try:
        run_dir = train_sft(config, resume=bool(args.resume))
    except TrainingStopped as stopped:
        print(f"thinkgym sft: {stopped}; continue with: thinkgym sft --resume {config.output_dir}", file=sys.stderr)
        return stopped.exit_code
    print(f"run directory: {run_dir}")
    return 0


def load_sampler(model_name: str, config, args: argparse.Namespace):  # noqa: ANN001, ANN201
    """A policy sampler over ``model_name`` with the training config's response prefix."""
    import torch

    from thinkgym.agents.evaluate import policy_sampler
    from thinkgym.agents.policy import load_policy

    model, tokenizer = load_policy(model_name)
    max_new = args.max_new_tokens or config.max_new_tokens
    autocast = torch.bfloat16 if config.bf16 else None
    return policy_sampler(model, tokenizer, max_new_tokens=max_new, temperature=args.temperature, response_prefix=config.response_prefix, autocast_dtype=autocast,
                          stop_strings=config.stop_strings)


def cmd_sample_correct(args: argparse.Namespace) -> int:
    from thinkgym.agents.config import load_config
    from thinkgym.agents.rejection import correct_examples, sample_and_verify, summary
    from thinkgym.agents.sft_data import train_problems, write_jsonl

    if args.k < 1 or args.problems < 1:
        raise CLIError("--k and --problems must be >= 1")
    config = load_config(args.mix)
    problems = train_problems(config.mix, args.problems, args.seed, stream=1_000_003)  # a stream SFT steps never use
    sampler = _with_progress(load_sampler(args.model, config, args), len(problems) * args.k, args.no_progress)
    kwargs = {spec.id: spec.kwargs for spec in config.mix}
    scored = sample_and_verify(sampler, problems, k=args.k, system_prompt=config.system_prompt, batch_size=args.batch_size, seed=args.seed, env_kwargs=kwargs)
    examples = correct_examples(scored, shortest=args.shortest)
    write_jsonl(args.out, examples)
    stats = summary(scored, len(examples))
    print(json.dumps(stats))
    print(f"wrote {len(examples)} verified completions to {args.out}")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from thinkgym.agents.pruning import prune
    from thinkgym.agents.sft_data import read_jsonl, write_jsonl

    examples = read_jsonl(args.data)
    wants_rate = args.drop_solved or args.drop_unsolved
    if wants_rate and any("solve_rate" not in e for e in examples):
        if not args.model:
            raise CLIError("the data lacks solve_rate: give --model to measure it by sampling")
        from thinkgym.agents.config import TrainConfig, load_config
        from thinkgym.agents.rejection import measure_solve_rates

        config = load_config(args.mix) if args.mix else TrainConfig()
        sampler = _with_progress(load_sampler(args.model, config, args), len(examples) * args.k, args.no_progress)
        examples = measure_solve_rates(sampler, examples, k=args.k, system_prompt=config.system_prompt, batch_size=args.batch_size, seed=args.seed)
    kept, report = prune(
        examples,
        dedup=args.dedup,
        drop_solved=args.drop_solved,
        drop_unsolved=args.drop_unsolved,
        max_env_share=args.max_env_share,
        max_difficulty_share=args.max_difficulty_share,
    )
    write_jsonl(args.out, kept)
    Path(f"{args.out}.prune.json").write_text(json.dumps(report.__dict__, indent=2) + "\n")
    print("\n".join(report.lines()))
    return 0


def _with_progress(sampler, total: int, disabled: bool):  # noqa: ANN001, ANN202
    """Wrap a sampler with a tqdm bar counting completions."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="sample", unit="completion", disable=disabled)

    def sample(conversations, *, greedy: bool, seed: int):  # noqa: ANN001, ANN202
        out = sampler(conversations, greedy=greedy, seed=seed)
        bar.update(len(out))
        return out

    return sample
