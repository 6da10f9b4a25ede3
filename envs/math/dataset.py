"""Math problems from a local dataset file (JSONL or Parquet), e.g. an Open-R1 math set.

``gym.make("thinkgym/MathDataset-v0", path="openr1_math.parquet", split="train", difficulty=2)``
poses the problems of a file whose rows have a ``problem`` field and either an ``answer`` field
or a ``solution`` field with the final answer in ``\\boxed{...}`` (the format of Open-R1's math
sets such as OpenThoughts-114k-math). Nothing is downloaded: the user passes a path. The default
path is the small sample shipped with thinkgym (``envs/data/math_sample.jsonl``, written for the
tests), so ``gym.make("thinkgym/MathDataset-v0")`` works without arguments.

Prompt: the problem text followed by the answer format. Answer: the final answer in any form
:func:`thinkgym.rewards.math_equal` reads (``\\frac{7}{8}``, ``0.875``, ``x = 2, 3``, ``(4, \\infty)``),
in ``<answer>...</answer>`` or, failing that, the last ``\\boxed{...}``. Reward 1.0 when it
equals the reference answer (or matches it as text after removing spaces and ``$``), else 0;
``10%`` may stand for 10 only in a problem about percentages (its text says ``%`` or "percent").

Difficulty: the row's ``level`` field (``"Level 3"`` or ``3``, as in the MATH dataset) mapped
to 1 for levels 1-2, 2 for level 3 and 3 for levels 4-5; rows without a level are bucketed by
answer length (up to 3 characters, up to 8, longer). Rows whose text is not printable ASCII
after replacing common math symbols are skipped.

Splits: ``split="eval"`` keeps the problems whose BLAKE2b hash of the problem text falls in the
first 20% of the hash range, ``"train"`` the others, ``"all"`` (default) every problem, so the
held-out set never changes with the seed or the file order. Each reset picks a problem with the
env's seeded generator: the same seed always poses the same problem; ``reset(options={"index": i})``
poses problem ``i`` of the selection (in file order), to sweep a split.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thinkgym.envs.levels import TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.equivalence import math_equal
from thinkgym.rewards.extract import last_boxed
from thinkgym.rewards.verdict import Verdict

DEFAULT_PATH = str(Path(__file__).resolve().parent.parent / "data" / "math_sample.jsonl")
SPLITS = ("all", "train", "eval")
EVAL_SHARE = 0.2
MAX_PROBLEM_CHARS = 8000
_ASCII = str.maketrans({"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u2264": "<=", "\u2265": ">=", "\u03c0": "pi",
                        "\u221e": "oo", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                        "\u2014": "-", "\u00a0": " ", "\u2026": "..."})
_PRINTABLE = frozenset(string.printable)
_FORMAT = "Put the final answer in <answer>...</answer>, e.g. <answer>\\frac{7}{2}</answer>; LaTeX or plain text is fine."


@dataclass(frozen=True)
class MathDatasetConfig(TaskConfig):
    path: str = DEFAULT_PATH
    """A .jsonl, .json (one object a line) or .parquet file with problem and answer/solution fields."""
    split: str = "all"
    """"train", "eval" (held out by a stable hash of the problem text) or "all"."""

    def validate(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        path = Path(self.path)
        if path.suffix not in (".jsonl", ".json", ".parquet"):
            raise ValueError(f"path must be a .jsonl, .json or .parquet file, got {self.path!r}")
        if not path.is_file():
            raise ValueError(f"no dataset file at {self.path!r}")
        if not problems_for(str(path.resolve()), path.stat().st_mtime_ns, self.split, self.difficulty):
            raise ValueError(f"{self.path} has no usable problems of difficulty {self.difficulty} in split {self.split!r}")


@dataclass(frozen=True)
class DatasetProblem:
    prompt: str
    answer: str
    problem: str
    level: int
    percent: bool = False
    """The problem is about percentages (it says % or percent): ``10%`` may then stand for 10."""


def split_of(problem: str) -> str:
    """"eval" or "train", by the BLAKE2b hash of the problem text (stable across runs and files)."""
    digest = hashlib.blake2b(problem.encode("utf-8"), digest_size=8).digest()
    return "eval" if int.from_bytes(digest, "big") < EVAL_SHARE * 2**64 else "train"


def _read_rows(path: str) -> list[dict]:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq  # installed with `datasets`; imported only for parquet files

        return pq.read_table(path).to_pylist()
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}: line {number} is not valid JSON ({err.msg})") from None
    return rows


def _bucket(row: dict, answer: str) -> int:
    match = re.search(r"\d+", str(row.get("level", "")))
    if match:
        level = int(match.group(0))
        return 1 if level <= 2 else 2 if level == 3 else 3
    return 1 if len(answer) <= 3 else 2 if len(answer) <= 8 else 3


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> tuple[DatasetProblem, ...]:
    """All usable problems of a file (cached per path and modification time)."""
    problems = []
    for row in _read_rows(path):
        text = str(row.get("problem", "")).translate(_ASCII).strip()
        answer = row.get("answer")
        if answer is None or str(answer).strip() == "":
            answer = last_boxed(str(row.get("solution", "")))
        if not text or answer is None or len(text) > MAX_PROBLEM_CHARS:
            continue
        answer = str(answer).translate(_ASCII).strip()
        prompt = f"{text}\n\n{_FORMAT}"
        if not answer or not _PRINTABLE.issuperset(prompt) or not _PRINTABLE.issuperset(answer):
            continue
        percent = "%" in text or "%" in answer or "percent" in text.lower()
        problems.append(DatasetProblem(prompt, answer, text, _bucket(row, answer), percent))
    return tuple(problems)


@functools.lru_cache(maxsize=64)
def problems_for(path: str, mtime_ns: int, split: str, difficulty: int) -> tuple[DatasetProblem, ...]:
    return tuple(
        p for p in _load(path, mtime_ns) if p.level == difficulty and (split == "all" or split_of(p.problem) == split)
    )


def pool(config: MathDatasetConfig) -> tuple[DatasetProblem, ...]:
    """The problems a config poses, in file order."""
    path = Path(config.path).resolve()
    return problems_for(str(path), path.stat().st_mtime_ns, config.split, config.difficulty)


def generate(rng: np.random.Generator, config: MathDatasetConfig) -> DatasetProblem:
    problems = pool(config)
    return problems[int(rng.integers(len(problems)))]


def from_options(options: Mapping[str, Any], config: MathDatasetConfig) -> DatasetProblem:
    """``reset(options={"index": i})`` poses problem ``i`` of the pool (to sweep an eval split)."""
    problems = pool(config)
    unknown = set(options) - {"index"}
    index = options.get("index")
    if unknown or isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(problems):
        raise ValueError(f"options must be {{'index': 0..{len(problems) - 1}}}, got {dict(options)!r}")
    return problems[index]


def _plain(text: str) -> str:
    return re.sub(r"[\s$]|\\[,;!]|\\left|\\right", "", text)


def verify(problem: DatasetProblem, answer: str) -> Verdict:
    if math_equal(answer, problem.answer, percent=problem.percent) or _plain(answer) == _plain(problem.answer):
        return Verdict(1.0, canonical=answer.strip())
    return Verdict(0.0, "not equal to the reference answer", answer.strip())


MathDatasetEnv = register_task(
    "thinkgym/MathDataset-v0", family="math", config=MathDatasetConfig, generate=generate, verify=verify,
    from_options=from_options, boxed_fallback=True,
)
