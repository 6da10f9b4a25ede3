"""Mate in one: find a move that checkmates at once.

Prompt: the position (FEN, ASCII diagram, side to move) and the answer format.
Answer: one move in SAN or UCI, e.g. ``<answer>Qh7#</answer>`` or ``<answer>h5h7</answer>``.
Reward 1.0 for any legal move that checkmates (python-chess decides), 0 otherwise; an illegal,
ambiguous or unreadable move scores 0 with the reason in ``info["reason"]``. No engine needed.

Difficulty: 1 = a queen or rook (plus at most one more piece) against a king (with at most
one pawn); 2 = two to four pieces and pawns a side; 3 = four or five pieces a side and exactly
one mating move. Positions are random placements kept when a mate in one exists (either side to move).
``reset(options={"fen": FEN})`` poses a given position with a mate in one.

Generation speed (``benchmarks/chess_generation.py``, python-chess 1.11, measured on a shared
two-core machine under load): about 190 problems/s at difficulties 1 and 2, 140/s at 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np

from thinkgym.envs.chess.common import (
    FORMAT_HINT,
    board_from_options,
    color_name,
    parse_move,
    position_text,
    random_placement,
)
from thinkgym.envs.chess.mate import mating_moves
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

MAX_ATTEMPTS = 200_000


@dataclass(frozen=True)
class MateInOneConfig(TaskConfig):
    LEVELS = Levels(
        ("attackers", "defenders", "unique"),
        {
            1: (("Q", "R", "QN", "RB", "RR", "QB"), ("", "", "P"), False),
            2: (("QRP", "QBN", "RRP", "QNPP", "RBNP"), ("PP", "NP", "BPP", "RP"), False),
            3: (("QRBN", "QRNPP", "RRBNP", "QBBNP"), ("RBNP", "QNPP", "RBPPP", "RNNP"), True),
        },
    )
    """Attacker piece sets, defender piece sets, whether the mate must be unique."""
    unique: bool | None = None
    """Keep only positions with exactly one mating move (default: only at difficulty 3)."""

    def validate(self) -> None:
        if not isinstance(self.unique, bool):
            raise ValueError(f"unique must be True or False, got {self.unique!r}")


@dataclass(frozen=True)
class MateInOneProblem:
    prompt: str
    answer: str
    fen: str
    mates: tuple[str, ...]
    """Every mating move, in UCI."""


def generate(rng: np.random.Generator, config: MateInOneConfig) -> MateInOneProblem:
    attackers, defenders = config.level["attackers"], config.level["defenders"]
    for _ in range(MAX_ATTEMPTS):
        turn = bool(rng.integers(2))
        mine, theirs = attackers[rng.integers(len(attackers))], defenders[rng.integers(len(defenders))]
        white, black = (mine, theirs) if turn == chess.WHITE else (theirs, mine)
        board = random_placement(rng, white, black, turn, edge_king=True)
        if board is None:
            continue
        mates = mating_moves(board)
        if mates and (len(mates) == 1 or not config.unique):
            return _problem(board, mates)
    raise RuntimeError(f"no mate-in-one position found in {MAX_ATTEMPTS} attempts")


def from_options(options: Mapping[str, Any], config: MateInOneConfig) -> MateInOneProblem:
    board = board_from_options(options)
    mates = mating_moves(board)
    if not mates:
        raise ValueError(f"{color_name(board.turn)} has no mate in one in {board.fen()!r}")
    return _problem(board, mates)


def _problem(board: chess.Board, mates: list[chess.Move]) -> MateInOneProblem:
    side = color_name(board.turn)
    prompt = (
        f"{position_text(board)}\n"
        f"{side} can checkmate in one move. Find a move that checkmates {color_name(not board.turn)} at once.\n"
        f"{FORMAT_HINT}, inside answer tags, e.g. <answer>Qh7#</answer> or <answer>h5h7</answer>."
    )
    best = min(mates, key=lambda m: m.uci())
    return MateInOneProblem(prompt, board.san(best), board.fen(), tuple(m.uci() for m in mates))


def verify(problem: MateInOneProblem, answer: str) -> Verdict:
    board = chess.Board(problem.fen)
    move = parse_move(board, answer)
    san = board.san(move)
    if move.uci() in problem.mates:
        return Verdict(1.0, canonical=san)
    return Verdict(0.0, _why_not_mate(board, move), san)


def _why_not_mate(board: chess.Board, move: chess.Move) -> str:
    san = board.san(move)
    board.push(move)
    try:
        if board.is_stalemate():
            return f"{san} stalemates: a draw, not a mate"
        if not board.is_check():
            return f"{san} does not give check"
        escape = min(board.legal_moves, key=lambda m: m.uci())
        return f"{san} gives check but {color_name(board.turn)} escapes, e.g. with {board.san(escape)}"
    finally:
        board.pop()


def explain(problem: MateInOneProblem) -> str:
    """Try every checking move; the first one that leaves no legal reply is mate."""
    board = chess.Board(problem.fen)
    checks = sorted((m for m in board.legal_moves if board.gives_check(m)), key=lambda m: m.uci())
    lines = [f"Only a check can mate. {color_name(board.turn)}'s checking moves: {', '.join(board.san(m) for m in checks)}."]
    for move in checks:
        if move.uci() in problem.mates:
            lines.append(f"{board.san(move)}: the king is in check and {color_name(not board.turn)} has no legal reply. Checkmate.")
            lines.append(f"Answer: {board.san(move)}")
            return "\n".join(lines)
        lines.append(_why_not_mate(board, move) + ".")
    raise AssertionError("a mate-in-one problem without a mating check")


MateInOneEnv = register_task(
    "thinkgym/MateInOne-v0",
    family="chess",
    config=MateInOneConfig,
    generate=generate,
    verify=verify,
    explain=explain,
    from_options=from_options,
)
