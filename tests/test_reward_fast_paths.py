"""The fast paths of the shared rewards agree with their plain definitions.

``format_reward`` replaced a tempered regular expression by substring searches; the regex is
kept here as the specification and compared on generated completions built from tag pieces.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkgym.rewards import format_reward

R1_FORMAT = re.compile(
    r"\A\s*<think>(?:(?!</?think>).)*</think>\s*<answer>(?:(?!</?answer>).)*</answer>\s*\Z",
    re.DOTALL,
)

PIECES = ["<think>", "</think>", "<answer>", "</answer>", "<think", "answer>", "</", "<", ">", "a", "7", " ", "\n", "\t", "\x1c", "\u00a0", "<THINK>"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_format_reward_matches_the_regex(pieces):
    completion = "".join(pieces)
    assert format_reward(completion) == (1.0 if R1_FORMAT.match(completion) else 0.0), completion


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(["", " ", "\n"]), st.lists(st.sampled_from(PIECES), max_size=5),
    st.sampled_from(["", "\n", " \n "]), st.lists(st.sampled_from(PIECES), max_size=5), st.sampled_from(["", "\n"]),
)
def test_format_reward_on_near_r1_shapes(lead, think, gap, answer, tail):
    completion = f"{lead}<think>{''.join(think)}</think>{gap}<answer>{''.join(answer)}</answer>{tail}"
    assert format_reward(completion) == (1.0 if R1_FORMAT.match(completion) else 0.0), completion


def test_format_reward_length_cap():
    text = "<think>" + "x" * 70000 + "</think><answer>1</answer>"
    assert format_reward(text) == 0.0
    assert format_reward(text, max_chars=100000) == 1.0


def _spin(problem, answer):
    while True:
        pass


def test_guard_times_out_after_many_quick_calls_and_a_later_longer_deadline():
    """The watchdog is woken only for a deadline that comes first, and purges disarmed alarms
    in bulk: neither may delay the timeout of a verifier that overruns."""
    import time

    from thinkgym.rewards.guard import _PURGE_AT, guarded_verify

    for _ in range(_PURGE_AT + 10):  # fills and purges the queue of disarmed alarms
        assert guarded_verify(lambda p, a: 1.0, None, "x", time_limit=30.0)[0].score == 1.0
    start = time.perf_counter()
    verdict, parsed = guarded_verify(_spin, None, "x", time_limit=0.2)  # earlier than all queued
    assert (verdict.score, parsed) == (0.0, False) and "longer than" in verdict.reason
    assert time.perf_counter() - start < 1.5
    guarded_verify(lambda p, a: 1.0, None, "x", time_limit=0.1)  # queued before the next one
    start = time.perf_counter()
    verdict, _ = guarded_verify(_spin, None, "x", time_limit=0.4)  # not first in the queue
    assert "longer than" in verdict.reason
    assert 0.35 < time.perf_counter() - start < 2.0


def test_extract_answer_keeps_indices_on_text_that_lowercases_longer():
    from thinkgym.rewards import extract_answer

    # "\u0130".lower() is two characters: folding the whole text would shift every index.
    assert extract_answer("\u0130\u0130 <ANSWER>7</Answer> \u0130") == "7"
    assert extract_answer("<answer>\u0130x</answer>") == "\u0130x"
