"""The chess family: one module per task; importing this package registers them.

Mate tasks, board questions and Lichess puzzles use python-chess only; the tasks that list
``requires=("stockfish",)`` (see ``thinkgym envs``) also run the Stockfish engine (Debian
package ``stockfish``, see :mod:`thinkgym.envs.chess.engine`).
"""

from thinkgym.envs.chess import (  # noqa: F401
    attacked_squares,
    best_move,
    checking_piece,
    forced_mate,
    legal_moves,
    lichess,
    mate_in_one,
    mate_in_two,
)
