"""Lichess puzzles: a loader for the Lichess puzzle CSV and an env that poses them.

The file format is the Lichess puzzle database's (https://database.lichess.org/#puzzles):
a header row, then one puzzle a row; columns are found by header name, and only ``PuzzleId``,
``FEN``, ``Moves``, ``Rating`` and ``Themes`` are used (``RatingDeviation``, ``Popularity``,
``NbPlays``, ``GameUrl``, ``OpeningTags`` may be there too). ``FEN`` is the position *before*
the opponent's move; ``Moves`` is the solution line in UCI, space-separated, starting with that
opponent move, which is applied before the position is shown. The player's moves are
``Moves[1], Moves[3], ...``; ``Themes`` is a space-separated list (``mateIn1``, ``fork``, ...).

Env ``thinkgym/LichessPuzzle-v0``. Prompt: the position after the opponent's move (FEN, ASCII
diagram, side to move), the move just played, and the answer format. Answer: the player's first
move in SAN or UCI, e.g. ``<answer>Qxd7+</answer>``. Reward 1.0 for the solution's first move
(``Moves[1]``) and, as on Lichess, for any move that checkmates at once (so every mating move
of a ``mateIn1`` puzzle counts); else 0, and an illegal or unreadable move 0 with the reason.

Config: ``path`` (default: ``envs/data/lichess_sample.csv`` shipped with thinkgym), a rating band
(default from difficulty: 1 = below 1300, 2 = 1300 to 1899, 3 = 1900 and up) and ``themes``
(keep puzzles having all of them). Nothing is downloaded; pass the path of a downloaded and
decompressed ``lichess_db_puzzle.csv`` to train on the real database (only the selected rows
are kept in memory). ``reset(options={"fen": FEN})`` poses the selected puzzle whose shown
position has that FEN.

The shipped sample is *not* from the Lichess database: its rows were constructed in the same
format by ``examples/make_lichess_sample.py`` (seeded random games; a mate in one, or a mate in
two with exactly one key move, found by exhaustive search; or a unique winning move found by
BestMove-v0's filter with a 500000-node MultiPV check, then re-checked at 2000000 nodes by a
fresh Stockfish) and every row is checked with python-chess by the tests, a subset of the
engine rows again by a 1000000-node Stockfish search. Since only the stored first move (or a
mate in one) earns 1.0, every row's stored move must be the unique clearly-best move. Its
ratings are assigned by puzzle type, not measured from play.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess
import numpy as np

from thinkgym.envs.chess.common import FORMAT_HINT, board_from_fen, color_name, parse_move, position_text
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.errors import UserError
from thinkgym.rewards.verdict import Verdict

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "lichess_sample.csv"
REQUIRED_COLUMNS = ("PuzzleId", "FEN", "Moves", "Rating", "Themes")


class PuzzleFileError(UserError):
    """A puzzle file that is missing, lacks a required column, or holds an invalid row."""


@dataclass(frozen=True)
class Puzzle:
    """One row of a Lichess puzzle file."""

    puzzle_id: str
    fen: str
    """The position before the opponent's first move."""
    moves: tuple[str, ...]
    """The whole line in UCI: the opponent's move, then the player's and the opponent's in turn."""
    rating: int
    themes: tuple[str, ...]

    @property
    def player_moves(self) -> tuple[str, ...]:
        return self.moves[1::2]

    def position(self) -> chess.Board:
        """The position shown to the player (after the opponent's move); checks the whole line."""
        if len(self.moves) < 2:
            raise PuzzleFileError(f"puzzle {self.puzzle_id}: Moves needs the opponent's move and a solution move")
        try:
            board = board_from_fen(self.fen)
            replay = board.copy()
            for uci in self.moves:
                replay.push(replay.parse_uci(uci))
        except ValueError as err:
            raise PuzzleFileError(f"puzzle {self.puzzle_id}: {err}") from None
        board.push(board.parse_uci(self.moves[0]))
        return board


def load_puzzles(
    path: str | os.PathLike[str] | None = None, *, min_rating: int = 0, max_rating: int = 10**6, themes: tuple[str, ...] = ()
) -> tuple[Puzzle, ...]:
    """The puzzles of a Lichess puzzle CSV (default: the shipped sample) rated within
    [min_rating, max_rating] that have every theme in ``themes``; cached per file version.

    Rows are filtered while the file is read, so only the selection is kept in memory (the full
    Lichess database has millions of rows). Rows are parsed, not replayed: :meth:`Puzzle.position`
    checks a puzzle's moves when it is posed.
    """
    resolved = Path(path or SAMPLE_PATH).expanduser().resolve()
    try:
        stat = resolved.stat()
    except OSError as err:
        raise PuzzleFileError(f"cannot read puzzle file {str(resolved)!r}: {err.strerror}") from None
    return _load(str(resolved), stat.st_mtime_ns, stat.st_size, min_rating, max_rating, tuple(themes))


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int, size: int, min_rating: int, max_rating: int, themes: tuple[str, ...]) -> tuple[Puzzle, ...]:
    wanted = set(themes)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise PuzzleFileError(f"{path}: missing column(s) {', '.join(missing)}; header is {reader.fieldnames}")
        puzzles = []
        for line_no, row in enumerate(reader, start=2):
            try:
                rating = int(row["Rating"])
            except (TypeError, ValueError):
                raise PuzzleFileError(f"{path}:{line_no}: Rating {row['Rating']!r} is not an integer") from None
            row_themes = tuple((row["Themes"] or "").split())
            if min_rating <= rating <= max_rating and wanted.issubset(row_themes):
                moves = tuple((row["Moves"] or "").split())
                puzzles.append(Puzzle(row["PuzzleId"] or f"line{line_no}", row["FEN"] or "", moves, rating, row_themes))
    return tuple(puzzles)


