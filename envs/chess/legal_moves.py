"""Legal move count: how many legal moves does the side to move have?

Prompt: the position (FEN, ASCII diagram, side to move) and the answer format.
Answer: a non-negative integer, e.g. ``<answer>23</answer>``. Reward 1.0 for the exact count
(python-chess's legal move generator: pins, checks, castling, en passant and each promotion
piece count), else 0.

Difficulty: 1 = each king with one rook, bishop, knight or pawn, no check; 2 = three to five pieces a
side, checks allowed; 3 = the position after 10 to 60 random legal moves from the start
(castling rights, en passant and crowded boards). ``reset(options={"fen": FEN})`` poses a given
position. Generation speed (``benchmarks/chess_generation.py``, shared two-core machine): about
2500 problems/s at difficulties 1 and 2, 500/s at 3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np

from thinkgym.envs.chess.common import board_from_options, color_name, position_text, random_game_position, random_placement
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

_PIECE_NAMES = {chess.KING: "King", chess.QUEEN: "Queen", chess.ROOK: "Rook", chess.BISHOP: "Bishop", chess.KNIGHT: "Knight", chess.PAWN: "Pawn"}
_INT_RE = re.compile(r"^[0-9]{1,4}$")  # ASCII digits only: "\d" also matches lookalikes such as "\uff18"
MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class LegalMoveCountConfig(TaskConfig):
    LEVELS = Levels(
        ("letters", "min_pieces", "max_pieces"),
        {1: ("RBNPP", 1, 1), 2: ("QRRBBNNPPPP", 3, 5), 3: (None, None, None)},
    )
    """Piece letters and pieces a side for random placements; None: a position of a random game."""


@dataclass(frozen=True)
class LegalMoveCountProblem:
    prompt: str
    answer: str
    fen: str
    count: int


def generate(rng: np.random.Generator, config: LegalMoveCountConfig) -> LegalMoveCountProblem:
    for _ in range(MAX_ATTEMPTS):
        if config.difficulty == 3:
            board = random_game_position(rng, 10, 60)
        else:
            letters, lo, hi = config.level.values()
            white, black = ("".join(rng.choice(list(letters), size=int(rng.integers(lo, hi + 1)))) for _ in range(2))
            board = random_placement(rng, white, black, bool(rng.integers(2)), edge_king=False)
            if board is not None and config.difficulty == 1 and board.is_check():
                board = None
        if board is not None and not board.is_game_over():
            return _problem(board)
    raise RuntimeError(f"no position found in {MAX_ATTEMPTS} attempts")


def from_options(options: Mapping[str, Any], config: LegalMoveCountConfig) -> LegalMoveCountProblem:
    return _problem(board_from_options(options))


def _problem(board: chess.Board) -> LegalMoveCountProblem:
    count = board.legal_moves.count()
    prompt = (
        f"{position_text(board)}\n"
        f"How many legal moves does {color_name(board.turn)} have in this position? Count every "
        "legal move once (each promotion piece is a separate move; castling and en passant count "
        "when legal).\nAnswer with a single integer, e.g. <answer>17</answer>."
    )
    return LegalMoveCountProblem(prompt, str(count), board.fen(), count)


def verify(problem: LegalMoveCountProblem, answer: str) -> Verdict:
    text = answer.strip().rstrip(".")
    if not _INT_RE.match(text):
        raise InvalidAnswer(f"expected a non-negative integer, got {text[:20]!r}")
    value = int(text)
    if value == problem.count:
        return Verdict(1.0, canonical=str(value))
    return Verdict(0.0, f"{value} is not the number of legal moves", str(value))


def explain(problem: LegalMoveCountProblem) -> str:
    """List the legal moves piece by piece and add them up."""
    board = chess.Board(problem.fen)
    lines = [f"{color_name(board.turn)}'s legal moves, piece by piece:"]
    if board.is_check():
        lines.insert(0, f"{color_name(board.turn)} is in check, so only moves that get out of check are legal.")
    by_piece: dict[chess.Square, list[str]] = {}
    for move in board.legal_moves:
        by_piece.setdefault(move.from_square, []).append(board.san(move))
    for square in sorted(by_piece, key=lambda s: (-board.piece_type_at(s), s)):
        moves = by_piece[square]
        lines.append(f"{_PIECE_NAMES[board.piece_type_at(square)]} on {chess.square_name(square)}: {', '.join(moves)} ({len(moves)})")
    lines.append(f"Total: {' + '.join(str(len(by_piece[s])) for s in sorted(by_piece, key=lambda s: (-board.piece_type_at(s), s)))} = {problem.count}")
    lines.append(f"Answer: {problem.answer}")
    return "\n".join(lines)


LegalMoveCountEnv = register_task(
    "thinkgym/LegalMoveCount-v0",
    family="chess",
    config=LegalMoveCountConfig,
    generate=generate,
    verify=verify,
    explain=explain,
    from_options=from_options,
)
