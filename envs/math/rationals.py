"""Rational arithmetic: evaluate an expression of fractions.

Prompt: ``Compute 3/4 + 5/6 * 2/3`` and the answer format.
Answer: the exact value as one integer or one fraction in lowest terms, e.g.
``<answer>-7/12</answer>`` (``\\frac{-7}{12}``, ``-\\dfrac{7}{12}`` and ``7/-12`` also read).
Reward 1.0 for the exact value in that form. An unreduced fraction (``14/-24``), a decimal, a
mixed number, or any expression still to compute (the prompt's own expression echoed back,
``-7/12 + 0``) scores 0: the task asks for the computed value in lowest terms.

Difficulty: 1 = two fractions with denominators up to 6, + or -; 2 = three fractions up to 10
with * as well; 3 = four fractions up to 12 with * and /, parentheses, negative numerators.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.math.common import pick, read_number
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class FractionConfig(TaskConfig):
    LEVELS = Levels(
        ("operands", "max_denominator", "operators"),
        {1: (2, 6, "+-"), 2: (3, 10, "+-*"), 3: (4, 12, "+-*/")},
    )
    operands: int | None = None
    """Number of fractions (default from difficulty)."""
    max_denominator: int | None = None
    """Largest denominator (default from difficulty)."""

    def validate(self) -> None:
        within(self, "operands", 2, 8)
        within(self, "max_denominator", 2, 100)


@dataclass(frozen=True)
class FractionProblem:
    prompt: str
    answer: str
    expression: str
    value: Fraction
    steps: tuple[str, ...]


EXAMPLE = Fraction(-7, 12)  # the answer shown in the prompt's format line: never the value


def _fraction(rng: np.random.Generator, config: FractionConfig) -> Fraction:
    den = int(rng.integers(2, config.max_denominator + 1))
    num = int(rng.integers(1, den * 2))
    while num % den == 0:  # an operand that is an integer (2/2) would make "* 1" problems
        num = int(rng.integers(1, den * 2))
    if config.difficulty >= 3 and rng.random() < 0.3:
        num = -num
    return Fraction(num, den)


def _text(f: Fraction) -> str:
    return f"({f.numerator}/{f.denominator})" if f.numerator < 0 else f"{f.numerator}/{f.denominator}"


def generate(rng: np.random.Generator, config: FractionConfig) -> FractionProblem:
    """Draw until the problem is not degenerate: the value is not 0, not one of the operands and
    not the format example, so that neither echoing a number nor the example scores."""
    while True:
        problem, operands = _draw(rng, config)
        if problem.value not in (0, EXAMPLE, *operands):
            return problem


def _draw(rng: np.random.Generator, config: FractionConfig) -> tuple[FractionProblem, list[Fraction]]:
    ops = config.level["operators"]
    first = _fraction(rng, config)
    text, value, steps, operands = _text(first), first, [], [first]
    for _ in range(config.operands - 1):
        op = pick(rng, ops)
        operand = _fraction(rng, config)
        operands.append(operand)
        # Left to right with explicit parentheses, so the text always means what we compute.
        if op in "*/" and len(steps) > 0:
            text = f"({text})"
        value_new = {"+": value + operand, "-": value - operand, "*": value * operand, "/": value / operand}[op]
        steps.append(f"{_show(value)} {op} {_text(operand)} = {_show(value_new)}")
        operand_text = f"({operand.numerator}/{operand.denominator})" if op == "/" else _text(operand)
        text, value = f"{text} {op} {operand_text}", value_new
    prompt = (
        f"Compute the exact value of: {text}\n"
        "Give the result as a fraction in lowest terms (or an integer), e.g. <answer>-7/12</answer>."
    )
    return FractionProblem(prompt, _show(value), text, value, tuple(steps)), operands


def _show(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def verify(problem: FractionProblem, answer: str) -> Verdict:
    value = read_number(answer, decimals=False)
    canonical = _show(value)
    if value == problem.value:
        return Verdict(1.0, canonical=canonical)
    return Verdict(0.0, f"{canonical} is not the value of the expression", canonical)


def explain(problem: FractionProblem) -> str:
    lines = [f"Evaluate {problem.expression} from left to right, using a common denominator for + and -:"]
    lines += list(problem.steps)
    lines.append(f"So the value is {problem.answer}.")
    return "\n".join(lines)


FractionArithmeticEnv = register_task(
    "thinkgym/FractionArithmetic-v0", family="math", config=FractionConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