@dataclass(frozen=True)
class LichessPuzzleConfig(TaskConfig):
    LEVELS = Levels(("min_rating", "max_rating"), {1: (0, 1299), 2: (1300, 1899), 3: (1900, 4000)})
    path: str | None = None
    """Lichess puzzle CSV (default: the shipped sample ``envs/data/lichess_sample.csv``)."""
    min_rating: int | None = None
    """Lowest puzzle rating (default from difficulty)."""
    max_rating: int | None = None
    """Highest puzzle rating (default from difficulty)."""
    themes: tuple[str, ...] = ()
    """Keep puzzles with all of these themes (a space- or comma-separated string also works)."""

    def __post_init__(self) -> None:
        themes = self.themes.replace(",", " ").split() if isinstance(self.themes, str) else self.themes
        if not isinstance(themes, (tuple, list)) or not all(isinstance(t, str) for t in themes):
            raise ValueError(f"themes must be a tuple of theme names, got {self.themes!r}")
        object.__setattr__(self, "themes", tuple(themes))  # a string or a list (from YAML) becomes a tuple
        super().__post_init__()

    def validate(self) -> None:
        if not 0 <= self.min_rating <= self.max_rating:
            raise ValueError(f"need 0 <= min_rating <= max_rating, got {self.min_rating} and {self.max_rating}")
        if not self.puzzles():
            raise ValueError(
                f"no puzzle in {self.path or SAMPLE_PATH} is rated {self.min_rating}..{self.max_rating} "
                f"with themes {list(self.themes)}; widen the rating band or drop themes"
            )

    def puzzles(self) -> tuple[Puzzle, ...]:
        """The selected puzzles of the file."""
        return load_puzzles(self.path, min_rating=self.min_rating, max_rating=self.max_rating, themes=self.themes)


@dataclass(frozen=True)
class LichessPuzzleProblem:
    prompt: str
    answer: str
    puzzle: Puzzle
    fen: str
    """The shown position (after the opponent's move)."""


def generate(rng: np.random.Generator, config: LichessPuzzleConfig) -> LichessPuzzleProblem:
    pool = config.puzzles()
    return _problem(pool[int(rng.integers(len(pool)))])


def from_options(options: Mapping[str, Any], config: LichessPuzzleConfig) -> LichessPuzzleProblem:
    unknown = sorted(set(options) - {"fen"})
    if unknown or "fen" not in options:
        raise ValueError(f"LichessPuzzle accepts options={{'fen': FEN}}, got keys {sorted(options)}")
    board = board_from_fen(options["fen"])
    for puzzle in config.puzzles():
        if puzzle.position().fen() == board.fen():
            return _problem(puzzle)
    raise ValueError(f"no selected puzzle of {config.path or SAMPLE_PATH} shows the position {board.fen()!r}")


def _problem(puzzle: Puzzle) -> LichessPuzzleProblem:
    board = puzzle.position()
    before = chess.Board(puzzle.fen)
    last = before.san(chess.Move.from_uci(puzzle.moves[0]))
    prompt = (
        f"{color_name(not board.turn)} just played {last}.\n{position_text(board)}\n"
        f"Find the best move for {color_name(board.turn)}: it is the start of a winning line.\n"
        f"{FORMAT_HINT}, inside answer tags, e.g. <answer>Nxe5</answer> or <answer>f3e5</answer>."
    )
    answer = board.san(board.parse_uci(puzzle.moves[1]))
    return LichessPuzzleProblem(prompt, answer, puzzle, board.fen())


def verify(problem: LichessPuzzleProblem, answer: str) -> Verdict:
    board = chess.Board(problem.fen)
    move = parse_move(board, answer)
    san = board.san(move)
    if move.uci() == problem.puzzle.moves[1]:
        return Verdict(1.0, canonical=san)
    board.push(move)
    if board.is_checkmate():
        return Verdict(1.0, canonical=san)
    return Verdict(0.0, f"{san} is not the solution", san)


def explain(problem: LichessPuzzleProblem) -> str:
    """The puzzle's solution line, move by move."""
    board = chess.Board(problem.fen)
    steps = []
    for i, uci in enumerate(problem.puzzle.moves[1:]):
        move = board.parse_uci(uci)
        who = "I play" if i % 2 == 0 else "the reply is"
        steps.append(f"{who} {board.san(move)}")
        board.push(move)
    ending = "checkmate" if board.is_checkmate() else "a winning position"
    return f"The solution line: {', then '.join(steps)}, reaching {ending}. The first move is the answer: {problem.answer}"


LichessPuzzleEnv = register_task(
    "thinkgym/LichessPuzzle-v0",
    family="chess",
    config=LichessPuzzleConfig,
    generate=generate,
    verify=verify,
    explain=explain,
    from_options=from_options,
)
