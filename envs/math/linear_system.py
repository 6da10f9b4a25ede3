"""Linear equations and systems with integer coefficients and a unique integer solution.

Prompt: the equations, one a line (``2x + 3y = 7``), and the answer format.
Answer: one equation: the value of x (``<answer>4</answer>`` or ``x = 4``); a system: the
values in the order of the variables as a tuple, e.g. ``<answer>(1, -2, 3)</answer>``, or as
equations ``x = 1, y = -2, z = 3`` in any order, each unknown exactly once. Reward 1.0 when
the values are the solution, compared exactly (a decimal counts with its exact value: ``4.0``
is 4, ``4.0000007`` is not), else 0. Each value must be a number written as one: an expression
still to compute (``2*3 - 1``), an unreduced fraction, a missing unknown, an unknown given twice
(``x = 8 or x = 7``, even with the same value) or an unordered set ``\\{1, 2\\}`` scores 0.
Every equation has at least two unknowns (a system), or for one equation a constant term, so
no line of the prompt is already an answer; the solution is never the format example.

Difficulty: 1 = one equation ``a x + b = c``; 2 = two equations in x, y; 3 = three in x, y, z.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from thinkgym.envs.levels import TaskConfig, within
from thinkgym.envs.math.common import nonzero_int, number_value, to_text
from thinkgym.envs.registry import register_task
from thinkgym.rewards.mathparse import Equation, SetOf, Tup, parse_answer
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

NAMES = ("x", "y", "z")


@dataclass(frozen=True)
class LinearSystemConfig(TaskConfig):
    max_coefficient: int = 9
    """Coefficients are drawn from -max_coefficient..max_coefficient."""

    def validate(self) -> None:
        within(self, "max_coefficient", 2, 100)


@dataclass(frozen=True)
class LinearSystemProblem:
    prompt: str
    answer: str
    matrix: tuple[tuple[int, ...], ...]
    rhs: tuple[int, ...]
    solution: tuple[int, ...]


def generate(rng: np.random.Generator, config: LinearSystemConfig) -> LinearSystemProblem:
    n, c = config.difficulty, config.max_coefficient
    example = (-3,) if n == 1 else (1, -2, 3)[:n]  # the format line's answer
    solution = example
    while solution == example:
        solution = tuple(int(v) for v in rng.integers(-9, 10, size=n))
    while True:
        if n == 1:
            matrix = ((nonzero_int(rng, -c, c),),)
        else:
            matrix = tuple(tuple(int(v) for v in rng.integers(-c, c + 1, size=n)) for _ in range(n))
        # A line with one unknown ("y = 4", "3z = 6") would be most of the answer already.
        if sympy.Matrix(matrix).det() != 0 and (n == 1 or all(sum(1 for a in row if a) >= 2 for row in matrix)):
            break
    rhs = tuple(sum(a * s for a, s in zip(row, solution)) for row in matrix)
    symbols = sympy.symbols(NAMES[:n])
    if n == 1:
        b = nonzero_int(rng, -20, 20)  # "x = 4" (a = 1, b = 0) would pose the answer
        lines = [f"{to_text(matrix[0][0] * symbols[0] + b)} = {rhs[0] + b}"]
        fmt = "Answer with the value of x, e.g. <answer>-3</answer>."
        answer = str(solution[0])
    else:
        lines = [f"{to_text(sum(a * s for a, s in zip(row, symbols)))} = {r}" for row, r in zip(matrix, rhs)]
        fmt = f"Answer with the values of ({', '.join(NAMES[:n])}) as a tuple, e.g. <answer>({', '.join(['1', '-2', '3'][:n])})</answer>."
        answer = "(" + ", ".join(map(str, solution)) + ")"
    prompt = "Solve for " + ", ".join(NAMES[:n]) + ":\n" + "\n".join(lines) + "\n" + fmt
    return LinearSystemProblem(prompt, answer, matrix, rhs, solution)


def _values(problem: LinearSystemProblem, answer: str) -> tuple[Fraction, ...]:
    """The answer's values in the order of the unknowns, each a number in computed form."""
    n = len(problem.solution)
    value = parse_answer(answer, evaluate=False)
    if isinstance(value, SetOf) and value.braced and not all(isinstance(v, Equation) for v in value.items):
        raise InvalidAnswer("a set has no order: give the values as a tuple or as 'x = 1, y = 2'")
    items = value.items if isinstance(value, (Tup, SetOf)) else (value,)
    if any(isinstance(v, Equation) for v in items):
        named: dict[str, sympy.Expr] = {}
        for eq in items:
            if not (isinstance(eq, Equation) and isinstance(eq.lhs, sympy.Symbol) and eq.lhs.name in NAMES[:n]
                    and isinstance(eq.rhs, sympy.Expr)):
                raise InvalidAnswer(f"write each value as '{NAMES[0]} = 3', for each of {', '.join(NAMES[:n])}")
            if eq.lhs.name in named:  # "x = 8 or x = 7": two claims about one unknown
                raise InvalidAnswer(f"{eq.lhs.name} is given more than once: give each unknown exactly one value")
            named[eq.lhs.name] = eq.rhs
        if set(named) != set(NAMES[:n]):
            raise InvalidAnswer(f"give a value for each of {', '.join(NAMES[:n])}")
        items = tuple(named[name] for name in NAMES[:n])
    if len(items) != n or not all(isinstance(v, sympy.Expr) for v in items):
        raise InvalidAnswer(f"expected {n} number(s) in the order {', '.join(NAMES[:n])}")
    return tuple(number_value(v) for v in items)


def verify(problem: LinearSystemProblem, answer: str) -> Verdict:
    if "%" in answer:
        raise InvalidAnswer("the question does not ask for a percentage")
    values = _values(problem, answer)
    canonical = ", ".join(_show(v) for v in values)
    canonical = f"({canonical})" if len(values) > 1 else canonical
    # The solution is unique (the matrix is invertible), so exact equality with it is the same
    # as satisfying every equation.
    if values != tuple(Fraction(v) for v in problem.solution):
        return Verdict(0.0, "the values do not satisfy every equation", canonical)
    return Verdict(1.0, canonical=canonical)


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


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
