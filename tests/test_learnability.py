"""Smoke test of benchmarks/learnability.py on the tiny model: every stage runs, the report has
its shape, chance agrees with a count of the held-out references, and the probe pick follows
its band."""

from __future__ import annotations

import argparse
import collections
import importlib.util
import itertools
import json
from pathlib import Path

import pytest
import torch

import thinkgym
from thinkgym.splits import problem_stream

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("learnability", ROOT / "benchmarks" / "learnability.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_stage_runs_and_the_report_has_its_shape(bench, tiny_model_dir, tmp_path, monkeypatch):
    # Stages run in this process: a forked child of a pytest process with threads (the served-
    # model fixture, torch's pools) can deadlock, and a tiny model needs no memory isolation.
    monkeypatch.setattr(bench, "isolated", lambda fn, *args, **kwargs: fn(*args, **kwargs))
    results = tmp_path / "learnability.json"
    argv = ["--model", str(tiny_model_dir), "--envs", "thinkgym/Syllogism-v0", "--n", "3", "--sft-steps", "1", "--sft-batch", "2",
            "--probe-envs", "thinkgym/Syllogism-v0", "--probe-steps", "1", "--prompts-per-step", "1", "--group-size", "2",
            "--max-new-tokens", "8", "--threads", str(torch.get_num_threads()), "--out", str(tmp_path / "runs"), "--results", str(results)]
    assert bench.main(argv) == 0
    report = json.loads(results.read_text())
    row = report["envs"]["thinkgym/Syllogism-v0"]
    for stage in ("base", "cold_start", "probe"):
        assert row[stage]["n"] == 3 and 0 <= row[stage]["accuracy"] <= 1 and len(row[stage]["ci95"]) == 2
    assert len(row["probe"]["curve"]) == 1
    assert set(report["wall_seconds"]) >= {"base_eval", "cold_start_sft", "cold_start_eval", "probes", "total"}
    assert report["machine"]["cores"] >= 1 and "end" in report["load_average"]


def test_chance_is_at_least_the_most_frequent_reference(bench):
    env = thinkgym.make("thinkgym/Syllogism-v0", difficulty=1)
    refs = list(itertools.islice(problem_stream(env, "thinkgym/Syllogism-v0", "eval", 0, 1), 20))
    env.close()
    top = collections.Counter(r.answer for r in refs).most_common(1)[0][1] / 20
    chance = bench.chance_levels("thinkgym/Syllogism-v0", 20, 0)
    assert chance["top_reference_share"] == top
    assert chance["chance"] >= max(top, 0.5)  # a two-way answer: the better label scores at least half


def test_probes_come_from_the_band_one_family_first(bench):
    def row(family, acc, chance=0.1):
        return {"family": family, "chance": chance, "cold_start": {"accuracy": acc}}

    rows = {"a": row("math", 0.4), "b": row("math", 0.45), "c": row("logic", 0.2), "d": row("graph", 0.9),
            "e": row("graph", 0.5, chance=0.5), "f": row("chess", 0.3)}
    args = argparse.Namespace(probes=3, low=0.15, high=0.7, max_chance=0.2)
    picks, relaxed = bench.pick_probes(rows, args)
    assert picks == ["a", "f", "c"] and not relaxed
