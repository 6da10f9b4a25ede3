"""The chess family: one module per task; importing this package registers them.

Mate tasks and board questions use python-chess only; the tasks that list ``requires=("stockfish",)``
(see ``thinkgym envs``) also run the Stockfish engine (Debian package ``stockfish``).
"""

from thinkgym.envs.chess import attacked_squares, best_move, forced_mate, legal_moves, lichess, mate_in_one, mate_in_two  # noqa: F401
