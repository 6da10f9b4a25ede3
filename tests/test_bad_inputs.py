"""Bad input to every CLI command: one clear line on stderr, exit status 2, no traceback (unless
``--debug``), and nothing written half-way (the output path does not exist afterwards). A bug
(any exception that is not a :class:`thinkgym.errors.ThinkgymError`) is the opposite: its
traceback, a line saying it is a bug, exit status 1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from thinkgym.agents.cli import COMMANDS, build_parser, main

BAD_YAML = "steps: [1, 2\nmix: {"
LICHESS_BAD = "PuzzleId,FEN,Moves,Rating\nx1,8/8/8/8/8/8/8/8 w - - 0 1,e2e4,not-a-number\n"
LICHESS_NO_COLUMNS = "id,position\n1,2\n"
MATH_BAD_ROW = '{"problem": "What is 1 + 1?", "answer": "2"}\n{"problem": "broken", \n'


@pytest.fixture
def files(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """Inputs for the cases, in ``tmp_path``; outputs go to ``tmp_path / 'out'``."""
    (tmp_path / "bad.yaml").write_text(BAD_YAML)
    (tmp_path / "list.yaml").write_text("- steps\n- 3\n")
    (tmp_path / "bad.csv").write_text(LICHESS_BAD)
    (tmp_path / "columns.csv").write_text(LICHESS_NO_COLUMNS)
    (tmp_path / "bad.jsonl").write_text(MATH_BAD_ROW)
    (tmp_path / "notjson.json").write_text("{ not json")
    (tmp_path / "empty-run").mkdir()
    mix = lambda kwargs, env: {"model": str(tiny_model_dir), "mix": [{"id": env, "kwargs": kwargs}]}  # noqa: E731
    (tmp_path / "lichess.yaml").write_text(json.dumps(mix({"path": str(tmp_path / "bad.csv")}, "thinkgym/LichessPuzzle-v0")))
    (tmp_path / "columns.yaml").write_text(json.dumps(mix({"path": str(tmp_path / "columns.csv")}, "thinkgym/LichessPuzzle-v0")))
    (tmp_path / "math.yaml").write_text(json.dumps(mix({"path": str(tmp_path / "bad.jsonl")}, "thinkgym/MathDataset-v0")))
    (tmp_path / "typo.yaml").write_text(json.dumps({"mix": [{"id": "thinkgym/Arithmetc-v0"}]}))
    shutil.copytree(tiny_model_dir, tmp_path / "model")
    no_template = tmp_path / "no-template"
    shutil.copytree(tiny_model_dir, no_template)
    for name in ("chat_template.jinja", "chat_template.json"):
        (no_template / name).unlink(missing_ok=True)
    config = json.loads((no_template / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (no_template / "tokenizer_config.json").write_text(json.dumps(config))
    return tmp_path


# (command, argv with {d} for the fixture folder and {out} for the output, words of the message)
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("envs", "envs --family nosuch", ("nosuch",)),
    ("sample", "sample thinkgym/Arithmetc-v0", ("unknown env", "did you mean", "thinkgym/Arithmetic-v0")),
    ("sample", "sample thinkgym/Arithmetic-v0 --difficulty 99", ("difficulty",)),
    ("score", "score thinkgym/ShortestPth-v0 --answer 1", ("did you mean", "thinkgym/ShortestPath-v0")),
    ("stockfish", "sample thinkgym/BestMove-v0", ("stockfish", "/nonexistent")),
    ("train", "train --config {d}/missing.yaml", ("missing.yaml",)),
    ("train", "train --config {d}/bad.yaml output_dir={out}", ("not valid YAML",)),
    ("train", "train --config {d}/list.yaml output_dir={out}", ("mapping",)),
    ("train", "train steps=abc output_dir={out}", ("steps must be",)),
    ("train", "train --config {d}/typo.yaml output_dir={out}", ("did you mean", "thinkgym/Arithmetic-v0")),
    ("train", "train --config {d}/lichess.yaml output_dir={out}", ("bad.csv", "Rating")),
    ("train", "train --config {d}/columns.yaml output_dir={out}", ("columns.csv", "missing column")),
    ("train", "train --config {d}/math.yaml output_dir={out}", ("bad.jsonl", "line 2")),
    ("train", "train --resume {d}/empty-run", ("not a run directory",)),
    ("stockfish", "train mix=[thinkgym/BestMove-v0] model={d}/model output_dir={out}", ("stockfish", "/nonexistent")),
    ("train", "train mix=[test/Nope-v0] model={d}/no-template output_dir={out}", ("unknown env",)),
    ("sft", "sft --config {d}/bad.yaml output_dir={out}", ("not valid YAML",)),
    ("sft", "sft data={d}/missing.jsonl output_dir={out}", ("missing.jsonl",)),
    ("sample-correct", "sample-correct --mix {d}/missing.yaml --out {out}", ("missing.yaml",)),
    ("sample-correct", "sample-correct --model {d}/no-template --mix {d}/typo.yaml --out {out}", ("did you mean",)),
    ("sample-correct", "sample-correct --model {d}/model --mix {d}/lichess.yaml --out {out}", ("bad.csv",)),
    ("sft", "sft data={d}/bad.jsonl output_dir={out}", ("bad.jsonl",)),
    ("prune", "prune {d}/missing.jsonl --out {out}", ("missing.jsonl",)),
    ("prune", "prune {d}/bad.jsonl --out {out}", ("bad.jsonl",)),
    ("recipe", "recipe --config {d}/bad.yaml", ("not valid YAML",)),
    ("recipe", "recipe nonsense=1", ("nonsense",)),
    ("eval", "eval --model {d}/no-template --envs thinkgym/Arithmetic-v0 --n 1 --out {out}", ("no chat template",)),
    ("eval", "eval --model {d}/missing-model --envs thinkgym/Arithmetic-v0 --n 1 --out {out}", ("missing-model",)),
    ("eval", "eval --envs thinkgym/Arithmetc-v0 --n 1 --out {out}", ("did you mean",)),
    ("eval", "eval --mix {d}/bad.yaml --n 1 --out {out}", ("not valid YAML",)),
    ("eval", "eval --model {d}/model --mix {d}/lichess.yaml --n 1 --out {out}", ("bad.csv",)),
    ("eval", "eval --model {d}/model --mix {d}/math.yaml --n 1 --out {out}", ("bad.jsonl", "line 2")),
    ("compare", "compare {d}/missing-a {d}/missing-b --out {out}", ("missing-a",)),
    ("compare", "compare {d}/notjson.json {d}/notjson.json --out {out}", ("notjson.json",)),
    ("plot", "plot {d}/missing-run --out {out}", ("missing-run",)),
    ("plot", "plot {d}/empty-run --out {out}", ("empty-run",)),
    ("export", "export thinkgym/Arithmetc-v0 --n 2 --out {out}.jsonl", ("did you mean",)),
    ("export", "export thinkgym/Arithmetic-v0 --n 2 --out {out}.txt", (".txt",)),
    ("export", "export {d}/bad.yaml --n 2 --out {out}.jsonl", ("not valid YAML",)),
    ("export", "export {d}/lichess.yaml --n 2 --out {out}.jsonl", ("options", "path")),
    ("run", "run --config {d}/missing.yaml", ("missing.yaml",)),
    ("run", "run --config {d}/bad.yaml output_dir={out}", ("not valid YAML",)),
    ("run", "run --config {d}/lichess.yaml output_dir={out}", ("bad.csv",)),
]


def case_id(case: tuple[str, str, tuple[str, ...]]) -> str:
    return case[1].split(" --out")[0].replace("{d}/", "").replace(" ", "_")[:60]


def test_the_table_covers_every_command():
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert len(COMMANDS) >= 7
    assert commands <= {c[1].split()[0] for c in CASES}, commands - {c[1].split()[0] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_bad_input_exits_2_with_one_clear_line(case, files, capsys, monkeypatch):
    _, template, words = case
    monkeypatch.setenv("THINKGYM_STOCKFISH", "/nonexistent/stockfish")
    monkeypatch.setenv("THINKGYM_CACHE", str(files / "cache"))
    monkeypatch.chdir(files)
    out = files / "out"
    argv = template.format(d=files, out=out).split()
    code = main(argv)
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "error" in line.lower()]  # not progress bars
    assert code == 2, captured.err
    assert len(errors) == 1 and errors[0].startswith(f"thinkgym {argv[0]}: error: "), captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
    leftovers = [p.name for p in files.iterdir() if p.name.startswith("out")]
    assert not leftovers, f"written half-way: {leftovers}"
    assert not (files / "runs").exists()


def test_no_traceback_from_the_real_command_and_one_with_debug(tmp_path):
    env_args = dict(capture_output=True, text=True, timeout=120, cwd=tmp_path)
    plain = subprocess.run([sys.executable, "-m", "thinkgym", "sample", "thinkgym/Arithmetc-v0"], **env_args)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr and "did you mean" in plain.stderr
    debug = subprocess.run([sys.executable, "-m", "thinkgym", "--debug", "sample", "thinkgym/Arithmetc-v0"], **env_args)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_usage_errors_exit_2_from_argparse(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "thinkgym/Arithmetic-v0"])  # --n and --out are required
    assert exit_info.value.code == 2 and "required" in capsys.readouterr().err



# -- a bug is not bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("error", [ValueError("an internal check failed"), KeyError("no such key"), TypeError("wrong type")], ids=lambda e: type(e).__name__)
def test_an_internal_bug_shows_its_traceback_and_exits_1(error, monkeypatch, capsys):
    from thinkgym.envs import base

    def broken(*args, **kwargs):  # a bug inside env construction, under valid input
        raise error

    monkeypatch.setattr(base, "config_from_kwargs", broken)
    code = main(["sample", "thinkgym/Arithmetic-v0"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback (most recent call last)" in err and f"{type(error).__name__}: " in err and "in broken" in err
    assert err.strip().splitlines()[-1].startswith("thinkgym sample: this is a bug in thinkgym")


def test_the_user_error_classes_share_one_base():
    from thinkgym.agents.cli import CLIError
    from thinkgym.agents.config import ConfigError
    from thinkgym.agents.faults import TrainingDiverged, TrainingStopped
    from thinkgym.agents.sft_data import NoExplainError
    from thinkgym.envs.chess.engine import StockfishNotFound
    from thinkgym.envs.chess.lichess import PuzzleFileError
    from thinkgym.envs.registry import UnknownEnvError
    from thinkgym.errors import DataFileError, ThinkgymError, UserError
    from thinkgym.mix import MixError
    from thinkgym.rewards.verdict import InvalidAnswer
    from thinkgym.scoring import MultiTurnNotSupported

    for cls in (UnknownEnvError, MixError, ConfigError, CLIError, MultiTurnNotSupported, NoExplainError, PuzzleFileError, DataFileError, StockfishNotFound):
        assert issubclass(cls, UserError) and issubclass(cls, ValueError), cls
    assert issubclass(StockfishNotFound, FileNotFoundError)
    assert issubclass(TrainingDiverged, ThinkgymError) and not issubclass(TrainingDiverged, UserError)
    assert not issubclass(InvalidAnswer, ThinkgymError)  # internal to scoring: never reaches a user
    assert not issubclass(TrainingStopped, ThinkgymError)  # an orderly stop, not an error


def test_a_closed_pipe_ends_the_command_quietly():
    """``thinkgym envs | head -1``: the reader leaves early; no traceback, no bug report."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "thinkgym", "envs"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # like head after its first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "bug" not in err.lower(), err
