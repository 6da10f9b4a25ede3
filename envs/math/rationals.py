"""Rational arithmetic: evaluate an expression of fractions.

Prompt: ``Compute 3/4 + 5/6 * 2/3`` and the answer format.
Answer: the exact value as a fraction or an integer, e.g. ``<answer>-7/12</answer>``
(``\\frac{-7}{12}``, ``-\\dfrac{7}{12}`` and unreduced forms such as ``14/-24`` also read).
Reward 1.0 for the exact value; decimals score 0 (the task asks for an exact fraction).

Difficulty: 1 = two fractions with denominators up to 6, + or -; 2 = three fractions up to 10
with * as well; 3 = four fractions up to 12 with * and /, parentheses, negative numerators.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from thinkgym.envs.math.common import pick
from thinkgym.envs.registry import register_task
from thinkgym.rewards.mathparse import parse_expression
from thinkgym.rewards.verdict import Verdict

_LEVELS = {1: (2, 6, "+-"), 2: (3, 10, "+-*"), 3: (4, 12, "+-*/")}  # operands, max denominator, operators


@dataclass(frozen=True)
class FractionConfig:
    difficulty: int = 1
    operands: int | None = None
    """Number of fractions (default from difficulty)."""
    max_denominator: int | None = None
    """Largest denominator (default from difficulty)."""

    def __post_init__(self) -> None:
        n, den, _ = _LEVELS[self.difficulty]
        object.__setattr__(self, "operands", n if self.operands is None else self.operands)
        object.__setattr__(self, "max_denominator", den if self.max_denominator is None else self.max_denominator)
        if not 2 <= self.operands <= 8:
            raise ValueError(f"operands must be in 2..8, got {self.operands}")
        if not 2 <= self.max_denominator <= 100:
            raise ValueError(f"max_denominator must be in 2..100, got {self.max_denominator}")


@dataclass(frozen=True)
class FractionProblem:
    prompt: str
    answer: str
    expression: str
    value: Fraction
    steps: tuple[str, ...]


def _fraction(rng: np.random.Generator, config: FractionConfig) -> Fraction:
    den = int(rng.integers(2, config.max_denominator + 1))
    num = int(rng.integers(1, den * 2))
    if config.difficulty >= 3 and rng.random() < 0.3:
        num = -num
    return Fraction(num, den)


def _text(f: Fraction) -> str:
    return f"({f.numerator}/{f.denominator})" if f.numerator < 0 else f"{f.numerator}/{f.denominator}"


def generate(rng: np.random.Generator, config: FractionConfig) -> FractionProblem:
    ops = _LEVELS[config.difficulty][2]
    first = _fraction(rng, config)
    text, value, steps = _text(first), first, []
    for _ in range(config.operands - 1):
        op = pick(rng, ops)
        operand = _fraction(rng, config)
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
    return FractionProblem(prompt, _show(value), text, value, tuple(steps))


def _show(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def verify(problem: FractionProblem, answer: str) -> Verdict:
    expr = parse_expression(answer)
    if expr.has(sympy.Float):
        return Verdict(0.0, "give an exact fraction, not a decimal", str(expr))
    if not expr.is_Rational:
        return Verdict(0.0, "the answer is not a rational number", str(expr))
    canonical = str(expr)
    if Fraction(int(expr.p), int(expr.q)) == problem.value:
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
