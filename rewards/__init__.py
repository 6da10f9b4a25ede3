"""Rewards shared by every env: answer extraction, the R1 format reward, shaping terms,
math answer equivalence and the verification guard.

``math_equal`` lives in :mod:`thinkgym.rewards.equivalence` (parser in
:mod:`thinkgym.rewards.mathparse`, numeric evaluation in :mod:`thinkgym.rewards.mathnum`) and is
imported lazily, so that importing the extraction helpers does not pull in sympy.
"""

from __future__ import annotations

from typing import Any

from thinkgym.rewards.extract import AnswerNotFound, extract_answer, last_boxed
from thinkgym.rewards.format import format_reward, overlong_penalty
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

__all__ = [
    "AnswerNotFound",
    "InvalidAnswer",
    "Verdict",
    "extract_answer",
    "format_reward",
    "last_boxed",
    "math_equal",
    "overlong_penalty",
]


def __getattr__(name: str) -> Any:
    if name == "math_equal":
        from thinkgym.rewards.equivalence import math_equal

        return math_equal
    raise AttributeError(f"module 'thinkgym.rewards' has no attribute {name!r}")
