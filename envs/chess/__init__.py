"""The chess family: one module per task, imported when one of its envs is made or described.

Mate tasks, board questions and Lichess puzzles use python-chess only; the tasks that list
``requires=("stockfish",)`` (see ``thinkgym envs``) also run the Stockfish engine (Debian
package ``stockfish``, see :mod:`thinkgym.envs.chess.engine`).
"""

from thinkgym.envs.registry import declare_family

TASKS = {
    "thinkgym/AttackedSquares-v0": "attacked_squares:AttackedSquaresEnv",
    "thinkgym/BestMove-v0": "best_move:BestMoveEnv",
    "thinkgym/CheckingPiece-v0": "checking_piece:CheckingPieceEnv",
    "thinkgym/ForcedMate-v0": "forced_mate:ForcedMateEnv",
    "thinkgym/LegalMoveCount-v0": "legal_moves:LegalMoveCountEnv",
    "thinkgym/LichessPuzzle-v0": "lichess:LichessPuzzleEnv",
    "thinkgym/MateInOne-v0": "mate_in_one:MateInOneEnv",
    "thinkgym/MateInTwo-v0": "mate_in_two:MateInTwoEnv",
}
"""Env id -> ``module:Class`` of each task in this package."""

declare_family("chess", __name__, TASKS)
