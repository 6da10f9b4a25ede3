"""Attacked squares: list every square a piece (or a whole side) attacks.

Prompt: the position (FEN, ASCII diagram, side to move) and the question, e.g. "List every
square attacked by the White knight on f3". A square is attacked when the piece could capture
an enemy piece standing there: pins are ignored, squares of either colour's pieces count (a
defended piece is attacked by its defender), sliding pieces stop at the first piece in the way,
pawns attack diagonally only.
Answer: the squares in any order, separated by commas or spaces, e.g.
``<answer>e5, g5, d4, h4</answer>``. Reward 1.0 for exactly the right set (python-chess's
``Board.attacks``), else 0 with how many squares are missing or extra.

Difficulty: 1 = a knight, king or pawn on a board with few pieces; 2 = a bishop, rook or queen
among four to eight other pieces; 3 = every square attacked by all of one side's pieces (two to
four pieces besides the king). ``reset(options={"fen": FEN, "square": "f3"})`` asks about the
piece on that square (``"square": "white"`` or ``"black"`` asks about a whole side; without
``square``, the side to move).
Generation speed (``benchmarks/chess_generation.py``, shared two-core machine): about 2400
problems/s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np

from thinkgym.envs.chess.common import board_from_fen, color_name, ordered_squares, parse_squares, position_text, random_placement
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

_FILLER = "QRBNPPP"
MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class AttackedSquaresConfig(TaskConfig):
    LEVELS = Levels(("asked", "others"), {1: ("NKP", (0, 2)), 2: ("BRQ", (2, 4)), 3: ("", (2, 4))})
    """The piece types asked about ("": a whole side), the other pieces a side (min, max)."""


@dataclass(frozen=True)
class AttackedSquaresProblem:
    prompt: str
    answer: str
    fen: str
    subject: str
    """What is asked about: a square name ("f3") or a side ("white", "black")."""
    squares: frozenset[str]


def generate(rng: np.random.Generator, config: AttackedSquaresConfig) -> AttackedSquaresProblem:
    asked, (lo, hi) = config.level.values()
    for _ in range(MAX_ATTEMPTS):
        color = bool(rng.integers(2))
        white, black = ("".join(rng.choice(list(_FILLER), size=int(rng.integers(lo, hi + 1)))) for _ in range(2))
        if asked:
            piece = asked[rng.integers(len(asked))]
            white, black = (piece + white, black) if color == chess.WHITE else (white, piece + black)
        board = random_placement(rng, white, black, bool(rng.integers(2)), edge_king=False)
        if board is None:
            continue
        if not asked:
            return _problem(board, color_name(color).lower())
        piece_type = chess.Piece.from_symbol(piece).piece_type
        squares = sorted(board.pieces(piece_type, color))
        return _problem(board, chess.square_name(squares[int(rng.integers(len(squares)))]))
    raise RuntimeError(f"no position found in {MAX_ATTEMPTS} attempts")


def from_options(options: Mapping[str, Any], config: AttackedSquaresConfig) -> AttackedSquaresProblem:
    unknown = sorted(set(options) - {"fen", "square"})
    if unknown or "fen" not in options:
        raise ValueError(f"AttackedSquares accepts options={{'fen': FEN, 'square': 'f3' or 'white'}}, got {sorted(options)}")
    board = board_from_fen(options["fen"])
    subject = str(options.get("square", color_name(board.turn))).lower()
    if subject not in ("white", "black"):
        if subject not in chess.SQUARE_NAMES or board.piece_at(chess.parse_square(subject)) is None:
            raise ValueError(f"square must name an occupied square or 'white'/'black', got {options['square']!r}")
    return _problem(board, subject)


def _attacked(board: chess.Board, subject: str) -> frozenset[str]:
    if subject in ("white", "black"):
        color = subject == "white"
        squares = chess.SquareSet()
        for square in chess.SquareSet(board.occupied_co[color]):
            squares |= board.attacks(square)
        return frozenset(chess.square_name(s) for s in squares)
    return frozenset(chess.square_name(s) for s in board.attacks(chess.parse_square(subject)))


def _describe(board: chess.Board, subject: str) -> str:
    if subject in ("white", "black"):
        return f"all of {subject.capitalize()}'s pieces together (king included)"
    piece = board.piece_at(chess.parse_square(subject))
    return f"the {color_name(piece.color)} {chess.piece_name(piece.piece_type)} on {subject}"


def _problem(board: chess.Board, subject: str) -> AttackedSquaresProblem:
    squares = _attacked(board, subject)
    prompt = (
        f"{position_text(board)}\n"
        f"List every square attacked by {_describe(board, subject)}. A square counts when the piece "
        "could capture an enemy piece standing there: ignore pins, include squares occupied by "
        "pieces of either colour, sliding pieces stop at the first piece in their way, pawns attack "
        "diagonally forward only.\n"
        "Answer with the squares in any order, separated by commas, e.g. <answer>e5, g5, d4</answer>."
    )
    return AttackedSquaresProblem(prompt, ", ".join(ordered_squares(squares)), board.fen(), subject, squares)


def verify(problem: AttackedSquaresProblem, answer: str) -> Verdict:
    given = parse_squares(answer)
    canonical = ", ".join(ordered_squares(given))
    missing, extra = problem.squares - given, given - problem.squares
    if not missing and not extra:
        return Verdict(1.0, canonical=canonical)
    return Verdict(0.0, f"{len(missing)} attacked square(s) missing, {len(extra)} listed that are not attacked", canonical)


def explain(problem: AttackedSquaresProblem) -> str:
    """Go through the pieces asked about and collect the squares each one reaches."""
    board = chess.Board(problem.fen)
    if problem.subject in ("white", "black"):
        color = problem.subject == "white"
        sources = sorted(chess.SquareSet(board.occupied_co[color]))
    else:
        sources = [chess.parse_square(problem.subject)]
    lines = []
    for square in sources:
        piece = board.piece_at(square)
        reached = ", ".join(ordered_squares(frozenset(chess.square_name(s) for s in board.attacks(square))))
        lines.append(f"{chess.piece_name(piece.piece_type).capitalize()} on {chess.square_name(square)} attacks: {reached}")
    lines.append(f"All attacked squares: {problem.answer}")
    return "\n".join(lines)


AttackedSquaresEnv = register_task(
    "thinkgym/AttackedSquares-v0",
    family="chess",
    config=AttackedSquaresConfig,
    generate=generate,
    verify=verify,
    explain=explain,
    from_options=from_options,
)
