"""Sudoku: fill the grid so that every row, column and box holds each digit once.

Prompt: the grid, one row a line, digits separated by spaces, ``.`` for an empty cell; the box
shape is stated (4x4: 2x2 boxes, 6x6: boxes of 2 rows by 3 columns, 9x9: 3x3 boxes).
Answer: the filled grid, one row a line, digits separated by spaces (or not; commas and ``|``
also read, as do box separator lines of ``-`` and ``+``), e.g. for 4x4
``<answer>1 2 3 4\\n3 4 1 2\\n2 1 4 3\\n4 3 2 1</answer>``. All N*N digits in one line also
read. The generator proves with a solver that the solution is unique; the verifier checks the
constraints, so any grid that meets them and keeps the givens scores 1.0, anything else 0.

Difficulty: 1 = 4x4 with 8 givens; 2 = 6x6 with 16 givens; 3 = 9x9 with 32 givens (fewer
givens when asked for, down to what uniqueness allows).
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}  # size -> box rows, box columns
MAX_STEPS = 25


def _check_size(config: SudokuConfig) -> None:
    if config.size not in BOXES:
        raise ValueError(f"size must be one of {sorted(BOXES)}, got {config.size}")


def _givens(count: int, size: int) -> Callable[[SudokuConfig], int]:
    """A level's number of givens on its own grid size, scaled to the size the config asks for."""

    def scaled(config: SudokuConfig) -> int:
        _check_size(config)
        return round(count * config.size**2 / size**2)

    return scaled


@dataclass(frozen=True)
class SudokuConfig(TaskConfig):
    LEVELS = Levels(("size", "givens"), {1: (4, _givens(8, 4)), 2: (6, _givens(16, 6)), 3: (9, _givens(32, 9))})
    size: int | None = None
    """Grid size: 4, 6 or 9 (default from difficulty)."""
    givens: int | None = None
    """Target number of given digits (default from difficulty); more remain when removing
    another digit would make the solution non-unique."""

    def validate(self) -> None:
        _check_size(self)
        if not 0 <= self.givens <= self.size**2:
            raise ValueError(f"givens must be in 0..{self.size**2}, got {self.givens}")


@dataclass(frozen=True)
class SudokuProblem:
    prompt: str
    answer: str
    size: int
    puzzle: tuple[int, ...]
    """Row-major cells, 0 for empty."""
    solution: tuple[int, ...]


