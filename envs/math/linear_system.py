"""Linear equations and systems with integer coefficients and a unique integer solution.

Prompt: the equations, one a line (``2x + 3y = 7``), and the answer format.
Answer: one equation: the value of x (``<answer>4</answer>`` or ``x = 4``); a system: the
values in the order of the variables as a tuple, e.g. ``<answer>(1, -2, 3)</answer>``, or as
equations ``x = 1, y = -2, z = 3`` in any order. Reward 1.0 when the values satisfy every
equation (checked by substitution, exactly for exact values, within 1e-6 for decimals), else 0.

Difficulty: 1 = one equation ``a x + b = c``; 2 = two equations in x, y; 3 = three in x, y, z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.math.common import nonzero_int, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.equivalence import expressions_equal
from thinkgym.rewards.mathparse import Equation, SetOf, Tup, parse_answer
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

NAMES = ("x", "y", "z")


@dataclass(frozen=True)
class LinearSystemConfig:
    difficulty: int = 1
    max_coefficient: int = 9
    """Coefficients are drawn from -max_coefficient..max_coefficient."""

    def __post_init__(self) -> None:
        if not 2 <= self.max_coefficient <= 100:
            raise ValueError(f"max_coefficient must be in 2..100, got {self.max_coefficient}")


@dataclass(frozen=True)
class LinearSystemProblem:
    prompt: str
    answer: str
    matrix: tuple[tuple[int, ...], ...]
    rhs: tuple[int, ...]
    solution: tuple[int, ...]


def generate(rng: np.random.Generator, config: LinearSystemConfig) -> LinearSystemProblem:
    n, c = config.difficulty, config.max_coefficient
    solution = tuple(int(v) for v in rng.integers(-9, 10, size=n))
    while True:
        if n == 1:
            matrix = ((nonzero_int(rng, -c, c),),)
        else:
            matrix = tuple(tuple(int(v) for v in rng.integers(-c, c + 1, size=n)) for _ in range(n))
        if sympy.Matrix(matrix).det() != 0:
            break
    rhs = tuple(sum(a * s for a, s in zip(row, solution)) for row in matrix)
    symbols = sympy.symbols(NAMES[:n])
    if n == 1:
        b = int(rng.integers(-20, 21))
        lines = [f"{to_text(matrix[0][0] * symbols[0] + b)} = {rhs[0] + b}"]
        fmt = "Answer with the value of x, e.g. <answer>-3</answer>."
        answer = str(solution[0])
    else:
        lines = [f"{to_text(sum(a * s for a, s in zip(row, symbols)))} = {r}" for row, r in zip(matrix, rhs)]
        fmt = f"Answer with the values of ({', '.join(NAMES[:n])}) as a tuple, e.g. <answer>({', '.join(['1', '-2', '3'][:n])})</answer>."
        answer = "(" + ", ".join(map(str, solution)) + ")"
    prompt = "Solve for " + ", ".join(NAMES[:n]) + ":\n" + "\n".join(lines) + "\n" + fmt
    return LinearSystemProblem(prompt, answer, matrix, rhs, solution)


def _values(problem: LinearSystemProblem, answer: str) -> tuple[sympy.Expr, ...]:
    n = len(problem.solution)
    value = parse_answer(answer)
    items = value.items if isinstance(value, (Tup, SetOf)) else (value,)
    if items and all(isinstance(v, Equation) for v in items):
        named = {}
        for eq in items:
            if not isinstance(eq.lhs, sympy.Symbol) or eq.lhs.name not in NAMES[:n] or not isinstance(eq.rhs, sympy.Expr):
                raise InvalidAnswer("write each value as 'x = 3'")
            named[eq.lhs.name] = eq.rhs
        if set(named) != set(NAMES[:n]):
            raise InvalidAnswer(f"give a value for each of {', '.join(NAMES[:n])}")
        items = tuple(named[name] for name in NAMES[:n])
    if len(items) != n or not all(isinstance(v, sympy.Expr) and not v.free_symbols for v in items):
        raise InvalidAnswer(f"expected {n} number(s) in the order {', '.join(NAMES[:n])}")
    return tuple(items)


def verify(problem: LinearSystemProblem, answer: str) -> Verdict:
    values = _values(problem, answer)
    canonical = "(" + ", ".join(str(v) for v in values) + ")" if len(values) > 1 else str(values[0])
    for row, r in zip(problem.matrix, problem.rhs):
        if not expressions_equal(sympy.Add(*(a * v for a, v in zip(row, values))), sympy.Integer(r)):
            return Verdict(0.0, "the values do not satisfy every equation", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: LinearSystemProblem) -> str:
    n = len(problem.solution)
    if n == 1:
        a = problem.matrix[0][0]
        return f"Move the constant to the right: {a}x = {problem.rhs[0]}. Divide by {a}: x = {problem.answer}"
    matrix = sympy.Matrix(problem.matrix)
    det = matrix.det()
    lines = [f"The determinant of the coefficient matrix is {det}, so Cramer's rule applies:"]
    for i, name in enumerate(NAMES[:n]):
        replaced = matrix.copy()
        replaced[:, i] = sympy.Matrix(problem.rhs)
        lines.append(f"{name} = {replaced.det()} / {det} = {problem.solution[i]}")
    return "\n".join(lines + [f"Solution: {problem.answer}"])


LinearSystemEnv = register_task(
    "thinkgym/LinearSystem-v0", family="math", config=LinearSystemConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
