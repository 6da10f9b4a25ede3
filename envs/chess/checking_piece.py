"""Checking piece: the side to move is in check; on which square is the piece giving check?

Prompt: the position (FEN, ASCII diagram, side to move) and the question.
Answer: the square of the checking piece, e.g. ``<answer>f6</answer>``; in a double check both
squares in any order, e.g. ``<answer>f6, e1</answer>``. Reward 1.0 for exactly the set of
checking squares (python-chess's ``Board.checkers``), else 0.

Difficulty: 1 = one or two pieces a side besides the kings; 2 = three to five pieces a side;
3 = the first check after at least 10 random legal moves from the start (crowded boards,
discovered checks). Random placements give a double check about one time in twenty. ``reset(options={"fen": FEN})`` poses a given position whose
side to move is in check. Generation speed (``benchmarks/chess_generation.py``, shared two-core
machine): about 1300 problems/s at difficulties 1 and 2, 400/s at 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np

from thinkgym.envs.chess.common import (
    board_from_options,
    color_name,
    ordered_squares,
    parse_squares,
    position_text,
    random_placement,
)
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

_PIECES = "QRRBBNNPPP"
MAX_ATTEMPTS = 100_000


@dataclass(frozen=True)
class CheckingPieceConfig(TaskConfig):
    LEVELS = Levels(("pieces",), {1: ((1, 2),), 2: ((3, 5),), 3: (None,)})
    """Pieces a side (min, max) for random placements; None: the first check of a random game."""


@dataclass(frozen=True)
class CheckingPieceProblem:
    prompt: str
    answer: str
    fen: str
    checkers: frozenset[str]


def generate(rng: np.random.Generator, config: CheckingPieceConfig) -> CheckingPieceProblem:
    for _ in range(MAX_ATTEMPTS):
        if config.difficulty == 3:
            board = _first_check_of_random_game(rng, min_plies=10, max_plies=80)
        else:
            lo, hi = config.level["pieces"]
            white, black = ("".join(rng.choice(list(_PIECES), size=int(rng.integers(lo, hi + 1)))) for _ in range(2))
            board = random_placement(rng, white, black, bool(rng.integers(2)), edge_king=False)
        if board is not None and board.is_check() and not board.is_game_over():
            return _problem(board)
    raise RuntimeError(f"no position in check found in {MAX_ATTEMPTS} attempts")


def _first_check_of_random_game(rng: np.random.Generator, min_plies: int, max_plies: int) -> chess.Board | None:
    """The first position in check after ``min_plies`` of a seeded random game, if any."""
    board = chess.Board()
    for ply in range(1, max_plies + 1):
        moves = list(board.legal_moves)
        if not moves:
            return None
        board.push(moves[int(rng.integers(len(moves)))])
        if ply >= min_plies and board.is_check():
            return board
    return None


def from_options(options: Mapping[str, Any], config: CheckingPieceConfig) -> CheckingPieceProblem:
    board = board_from_options(options)
    if not board.is_check():
        raise ValueError(f"{color_name(board.turn)} is not in check in {board.fen()!r}")
    return _problem(board)


def _problem(board: chess.Board) -> CheckingPieceProblem:
    checkers = frozenset(chess.square_name(s) for s in board.checkers())
    prompt = (
        f"{position_text(board)}\n"
        f"{color_name(board.turn)}'s king is in check. On which square is the piece giving check? "
        "If two pieces give check at once, name both squares.\n"
        "Answer with the square name (two squares separated by a comma), e.g. <answer>f6</answer>."
    )
    return CheckingPieceProblem(prompt, ", ".join(ordered_squares(checkers)), board.fen(), checkers)


def verify(problem: CheckingPieceProblem, answer: str) -> Verdict:
    given = parse_squares(answer)
    canonical = ", ".join(ordered_squares(given))
    if given == problem.checkers:
        return Verdict(1.0, canonical=canonical)
    board = chess.Board(problem.fen)
    wrong = sorted(given - problem.checkers)
    if wrong:
        piece = board.piece_at(chess.parse_square(wrong[0]))
        what = f"the {color_name(piece.color)} {chess.piece_name(piece.piece_type)} on {wrong[0]}" if piece else f"{wrong[0]} (empty)"
        return Verdict(0.0, f"{what} does not give check", canonical)
    return Verdict(0.0, "a checking piece is missing: this is a double check", canonical)


def explain(problem: CheckingPieceProblem) -> str:
    """Look from the king along every line and knight jump for an enemy piece that attacks it."""
    board = chess.Board(problem.fen)
    king = board.king(board.turn)
    lines = [f"{color_name(board.turn)}'s king stands on {chess.square_name(king)}."]
    for square in sorted(board.checkers()):
        piece = board.piece_at(square)
        lines.append(f"The {color_name(piece.color)} {chess.piece_name(piece.piece_type)} on {chess.square_name(square)} attacks it.")
    lines.append(f"Checking square(s): {problem.answer}")
    return "\n".join(lines)


CheckingPieceEnv = register_task(
    "thinkgym/CheckingPiece-v0",
    family="chess",
    config=CheckingPieceConfig,
    generate=generate,
    verify=verify,
    explain=explain,
    from_options=from_options,
)