class _Geometry:
    """Unit masks bookkeeping for an N x N grid (cells indexed row-major)."""

    def __init__(self, n: int) -> None:
        self.n = n
        bh, bw = BOXES[n]
        self.row = [i // n for i in range(n * n)]
        self.col = [i % n for i in range(n * n)]
        self.box = [(i // n) // bh * (n // bw) + (i % n) // bw for i in range(n * n)]
        self.full = (1 << n) - 1
        # (kind, number, getter of the unit's cells), rows first: checking a grid is 3n C calls.
        self.units = [
            (name, k, operator.itemgetter(*(i for i in range(n * n) if unit[i] == k)))
            for name, unit in (("row", self.row), ("column", self.col), ("box", self.box))
            for k in range(n)
        ]


_GEOMETRY = {n: _Geometry(n) for n in BOXES}


def count_solutions(grid: list[int], n: int, limit: int = 2, banned: tuple[int, int] | None = None) -> int:
    """Number of completions of ``grid`` (0 = empty), up to ``limit``; ``banned`` = (cell, digit)
    forbids one digit in one cell. Depth-first search on the cell with fewest candidates."""
    g = _GEOMETRY[n]
    rows, cols, boxes = [0] * n, [0] * n, [0] * n
    empty = []
    for i, v in enumerate(grid):
        if v:
            bit = 1 << (v - 1)
            if rows[g.row[i]] & bit or cols[g.col[i]] & bit or boxes[g.box[i]] & bit:
                return 0
            rows[g.row[i]] |= bit
            cols[g.col[i]] |= bit
            boxes[g.box[i]] |= bit
        else:
            empty.append(i)
    ban_cell, ban_bit = (banned[0], 1 << (banned[1] - 1)) if banned else (-1, 0)
    found = 0

    def search() -> None:
        nonlocal found
        best, best_mask, best_count = -1, 0, n + 1
        for k, i in enumerate(empty):
            if i < 0:
                continue
            mask = g.full & ~(rows[g.row[i]] | cols[g.col[i]] | boxes[g.box[i]])
            if i == ban_cell:
                mask &= ~ban_bit
            count = bin(mask).count("1")
            if count < best_count:
                best, best_mask, best_count = k, mask, count
                if count <= 1:
                    break
        if best < 0:
            found += 1
            return
        if best_count == 0:
            return
        i = empty[best]
        empty[best] = -1
        r, c, b = g.row[i], g.col[i], g.box[i]
        mask = best_mask
        while mask and found < limit:
            bit = mask & -mask
            mask ^= bit
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            search()
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
        empty[best] = i

    search()
    return found


def _full_grid(rng: np.random.Generator, n: int) -> list[int]:
    """A random valid grid: a pattern grid with rows, bands, columns, stacks and digits shuffled."""
    bh, bw = BOXES[n]
    rows = [band * bh + r for band in rng.permutation(n // bh) for r in rng.permutation(bh)]
    cols = [stack * bw + c for stack in rng.permutation(n // bw) for c in rng.permutation(bw)]
    digits = [int(d) + 1 for d in rng.permutation(n)]
    return [digits[(bw * (r % bh) + r // bh + c) % n] for r in rows for c in cols]


def _candidates(grid: list[int], n: int, i: int) -> int:
    g = _GEOMETRY[n]
    used = 0
    for j, v in enumerate(grid):
        if v and (g.row[j] == g.row[i] or g.col[j] == g.col[i] or g.box[j] == g.box[i]):
            used |= 1 << (v - 1)
    return g.full & ~used


def generate(rng: np.random.Generator, config: SudokuConfig) -> SudokuProblem:
    n = config.size
    solution = _full_grid(rng, n)
    grid = list(solution)
    remaining = n * n
    for i in rng.permutation(n * n):
        if remaining <= config.givens:
            break
        i, digit = int(i), grid[int(i)]
        grid[i] = 0
        # The puzzle stays unique unless some completion puts another digit in this cell; when
        # the givens alone leave only this digit there, none can.
        if _candidates(grid, n, i) != 1 << (digit - 1) and count_solutions(grid, n, limit=1, banned=(i, digit)):
            grid[i] = digit
        else:
            remaining -= 1
    bh, bw = BOXES[n]
    prompt = (
        f"Solve this {n}x{n} Sudoku. Fill every empty cell (.) with a digit from 1 to {n} so that each row, each column "
        f"and each of the {n} boxes of {bh} rows by {bw} columns contains every digit from 1 to {n} exactly once.\n"
        f"{_grid_text(grid, n, empty='.')}\n"
        "Answer with the completed grid, one row per line, digits separated by spaces, e.g.\n"
        f"<answer>\n{_grid_text(grid, n, empty='?')}\n</answer> with every ? replaced by a digit."
    )
    return SudokuProblem(prompt, _grid_text(solution, n), n, tuple(grid), tuple(solution))


def _grid_text(cells: list[int] | tuple[int, ...], n: int, empty: str = ".") -> str:
    return "\n".join(" ".join(str(v) if v else empty for v in cells[r * n : (r + 1) * n]) for r in range(n))


_SEPARATOR_LINE = re.compile(r"^[-+=|\s]*$")
_ROW_CHARS = re.compile(r"^[\d\s,|]*$", re.ASCII)
_ROW_GAPS = str.maketrans("", "", " \t\r\f\v,|")  # what _ROW_CHARS allows besides digits (no newline: lines are split)


def parse_grid(text: str, n: int) -> list[int]:
    """Read a filled grid: n lines of n digits, or one line of n*n digits."""
    require_plain(text)
    lines = [line.strip() for line in text.strip().splitlines() if not _SEPARATOR_LINE.match(line)]
    bad = next((line for line in lines if not _ROW_CHARS.match(line)), None)
    if bad is not None:
        raise InvalidAnswer(f"cannot read the row {bad[:30]!r}; use digits separated by spaces")
    rows = [line.translate(_ROW_GAPS) for line in lines]
    if len(rows) == 1 and len(rows[0]) == n * n:
        rows = [rows[0][r * n : (r + 1) * n] for r in range(n)]
    if len(rows) != n or any(len(row) != n for row in rows):
        raise InvalidAnswer(f"expected {n} rows of {n} digits, got rows of lengths {[len(r) for r in rows][:12]}")
    cells = list(map(int, "".join(rows)))
    if any(not 1 <= v <= n for v in cells):
        raise InvalidAnswer(f"digits must be from 1 to {n}")
    return cells


@functools.lru_cache(maxsize=256)
def _givens(puzzle: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(indices of the given cells, their digits), once per puzzle."""
    places = tuple(i for i, v in enumerate(puzzle) if v)
    return places, tuple(puzzle[i] for i in places)


def verify(problem: SudokuProblem, answer: str) -> Verdict:
    n = problem.size
    cells = parse_grid(answer, n)
    canonical = _grid_text(cells, n)
    places, givens = _givens(problem.puzzle)
    if tuple(map(cells.__getitem__, places)) != givens:
        i = next(i for i, given in enumerate(problem.puzzle) if given and cells[i] != given)
        return Verdict(0.0, f"the given {problem.puzzle[i]} at row {i // n + 1}, column {i % n + 1} was changed", canonical)
    g = _GEOMETRY[n]
    for name, k, cells_of in g.units:
        if len(set(cells_of(cells))) != n:
            return Verdict(0.0, f"{name} {k + 1} repeats a digit", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: SudokuProblem) -> str:
    """Fill naked singles (a cell with one candidate) and hidden singles (a digit with one place
    in a unit); when neither exists, take the solver's digit for the cell with fewest candidates."""
    n, g = problem.size, _GEOMETRY[problem.size]
    grid = list(problem.puzzle)
    steps: list[str] = []
    while 0 in grid:
        cands = {i: _candidates(grid, n, i) for i, v in enumerate(grid) if not v}
        move = next(((i, m.bit_length(), "only candidate") for i, m in cands.items() if m & (m - 1) == 0), None)
        if move is None:
            move = _hidden_single(cands, g, n)
        if move is None:
            i = min(cands, key=lambda k: (bin(cands[k]).count("1"), k))
            move = (i, problem.solution[i], "trial: the other candidates lead to contradictions")
        i, digit, why = move
        grid[i] = digit
        steps.append(f"r{i // n + 1}c{i % n + 1} = {digit} ({why})")
    shown = steps[:MAX_STEPS] + ([f"... and {len(steps) - MAX_STEPS} more steps"] if len(steps) > MAX_STEPS else [])
    return "\n".join(["Fill cells one at a time:"] + shown + ["Completed grid:", problem.answer])


def _hidden_single(cands: dict[int, int], g: _Geometry, n: int) -> tuple[int, int, str] | None:
    for name, unit in (("row", g.row), ("column", g.col), ("box", g.box)):
        for k in range(n):
            for d in range(n):
                spots = [i for i, m in cands.items() if unit[i] == k and m >> d & 1]
                if len(spots) == 1:
                    return spots[0], d + 1, f"only place for {d + 1} in its {name}"
    return None


SudokuEnv = register_task(
    "thinkgym/Sudoku-v0", family="logic", config=SudokuConfig, generate=generate, verify=verify, explain=explain
)
