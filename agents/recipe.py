"""DeepSeek-R1's recipe on the env mix, end to end:

1. ``cold_start``: SFT on the solvers' worked traces (``explain``), train split;
2. ``grpo``: reasoning RL from the cold-started policy;
3. ``rejection``: the RL policy answers train problems K times; verified answers are kept
   (optionally the shortest per problem) and pruned (duplicates, always-solved problems, env shares);
4. ``rejection_sft``: SFT of the RL policy on its own verified answers.

The base model and each stage's result are evaluated greedily on the same held-out problems
(``eval`` split, ``eval_n`` per env at the mix's levels); ``OUTPUT_DIR/recipe.json`` collects the
accuracies. Stage configs are the ``sft`` and ``train`` configs (``cold_start``, ``grpo``,
``rejection_sft`` hold their fields); the recipe sets ``model``, ``mix``, ``seed``,
``response_prefix``, ``output_dir`` and ``data`` of each. All of them are validated before any
model loads. A stage whose output is complete is skipped and a stage with a checkpoint resumes
from it, so an interrupted recipe (Ctrl-C writes a checkpoint) continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from thinkgym.agents.config import ConfigError, TrainConfig, _type_name, _type_ok, config_from_dict
from thinkgym.agents.sft_config import SFTConfig, sft_config_from_dict
from thinkgym.mix import EnvSpec, parse_mix

STAGES = ("base", "cold_start", "grpo", "rejection", "rejection_sft")
PRUNE_KEYS = ("dedup", "drop_solved", "drop_unsolved", "max_env_share", "max_difficulty_share")


@dataclass
class RecipeConfig:
    """The whole recipe; ``configs/r1-recipe.yaml`` is the preset."""

    model: str = "default"
    """The starting policy."""
    mix: list[EnvSpec] = field(default_factory=lambda: [EnvSpec("thinkgym/Arithmetic-v0")])
    """The env mix of every stage (single-turn tasks with ``explain``)."""
    seed: int = 0
    """Seed of every stage."""
    output_dir: str = "runs/r1"
    """Recipe directory: one sub-directory per stage, eval-* directories, recipe.json."""
    response_prefix: str = "<think>\n"
    """Opening of every assistant turn, in every stage and evaluation."""
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    """Stages to run, in order: base (evaluate the start model), cold_start, grpo, rejection, rejection_sft."""
    eval_n: int = 30
    """Held-out problems per env in each evaluation."""
    eval_seed: int = 0
    """Seed of the held-out problem stream (the same set after every stage)."""
    eval_batch_size: int = 96
    """Completions per evaluation batch."""
    eval_max_new_tokens: int | None = None
    """Most tokens per evaluation answer (None: the GRPO stage's ``max_new_tokens``)."""
    cold_start: dict[str, Any] = field(default_factory=dict)
    """Fields of the cold-start SFT config."""
    grpo: dict[str, Any] = field(default_factory=dict)
    """Fields of the GRPO config."""
    rejection_k: int = 4
    """Samples per problem in rejection sampling."""
    rejection_problems: int = 48
    """Train problems in rejection sampling."""
    rejection_shortest: bool = True
    """Keep only the shortest verified completion per problem."""
    prune: dict[str, Any] = field(default_factory=dict)
    """Pruning of the rejection data: dedup, drop_solved, drop_unsolved, max_env_share, max_difficulty_share."""
    rejection_sft: dict[str, Any] = field(default_factory=dict)
    """Fields of the rejection-sampling SFT config."""

    def stage_dir(self, stage: str) -> Path:
        return Path(self.output_dir) / stage

    @property
    def rejection_data(self) -> Path:
        return self.stage_dir("rejection") / "correct.jsonl"

    def cold_start_config(self) -> SFTConfig:
        return sft_config_from_dict({**self.cold_start, **self._shared("cold_start", self.model)})

    def grpo_config(self) -> TrainConfig:
        return config_from_dict({**self.grpo, **self._shared("grpo", self._input_of("grpo"))})

    def rejection_sft_config(self, check_data: bool = True) -> SFTConfig:
        raw = {**self.rejection_sft, **self._shared("rejection_sft", self._input_of("rejection_sft"))}
        if check_data:
            raw["data"] = str(self.rejection_data)
        return sft_config_from_dict(raw)

    def _shared(self, stage: str, model: str) -> dict[str, Any]:
        mix = [dataclasses.asdict(spec) for spec in self.mix]
        return {"model": model, "mix": mix, "seed": self.seed, "response_prefix": self.response_prefix, "output_dir": str(self.stage_dir(stage))}

    def _input_of(self, stage: str) -> str:
        """The policy a stage starts from: the latest earlier training stage that runs, else the model."""
        earlier = {"grpo": ["cold_start"], "rejection": ["grpo", "cold_start"], "rejection_sft": ["grpo", "cold_start"]}[stage]
        for name in earlier:
            if name in self.stages:
                return str(self.stage_dir(name))
        return self.model


def load_recipe(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RecipeConfig:
    """A :class:`RecipeConfig` from YAML and ``key=value`` overrides; every stage's config is
    built and validated too (a :class:`ConfigError` lists the problems)."""
    raw: dict[str, Any] = yaml.safe_load(Path(path).read_text()) or {} if path else {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of recipe fields")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key=value")
        raw[key.strip()] = yaml.safe_load(value)
    problems: list[str] = []
    hints = typing.get_type_hints(RecipeConfig)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in hints:
            problems.append(f"unknown key {key!r}")
        elif key == "mix":
            values["mix"] = parse_mix(value, problems)
        elif isinstance(value, dict) if typing.get_origin(hints[key]) is dict else _type_ok(value, hints[key]):
            values[key] = value
        else:
            problems.append(f"{key} must be {_type_name(hints[key])}, got {value!r}")
    if problems:
        raise ConfigError("invalid recipe: " + "; ".join(problems))
    recipe = RecipeConfig(**values)
    unknown_stages = [s for s in recipe.stages if s not in STAGES]
    unknown_prune = sorted(set(recipe.prune) - set(PRUNE_KEYS))
    for bad, message in (
        (unknown_stages, f"unknown stages {unknown_stages}; known: {', '.join(STAGES)}"),
        (unknown_prune, f"unknown prune keys {unknown_prune}; known: {', '.join(PRUNE_KEYS)}"),
        (recipe.eval_n < 1, "eval_n must be >= 1"),
        (recipe.eval_max_new_tokens is not None and recipe.eval_max_new_tokens < 1, "eval_max_new_tokens must be >= 1"),
        (recipe.rejection_k < 1 or recipe.rejection_problems < 1, "rejection_k and rejection_problems must be >= 1"),
        ("rejection_sft" in recipe.stages and "rejection" not in recipe.stages and not recipe.rejection_data.is_file(),
         "rejection_sft needs the rejection stage (or its data file)"),
    ):
        if bad:
            problems.append(message)
    if problems:
        raise ConfigError("invalid recipe: " + "; ".join(problems))
    for name, build in (("cold_start", recipe.cold_start_config), ("grpo", recipe.grpo_config), ("rejection_sft", lambda: recipe.rejection_sft_config(False))):
        if name in recipe.stages:
            try:
                build()
            except ConfigError as err:
                raise ConfigError(f"recipe stage {name}: {err}") from None
    return recipe


def _finished(run_dir: Path, steps: int) -> bool:
    from thinkgym.agents.checkpoint import latest_checkpoint

    latest = latest_checkpoint(run_dir)
    return latest is not None and int((latest / "DONE").read_text().strip()) >= steps


def _started(run_dir: Path) -> bool:
    """Whether a stage has a checkpoint to resume from (a stopped or killed earlier attempt)."""
    from thinkgym.agents.checkpoint import latest_checkpoint

    return latest_checkpoint(run_dir) is not None


def run_recipe(recipe: RecipeConfig, *, progress: bool = True) -> dict[str, Any]:
    """Run the stages (skipping complete ones), evaluating after each; returns recipe.json's dict."""
    from thinkgym.agents.sft import train_sft
    from thinkgym.agents.trainer import train

    out = Path(recipe.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.yaml").write_text(yaml.safe_dump(dataclasses.asdict(recipe), sort_keys=False))
    summary_path = out / "recipe.json"
    summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path.is_file() else {"stages": {}}
    for stage in recipe.stages:
        started = time.perf_counter()
        info: dict[str, Any] = dict(summary["stages"].get(stage, {}))
        if stage == "base":
            model = recipe.model
        elif stage == "cold_start":
            config = recipe.cold_start_config()
            if not _finished(Path(config.output_dir), config.steps):
                train_sft(dataclasses.replace(config, progress=progress), resume=_started(Path(config.output_dir)))
            model = config.output_dir
        elif stage == "grpo":
            config = recipe.grpo_config()
            if not _finished(Path(config.output_dir), config.steps):
                train(dataclasses.replace(config, progress=progress), resume=_started(Path(config.output_dir)))
            model = config.output_dir
        elif stage == "rejection":
            if not recipe.rejection_data.is_file():
                info.update(_rejection(recipe, progress))
            summary["stages"][stage] = {**info, "seconds": info.get("seconds", round(time.perf_counter() - started, 1))}
            summary_path.write_text(json.dumps(summary, indent=2) + "\n")
            continue
        else:
            config = recipe.rejection_sft_config()
            if not _finished(Path(config.output_dir), config.steps):
                train_sft(dataclasses.replace(config, progress=progress), resume=_started(Path(config.output_dir)))
            model = config.output_dir
        trained = round(time.perf_counter() - started, 1)
        results = _evaluate(recipe, model, out / f"eval-{stage}", progress)
        info.update({"model": model, "accuracy": results["mean_accuracy"], "tasks": {k: v["accuracy"] for k, v in results["tasks"].items()}})
        info.setdefault("train_seconds", trained)
        summary["stages"][stage] = info
        summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _rejection(recipe: RecipeConfig, progress: bool) -> dict[str, Any]:
    """Sample, verify, keep, prune; write the data file and return the counts."""
    import torch

    from thinkgym.agents.evaluate import policy_sampler
    from thinkgym.agents.policy import load_policy
    from thinkgym.agents.pruning import prune
    from thinkgym.agents.rejection import correct_examples, sample_and_verify, summary
    from thinkgym.agents.sft_data import train_problems, write_jsonl

    grpo = recipe.grpo_config()
    model, tokenizer = load_policy(recipe._input_of("rejection"))
    sampler = policy_sampler(model, tokenizer, max_new_tokens=grpo.max_new_tokens, temperature=grpo.temperature,
                             response_prefix=recipe.response_prefix, autocast_dtype=torch.bfloat16 if grpo.bf16 else None,
                             stop_strings=grpo.stop_strings)
    problems = train_problems(recipe.mix, recipe.rejection_problems, recipe.seed, stream=1_000_003)
    scored = sample_and_verify(sampler, problems, k=recipe.rejection_k, system_prompt=grpo.system_prompt, batch_size=recipe.eval_batch_size, seed=recipe.seed)
    examples = correct_examples(scored, shortest=recipe.rejection_shortest)
    kept, report = prune(examples, **recipe.prune)
    if not kept:
        raise RuntimeError(f"rejection sampling kept no examples ({summary(scored, 0)}); raise rejection_k or rejection_problems")
    write_jsonl(recipe.rejection_data, kept)
    return {"sampling": summary(scored, len(examples)), "pruning": {"before": report.before, "after": report.after, "dropped": report.dropped}}


def _evaluate(recipe: RecipeConfig, model: str, out: Path, progress: bool) -> dict[str, Any]:
    """Greedy held-out accuracy of ``model`` on the mix (cached in ``out/results.json``)."""
    if (out / "results.json").is_file():
        return json.loads((out / "results.json").read_text())
    from thinkgym.agents.evaluate import GenerationOptions, run_eval
    from thinkgym.agents.evaluate import EvalTask

    grpo = recipe.grpo_config()
    tasks = [EvalTask(spec.id, (spec.difficulty,), dict(spec.kwargs)) for spec in recipe.mix]
    options = GenerationOptions(max_new_tokens=recipe.eval_max_new_tokens or grpo.max_new_tokens, response_prefix=recipe.response_prefix, batch_size=recipe.eval_batch_size, progress=progress,
                                stop_strings=tuple(grpo.stop_strings))
    paths = run_eval(model, tasks, n=recipe.eval_n, samples=1, seed=recipe.eval_seed, out=out, options=options, system_prompt=grpo.system_prompt)
    return json.loads(Path(paths["results"]).read_text())
