"""Countdown: reach a target number from given numbers with + - * / and parentheses.

Prompt: ``Use the numbers 3, 7, 25, 50 to make 181.`` with the rules and the answer format.
Answer: an arithmetic expression, e.g. ``<answer>7 * 25 + 3 + 3</answer>`` when 3 is given
twice (with one 3 it scores 0). Each given number may be used at most once (not all need be used); only + - * / and parentheses; intermediate fractions are
allowed. ``<expression> = <target>`` also reads. The expression is parsed by the safe math
parser with evaluation off, its numbers counted, and its value computed exactly with
fractions. Reward 1.0 when it uses only given numbers, each at most once, and equals the
target, else 0.

Difficulty: 1 = three numbers 1..10, target from two or three of them; 2 = four numbers, one
of them large (25, 50, 75, 100); 3 = six numbers as in the TV game, target 100..999.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.math.common import pick
from thinkgym.envs.registry import register_task
from thinkgym.rewards.mathparse import Equation, parse_answer
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

LARGE = (25, 50, 75, 100)
EXAMPLE_NUMBERS, EXAMPLE_VALUE = (3, 5, 2), 16  # the format line's "(3 + 5) * 2"


@dataclass(frozen=True)
class CountdownConfig(TaskConfig):
    LEVELS = Levels(
        ("count", "large", "targets"),
        {1: (3, 0, (5, 60)), 2: (4, 1, (20, 300)), 3: (6, 2, (100, 999))},
    )
    """How many numbers are given, how many of them are large (25, 50, 75, 100), the target range."""


@dataclass(frozen=True)
class CountdownProblem:
    prompt: str
    answer: str
    numbers: tuple[int, ...]
    target: int
    steps: tuple[str, ...]


def _combine(rng: np.random.Generator, values: list[tuple[int, str]]) -> tuple[int, str, list[str]] | None:
    """Combine the numbers pairwise at random, keeping every intermediate a positive integer."""
    steps: list[str] = []
    values = list(values)
    while len(values) > 1:
        i, j = (int(k) for k in rng.choice(len(values), size=2, replace=False))
        (a, ta), (b, tb) = values[i], values[j]
        if a < b:
            (a, ta), (b, tb) = (b, tb), (a, ta)
        op = pick(rng, "+-*/")
        if op == "-" and a == b or op == "/" and (b == 1 or a % b) or op == "*" and 1 in (a, b):
            op = "+"
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
        steps.append(f"{a} {op} {b} = {value}")
        text = f"({ta} {op} {tb})"
        values = [v for k, v in enumerate(values) if k not in (i, j)] + [(value, text)]
    value, text = values[0]
    return value, text[1:-1] if text.startswith("(") else text, steps


def generate(rng: np.random.Generator, config: CountdownConfig) -> CountdownProblem:
    count, large, (low, high) = config.level.values()
    while True:
        numbers = [int(v) for v in rng.integers(1, 11, size=count - large)] + [pick(rng, LARGE) for _ in range(large)]
        used = int(rng.integers(2, count + 1)) if config.difficulty > 1 else int(rng.integers(2, 4))
        chosen = [int(k) for k in rng.choice(count, size=used, replace=False)]
        result = _combine(rng, [(numbers[k], str(numbers[k])) for k in chosen])
        # The target is never a given number (the answer "target" alone), and the format example
        # is never a solution.
        if result and low <= result[0] <= high and result[0] not in numbers and not (
                result[0] == EXAMPLE_VALUE and not Counter(EXAMPLE_NUMBERS) - Counter(numbers)):
            break
    target, text, steps = result
    shown = ", ".join(map(str, numbers))
    prompt = (
        f"Use the numbers {shown} to make {target}.\n"
        "Rules: use + - * / and parentheses; each number may be used at most once (you need not use all).\n"
        "Answer with the expression, e.g. <answer>(3 + 5) * 2</answer>."
    )
    return CountdownProblem(prompt, text, tuple(numbers), target, tuple(steps))


def evaluate_countdown(expr: sympy.Expr) -> tuple[Fraction, Counter[int]]:
    """Exact value and the numbers used, for an unevaluated parse of + - * / over integers."""
    used: Counter[int] = Counter()

    def walk(node: sympy.Expr) -> Fraction:
        if node.is_Integer:
            if node == -1:
                raise InvalidAnswer("unexpected -1")
            used[int(node)] += 1
            return Fraction(int(node))
        if node.is_Add:
            return sum((walk(a) for a in node.args), Fraction(0))
        if node.is_Mul:
            product = Fraction(1)
            for arg in node.args:
                product *= -1 if arg is sympy.S.NegativeOne else walk(arg)
            return product
        if node.is_Pow and node.exp is sympy.S.NegativeOne:
            denominator = walk(node.base)
            if denominator == 0:
                raise InvalidAnswer("division by zero")
            return 1 / denominator
        raise InvalidAnswer("only numbers, + - * / and parentheses are allowed")

    return walk(expr), used


def verify(problem: CountdownProblem, answer: str) -> Verdict:
    value = parse_answer(answer, evaluate=False)
    if isinstance(value, Equation):  # "<expression> = <target>": the right side must be the target
        if not (isinstance(value.rhs, sympy.Expr) and value.rhs.is_Integer and int(value.rhs) == problem.target):
            return Verdict(0.0, f"the expression is claimed to equal {value.rhs}, not the target {problem.target}")
        value = value.lhs
    if not isinstance(value, sympy.Expr):
        raise InvalidAnswer("expected one arithmetic expression")
    result, used = evaluate_countdown(value)
    canonical = str(value)
    extra = used - Counter(problem.numbers)
    if extra:
        number = next(iter(extra))
        return Verdict(0.0, f"{number} is used more often than it is given", canonical)
    if result != problem.target:
        return Verdict(0.0, f"the expression equals {result}, not {problem.target}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: CountdownProblem) -> str:
    return "\n".join(["Combine two numbers at a time:"] + list(problem.steps) + [f"So {problem.answer} = {problem.target}"])


CountdownEnv = register_task(
    "thinkgym/Countdown-v0", family="math", config=CountdownConfig, generate=generate, verify=verify, explain=explain,
)
