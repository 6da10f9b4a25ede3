"""Exhaustive forced-mate search with python-chess (no engine).

``forces_mate(board, n)`` is exact: it tries every move of the side to move and every defence,
so a True answer is a proof that mate in at most ``n`` moves is forced. Checks are tried first
for the attacker and king moves first for the defender, which finds refutations early: most
failing candidates are rejected after one or two defences.
"""

from __future__ import annotations

import chess


def mating_moves(board: chess.Board) -> list[chess.Move]:
    """Every legal move of the side to move that checkmates at once."""
    found = []
    for move in board.legal_moves:
        if board.gives_check(move):
            board.push(move)
            if board.is_checkmate():
                found.append(move)
            board.pop()
    return found


def forces_mate(board: chess.Board, n: int) -> bool:
    """Whether the side to move can force checkmate within ``n`` of its own moves."""
    return first_forcing_move(board, n) is not None


def first_forcing_move(board: chess.Board, n: int) -> chess.Move | None:
    """A move that forces mate within ``n`` moves (the first found, checks first), else None."""
    if n <= 1:
        mates = mating_moves(board)
        return mates[0] if mates else None
    for move in _attacker_order(board):
        if move_forces_mate(board, move, n):
            return move
    return None


def forcing_moves(board: chess.Board, n: int) -> list[chess.Move]:
    """Every move that forces mate within ``n`` moves."""
    return [move for move in board.legal_moves if move_forces_mate(board, move, n)]


def move_forces_mate(board: chess.Board, move: chess.Move, n: int) -> bool:
    """Whether playing ``move`` forces mate within ``n`` moves (``move`` counts as the first)."""
    board.push(move)
    try:
        return _all_defences_lose(board, n - 1)
    finally:
        board.pop()


def mate_distance(board: chess.Board, limit: int) -> int | None:
    """The fewest moves in which the side to move forces mate, if at most ``limit``; else None."""
    for n in range(1, limit + 1):
        if forces_mate(board, n):
            return n
    return None


def best_defence(board: chess.Board, limit: int) -> chess.Move:
    """The defender's move that delays mate longest (ties: first in UCI order).

    ``board`` is the defender to move, with mate forced within ``limit`` attacker moves.
    """
    replies = sorted(board.legal_moves, key=lambda m: m.uci())
    if not replies:
        raise ValueError("the defender has no legal move")
    best, best_distance = replies[0], -1
    for reply in replies:
        board.push(reply)
        distance = mate_distance(board, limit)
        board.pop()
        distance = limit + 1 if distance is None else distance
        if distance > best_distance:
            best, best_distance = reply, distance
    return best


def _all_defences_lose(board: chess.Board, n: int) -> bool:
    """Defender to move: does every reply allow mate within ``n`` attacker moves?"""
    if board.is_checkmate():
        return True
    if n <= 0 or board.is_game_over(claim_draw=False):
        return False
    for reply in _defender_order(board):
        board.push(reply)
        lost = first_forcing_move(board, n) is not None
        board.pop()
        if not lost:
            return False
    return True


def _attacker_order(board: chess.Board) -> list[chess.Move]:
    moves = list(board.legal_moves)
    moves.sort(key=lambda m: (not board.gives_check(m), not board.is_capture(m)))
    return moves


def _defender_order(board: chess.Board) -> list[chess.Move]:
    king = board.king(board.turn)
    moves = list(board.legal_moves)
    moves.sort(key=lambda m: (m.from_square != king, not board.is_capture(m)))
    return moves
