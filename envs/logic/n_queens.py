"""N-Queens: place N queens on an N x N board, some already placed, so that no two attack
each other (same row, column or diagonal).

Prompt: N and the pre-placed queens as (row, column) pairs, rows and columns numbered 1..N.
Answer: N column numbers, the column of the queen in row 1, row 2, ..., row N, separated by
spaces or commas, e.g. ``<answer>2 4 1 3</answer>``. Reward 1.0 for any placement without
attacks that keeps the pre-placed queens (puzzles may have several solutions), else 0.

Difficulty: 1 = N in 4..5 with 1 queen placed; 2 = N in 6..8 with 2 placed; 3 = N in 8..10
with 3 placed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

MAX_N = 14  # plain backtracking stays fast up to here


@dataclass(frozen=True)
class NQueensConfig(TaskConfig):
    LEVELS = Levels(
        ("min_n", "max_n", "preplaced"),
        {1: (4, 5, 1), 2: (6, 8, 2), 3: (8, 10, 3)},
        at_least={"max_n": "min_n"},
    )
    min_n: int | None = None
    """Smallest board size (default from difficulty)."""
    max_n: int | None = None
    """Largest board size (default from difficulty)."""
    preplaced: int | None = None
    """How many queens are given (default from difficulty)."""

    def validate(self) -> None:
        if not 4 <= self.min_n <= self.max_n <= MAX_N:
            raise ValueError(f"need 4 <= min_n <= max_n <= {MAX_N} (no solutions below 4), got {self.min_n}, {self.max_n}")
        if not 0 <= self.preplaced < self.min_n:
            raise ValueError(f"preplaced must be in 0..min_n-1, got {self.preplaced}")


@dataclass(frozen=True)
class NQueensProblem:
    prompt: str
    answer: str
    n: int
    given: tuple[tuple[int, int], ...]
    """Pre-placed queens as (row, column), 1-based."""


def _attacks(r1: int, c1: int, r2: int, c2: int) -> bool:
    return r1 == r2 or c1 == c2 or abs(r1 - r2) == abs(c1 - c2)


def solve(n: int, given: dict[int, int], order: list[int] | None = None, limit: int = 1) -> list[list[int]]:
    """Up to ``limit`` placements (column per row, 1-based) extending ``given`` (row -> column),
    trying columns in ``order`` (default 1..n), in depth-first order.

    Backtracking over bitmasks of the attacked columns and diagonals; ``blocked[row]`` holds the
    columns that the given queens of later rows attack in ``row``, so a branch that would run
    into a given queen is cut where the old pairwise test cut it (same solutions, same order).
    """
    order = order or list(range(1, n + 1))
    if limit < 1:
        return []
    blocked = [0] * (n + 2)
    for row in range(1, n + 1):
        for r, c in given.items():
            if r > row:
                for cc in (c, c - (r - row), c + (r - row)):
                    if 1 <= cc <= n:
                        blocked[row] |= 1 << cc
    choices = {row: [given[row]] if row in given else order for row in range(1, n + 1)}
    solutions: list[list[int]] = []
    cols: list[int] = []

    def place(row: int, used: int, up: int, down: int) -> None:
        # used: columns taken; up: diagonals r + c taken; down: diagonals r - c + n taken.
        if row > n:
            solutions.append(list(cols))
            return
        for c in choices[row]:
            if used >> c & 1 or up >> (row + c) & 1 or down >> (row - c + n) & 1 or blocked[row] >> c & 1:
                continue
            cols.append(c)
            place(row + 1, used | 1 << c, up | 1 << (row + c), down | 1 << (row - c + n))
            cols.pop()
            if len(solutions) >= limit:
                return

    place(1, 0, 0, 0)
    return solutions


def generate(rng: np.random.Generator, config: NQueensConfig) -> NQueensProblem:
    n = int(rng.integers(config.min_n, config.max_n + 1))
    order = [int(c) + 1 for c in rng.permutation(n)]
    full = solve(n, {}, order)[0]
    rows = sorted(int(r) + 1 for r in rng.choice(n, size=config.preplaced, replace=False))
    given = tuple((r, full[r - 1]) for r in rows)
    placed = (
        "Queens are already placed at (row, column): " + ", ".join(f"({r}, {c})" for r, c in given) + ". Keep them."
        if given
        else "No queens are placed yet."
    )
    prompt = (
        f"Place {n} queens on a {n}x{n} chessboard so that no two queens share a row, a column or a diagonal. "
        f"Rows and columns are numbered 1 to {n}. {placed}\n"
        f"Answer with {n} column numbers: the column of the queen in row 1, row 2, ..., row {n}, "
        f"separated by spaces, e.g. <answer>{' '.join(str(c) for c in range(1, n + 1))}</answer>."
    )
    return NQueensProblem(prompt, " ".join(map(str, full)), n, given)


_NUMBER_LIST = re.compile(r"^\d{1,3}(?:\s*[,;\s]\s*\d{1,3})*$", re.ASCII)


def parse_columns(text: str, n: int) -> list[int]:
    require_plain(text)
    body = text.strip().strip("[]().")
    if not _NUMBER_LIST.match(body):
        raise InvalidAnswer(f"expected {n} column numbers separated by spaces, got {text[:40]!r}")
    cols = [int(t) for t in re.split(r"[,;\s]+", body)]
    if len(cols) != n:
        raise InvalidAnswer(f"expected {n} column numbers (one per row), got {len(cols)}")
    bad = [c for c in cols if not 1 <= c <= n]
    if bad:
        raise InvalidAnswer(f"column {bad[0]} is outside 1..{n}")
    return cols


def verify(problem: NQueensProblem, answer: str) -> Verdict:
    cols = parse_columns(answer, problem.n)
    canonical = " ".join(map(str, cols))
    for r, c in problem.given:
        if cols[r - 1] != c:
            return Verdict(0.0, f"the given queen at ({r}, {c}) was moved", canonical)
    for r1 in range(1, problem.n + 1):
        for r2 in range(r1 + 1, problem.n + 1):
            if _attacks(r1, cols[r1 - 1], r2, cols[r2 - 1]):
                return Verdict(0.0, f"queens ({r1}, {cols[r1 - 1]}) and ({r2}, {cols[r2 - 1]}) attack each other", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: NQueensProblem) -> str:
    given = dict(problem.given)
    cols = [int(c) for c in problem.answer.split()]
    lines = ["Place queens row by row, each in a column not attacked by the queens so far "
             "(nor by the pre-placed ones), and backtrack when a row has no safe column."]
    for r, c in enumerate(cols, 1):
        lines.append(f"Row {r}: column {c}" + (" (given)" if r in given else ""))
    lines.append("No two of these queens share a row, column or diagonal.")
    lines.append(f"Columns: {problem.answer}")
    return "\n".join(lines)


NQueensEnv = register_task(
    "thinkgym/NQueens-v0", family="logic", config=NQueensConfig, generate=generate, verify=verify, explain=explain
)
