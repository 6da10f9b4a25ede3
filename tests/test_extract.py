"""Answer extraction and the R1 format reward, on hand-written completions."""

from __future__ import annotations

import pytest

from thinkgym.rewards import AnswerNotFound, extract_answer, format_reward, last_boxed, overlong_penalty


@pytest.mark.parametrize(
    "completion,expected",
    [
        ("<answer>7</answer>", "7"),
        ("<think>so <answer>7</answer></think><answer> 7 </answer>", "7"),
        ("<ANSWER>x</ANSWER>", "x"),
        ("<answer>b</answer> trailing text <answer>b</answer>", "b"),
        ("<answer>1</answer><answer>", "1"),
    ],
)
def test_answer_block(completion, expected):
    assert extract_answer(completion) == expected


@pytest.mark.parametrize(
    "completion",
    [
        "<think>maybe <answer>3</answer></think><answer> 7 </answer>",
        "<answer>a</answer> trailing text <answer>b</answer>",
        "<answer>7</answer><answer>3</answer><answer>7</answer>",
        "<answer>1</answer>" * 70,
    ],
)
def test_several_different_answer_blocks_are_refused(completion):
    with pytest.raises(AnswerNotFound, match="blocks"):
        extract_answer(completion)


def test_several_different_boxes_are_refused():
    assert extract_answer(r"\boxed{3} so \boxed{3}", boxed=True) == "3"
    with pytest.raises(AnswerNotFound, match="differ"):
        extract_answer(r"\boxed{3} or \boxed{4}", boxed=True)


@pytest.mark.parametrize("completion", ["", "7", "<answer></answer>", "<answer>  </answer>", "</answer>7<answer>", "<answer>7"])
def test_no_answer(completion):
    with pytest.raises(AnswerNotFound):
        extract_answer(completion)


def test_boxed_fallback_only_when_allowed():
    text = r"so the answer is \boxed{\frac{1}{2}} indeed"
    assert last_boxed(text) == r"\frac{1}{2}"
    assert extract_answer(text, boxed=True) == r"\frac{1}{2}"
    with pytest.raises(AnswerNotFound):
        extract_answer(text)
    assert extract_answer(r"\boxed{1} <answer>2</answer>", boxed=True) == "2"
    assert last_boxed(r"\boxed{unbalanced") is None


def test_overlong_answer_rejected():
    with pytest.raises(AnswerNotFound, match="longer"):
        extract_answer("<answer>" + "1" * 5000 + "</answer>")


@pytest.mark.parametrize(
    "completion,reward",
    [
        ("<think>a</think><answer>b</answer>", 1.0),
        ("\n<think>\nsteps\n</think>\n<answer>7</answer>\n", 1.0),
        ("<answer>b</answer>", 0.0),
        ("<think>a</think>", 0.0),
        ("<think>a</think><answer>b</answer> extra", 0.0),
        ("<think>a<think>b</think></think><answer>c</answer>", 0.0),
        ("<think>a</think><answer>b</answer><answer>c</answer>", 0.0),
        ("preamble <think>a</think><answer>b</answer>", 0.0),
    ],
)
def test_format_reward(completion, reward):
    assert format_reward(completion) == reward


def test_overlong_penalty():
    assert overlong_penalty(50, 100, 20) == 0.0
    assert overlong_penalty(80, 100, 20) == 0.0
    assert overlong_penalty(90, 100, 20) == pytest.approx(-0.5)
    assert overlong_penalty(120, 100, 20) == -1.0
    with pytest.raises(ValueError):
        overlong_penalty(1, 10, 10)
