"""Integer arithmetic: evaluate an expression with +, -, * and parentheses.

Prompt: ``Compute the value of the expression: (7 - 3) * 5 + 2`` and the answer format.
Answer: the integer value, e.g. ``<answer>22</answer>`` (a sign, digits, optional thousands
commas; also ``The answer is 22``, ``\\boxed{22}``, ``$22$``). Reward 1.0 when the value is right, else
0; an expression is never evaluated, so the prompt's expression echoed back (or any other
arithmetic still to do) scores 0. The value is never one of the operands or the example.

Difficulty: 1 = two or three small operands with + and -; 2 = three or four operands with *,
and parentheses; 3 = five or six operands up to 99, negatives allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.math.common import read_number
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class ArithmeticConfig(TaskConfig):
    LEVELS = Levels(
        ("min_operands", "max_operands", "max_value", "operators"),
        {1: (2, 3, 20, "+-"), 2: (3, 4, 20, "+-*"), 3: (5, 6, 99, "+-*")},
        at_least={"max_operands": "min_operands"},
    )
    min_operands: int | None = None
    """Fewest numbers in the expression (default from difficulty)."""
    max_operands: int | None = None
    """Most numbers in the expression (default from difficulty)."""
    max_value: int | None = None
    """Largest operand (default from difficulty)."""

    def validate(self) -> None:
        ordered(self, "min_operands", "max_operands", 2, 12)
        within(self, "max_value", 2, 10**6)

    @property
    def operators(self) -> str:
        return self.level["operators"]


@dataclass(frozen=True)
class ArithmeticProblem:
    prompt: str
    answer: str
    expression: str
    value: int
    steps: tuple[str, ...]


EXAMPLE = -42  # the answer shown in the prompt's format line


def generate(rng: np.random.Generator, config: ArithmeticConfig) -> ArithmeticProblem:
    """Draw until the value is neither one of the operands nor the format example, so that
    copying a number from the prompt never scores."""
    while True:
        n = int(rng.integers(config.min_operands, config.max_operands + 1))
        low = -config.max_value if config.difficulty >= 3 else 1
        numbers = [int(rng.integers(low, config.max_value + 1)) for _ in range(n)]
        text, value, steps = _build(rng, numbers, config.operators, parenthesise=config.difficulty >= 2)
        if value != EXAMPLE and value not in numbers:
            break
    prompt = (
        f"Compute the value of the expression: {text}\n"
        "Multiplication binds tighter than addition and subtraction. "
        "Give the result as an integer, e.g. <answer>-42</answer>."
    )
    return ArithmeticProblem(prompt, str(value), text, value, tuple(steps))


def _build(rng: np.random.Generator, numbers: list[int], ops: str, parenthesise: bool) -> tuple[str, int, list[str]]:
    """Combine numbers left to right into an expression tree; return its text, value and the
    evaluation steps in the order a person would do them (innermost first)."""
    steps: list[str] = []
    text, value, prec = _atom(numbers[0])
    for number in numbers[1:]:
        op = ops[int(rng.integers(len(ops)))]
        rtext, rvalue, rprec = _atom(number)
        if parenthesise and prec == 1 and op == "*" and rng.random() < 0.7:
            text, prec = f"({text})", 3
        elif prec == 1 and op == "*":
            # Without parentheses, "a + b * c" would be read as a + (b * c): keep the tree
            # faithful to the text by multiplying the right operand into the last term instead.
            op = "+"
        new_value = {"+": value + rvalue, "-": value - rvalue, "*": value * rvalue}[op]
        steps.append(f"{value} {op} {_paren(rvalue)} = {new_value}")
        text, value, prec = f"{text} {op} {rtext}", new_value, (2 if op == "*" else 1)
    return text, value, steps


def _atom(n: int) -> tuple[str, int, int]:
    return (_paren(n), n, 3)


def _paren(n: int) -> str:
    return f"({n})" if n < 0 else str(n)


_INT_RE = re.compile(r"^(?:=\s*)?([+-]?)\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.0*)?\.?$")


def parse_integer(text: str) -> int:
    """Read an integer answer: optional sign, digits with optional thousands commas; other
    written forms (``The answer is 7``, ``\\boxed{-12}``, ``$1{,}000$``) through the safe math
    parser, which must find one integer written as a number (an expression to evaluate, such as
    the prompt's own, does not count; see :func:`thinkgym.envs.math.common.read_number`)."""
    match = _INT_RE.match(text.strip().replace("\u2212", "-"))
    if match and len(text) <= 64:
        return int(match.group(1) + match.group(2).replace(",", ""))
    return int(read_number(text, integer=True))


def verify(problem: ArithmeticProblem, answer: str) -> Verdict:
    value = parse_integer(answer)
    if value == problem.value:
        return Verdict(1.0, canonical=str(value))
    return Verdict(0.0, f"{value} is not the value of the expression", canonical=str(value))


def explain(problem: ArithmeticProblem) -> str:
    lines = [f"Evaluate {problem.expression} step by step:"] + list(problem.steps)
    lines.append(f"So the value is {problem.value}.")
    return "\n".join(lines)


ArithmeticEnv = register_task(
    "thinkgym/Arithmetic-v0", family="math", config=ArithmeticConfig, generate=generate, verify=verify, explain=explain
)
