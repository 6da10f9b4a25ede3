"""The CLI commands of the foundation: envs, sample, score, and their error handling."""

from __future__ import annotations

import subprocess
import sys

import pytest

from thinkgym.agents.cli import main


def test_envs_lists_reference_tasks(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "thinkgym/ShortestPath-v0" in out and "thinkgym/Arithmetic-v0" in out
    assert "family" in out.splitlines()[0]


def test_envs_family_filter(capsys):
    assert main(["envs", "--family", "graph"]) == 0
    out = capsys.readouterr().out
    assert "thinkgym/ShortestPath-v0" in out and "Arithmetic" not in out


def test_sample_prints_prompt_and_answer(capsys):
    assert main(["sample", "thinkgym/Arithmetic-v0", "--seed", "4", "--difficulty", "2", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "Compute the value" in out and "reference answer:" in out and "step by step" in out


def test_score_right_and_wrong(capsys):
    main(["sample", "thinkgym/Arithmetic-v0", "--seed", "4"])
    answer = capsys.readouterr().out.split("reference answer:")[1].split()[0]
    assert main(["score", "thinkgym/Arithmetic-v0", "--seed", "4", "--answer", answer]) == 0
    assert "reward: 1" in capsys.readouterr().out
    assert main(["score", "thinkgym/Arithmetic-v0", "--seed", "4", "--answer", "<think>hm</think><answer>x</answer>"]) == 0
    out = capsys.readouterr().out
    assert "reward: 0" in out and "reason: unparsable answer" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["sample", "thinkgym/ShortestPth-v0"], "did you mean 'thinkgym/ShortestPath-v0'"),
        (["sample", "thinkgym/Arithmetic-v0", "--difficulty", "9"], "difficulty must be in 1..3"),
        (["envs", "--family", "poetry"], "unknown family 'poetry'"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "thinkgym", "envs"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "thinkgym/ShortestPath-v0" in result.stdout
