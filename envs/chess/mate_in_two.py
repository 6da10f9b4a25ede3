"""Mate in two: find the first move of a forced checkmate in two moves.

Prompt: the position (FEN, ASCII diagram, side to move) and the answer format.
Answer: the first move in SAN or UCI, e.g. ``<answer>Rg7</answer>``. Reward 1.0 when that move
forces mate within two moves against every defence (checked by exhaustive search with
python-chess, so a mate in one also counts), else 0 with the refuting defence in
``info["reason"]``. No engine needed.

Difficulty: 1 = two queens or rooks against a lone king; 2 = three pieces against two pawns
or a knight and a pawn; 3 = four pieces against three or four defenders (a rook or bishop and
pawns). Positions are random placements kept when mate in
two is forced and there is no mate in one. ``reset(options={"fen": FEN})`` poses a given
position where the side to move forces mate in two (a mate in one is rejected).

Generation speed (``benchmarks/chess_generation.py``, shared two-core machine under load):
about 36 problems/s at difficulty 1, 18/s at 2 and 9/s at 3 (slowest single problem 0.5 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np

from thinkgym.envs.chess.common import FORMAT_HINT, board_from_options, color_name, parse_move, position_text, random_placement
from thinkgym.envs.chess.mate import first_forcing_move, forcing_moves, mating_moves
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

MAX_ATTEMPTS = 100_000


@dataclass(frozen=True)
class MateInTwoConfig(TaskConfig):
    LEVELS = Levels(
        ("attackers", "defenders"),
        {
            1: (("QR", "QQ", "RR"), ("",)),
            2: (("QRN", "QRB", "RRB"), ("PP", "NP")),
            3: (("QRBN", "RRBN", "QRNP"), ("RPPP", "BPPP", "RNP")),
        },
    )
    """Attacker piece sets, defender piece sets."""


@dataclass(frozen=True)
class MateInTwoProblem:
    prompt: str
    answer: str
    fen: str
    keys: tuple[str, ...]
    """Every first move that forces mate in at most two, in UCI."""


def generate(rng: np.random.Generator, config: MateInTwoConfig) -> MateInTwoProblem:
    attackers, defenders = config.level.values()
    for _ in range(MAX_ATTEMPTS):
        turn = bool(rng.integers(2))
        mine, theirs = attackers[rng.integers(len(attackers))], defenders[rng.integers(len(defenders))]
        white, black = (mine, theirs) if turn == chess.WHITE else (theirs, mine)
        board = random_placement(rng, white, black, turn, edge_king=True)
        if board is None or mating_moves(board) or first_forcing_move(board, 2) is None:
            continue
        return _problem(board)
    raise RuntimeError(f"no mate-in-two position found in {MAX_ATTEMPTS} attempts")


def from_options(options: Mapping[str, Any], config: MateInTwoConfig) -> MateInTwoProblem:
    board = board_from_options(options)
    if mating_moves(board):
        raise ValueError(f"{board.fen()!r} has a mate in one; pose it with thinkgym/MateInOne-v0")
    if first_forcing_move(board, 2) is None:
        raise ValueError(f"{color_name(board.turn)} cannot force mate in two in {board.fen()!r}")
    return _problem(board)


def _problem(board: chess.Board) -> MateInTwoProblem:
    keys = sorted(forcing_moves(board, 2), key=lambda m: m.uci())
    prompt = (
        f"{position_text(board)}\n"
        f"{color_name(board.turn)} can force checkmate in two moves against any defence. "
        "Give the first move of the mate.\n"
        f"{FORMAT_HINT}, inside answer tags, e.g. <answer>Rg7</answer> or <answer>g1g7</answer>."
    )
    return MateInTwoProblem(prompt, board.san(keys[0]), board.fen(), tuple(m.uci() for m in keys))


def verify(problem: MateInTwoProblem, answer: str) -> Verdict:
    board = chess.Board(problem.fen)
    move = parse_move(board, answer)
    san = board.san(move)
    if move.uci() in problem.keys:
        return Verdict(1.0, canonical=san)
    board.push(move)
    if board.is_stalemate():
        return Verdict(0.0, f"{san} stalemates", san)
    refutation = next((r for r in sorted(board.legal_moves, key=lambda m: m.uci()) if not _mated_next(board, r)), None)
    if refutation is None:
        return Verdict(0.0, f"{san} does not force mate", san)
    return Verdict(0.0, f"after {san} {color_name(board.turn)} defends with {board.san(refutation)} and there is no mate", san)


def _mated_next(board: chess.Board, reply: chess.Move) -> bool:
    board.push(reply)
    try:
        return bool(mating_moves(board))
    finally:
        board.pop()


def explain(problem: MateInTwoProblem) -> str:
    """The key move, then every defence with the mate that answers it."""
    board = chess.Board(problem.fen)
    key = board.parse_san(problem.answer)
    lines = [f"There is no mate in one, so look for a move after which every reply allows mate. Try {problem.answer}."]
    board.push(key)
    for reply in sorted(board.legal_moves, key=lambda m: m.uci()):
        reply_san = board.san(reply)
        board.push(reply)
        mate = min(mating_moves(board), key=lambda m: m.uci())
        lines.append(f"If {reply_san}, then {board.san(mate)} mates.")
        board.pop()
    lines.append(f"Every defence loses, so the first move is: {problem.answer}")
    return "\n".join(lines)


MateInTwoEnv = register_task(
    "thinkgym/MateInTwo-v0",
    family="chess",
    config=MateInTwoConfig,
    generate=generate,
    verify=verify,
    explain=explain,
    from_options=from_options,
)
