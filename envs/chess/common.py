"""Helpers shared by the chess tasks: position text for prompts, move parsing, FEN validation
and random positions.

Moves are read in SAN (``Qxf7#``, ``O-O``, ``e8=Q``) or UCI (``d1f7``, ``e7e8q``); a move number
prefix (``1.``, ``1...``) and a trailing ``!`` are ignored; a ``?`` (a mistake or a doubt) refuses
the answer. Piece letters keep their SAN case (``bxc3`` is a b-pawn's capture, ``Bxc3`` a bishop's; ``qxf7`` is refused), and
text with any non-ASCII character (lookalike letters, fullwidth digits, figurines, zero-width
spaces) is refused. Anything that is not exactly one legal move (two moves, a sentence, a
negation) raises :class:`~thinkgym.rewards.InvalidAnswer` with the reason. Square lists are
read the same way: square names only, case-insensitive, ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import chess
import numpy as np

from thinkgym.rewards.verdict import InvalidAnswer

MAX_MOVE_CHARS = 16
_UCI_RE = re.compile(r"^[a-h][1-8][a-h][1-8][qrbnQRBN]?$")
_SAN_RE = re.compile(r"^(?:[KQRBN]?[a-h]?[1-8]?x?[a-h][1-8](?:=?[QRBNqrbn])?|[O0]-[O0](?:-[O0])?)[+#]?$")
_MOVE_NUMBER_RE = re.compile(r"^\d+\s*\.(?:\s*\.\.)?\s*")
_SQUARE_RE = re.compile(r"^[a-hA-H][1-8]$")
_SQUARE_SPLIT_RE = re.compile(r"[\s,;]+")

FORMAT_HINT = "Write the move in SAN (e.g. Nf3, exd5, O-O, e8=Q) or UCI (e.g. g1f3, e7e8q)"


def color_name(color: chess.Color) -> str:
    return "White" if color == chess.WHITE else "Black"


def diagram(board: chess.Board) -> str:
    """The board as printable ASCII, rank 8 at the top, with file and rank labels."""
    files = "  a b c d e f g h"
    rows = [files]
    for rank in range(7, -1, -1):
        cells = []
        for file in range(8):
            piece = board.piece_at(chess.square(file, rank))
            cells.append(piece.symbol() if piece else ".")
        rows.append(f"{rank + 1} {' '.join(cells)} {rank + 1}")
    rows.append(files)
    return "\n".join(rows)


def position_text(board: chess.Board) -> str:
    """FEN, diagram and side to move: the part of every chess prompt that shows the position."""
    return (
        f"FEN: {board.fen()}\n"
        f"{diagram(board)}\n"
        "(Uppercase letters are White pieces, lowercase are Black: K king, Q queen, R rook, "
        "B bishop, N knight, P pawn; '.' is an empty square.)\n"
        f"{color_name(board.turn)} to move."
    )


def parse_move(board: chess.Board, text: str) -> chess.Move:
    """The legal move of ``board`` written in ``text`` (SAN or UCI); raises InvalidAnswer."""
    token = text.strip()
    if not token.isascii():
        raise InvalidAnswer(f"{token[:MAX_MOVE_CHARS]!r} has non-ASCII characters; {FORMAT_HINT}")
    if len(token) > MAX_MOVE_CHARS + 8:
        raise InvalidAnswer(f"a move is at most {MAX_MOVE_CHARS} characters, got {len(token)}")
    token = _MOVE_NUMBER_RE.sub("", token).rstrip("!. ").strip()
    if "?" in token:  # "Qf8?" marks a mistake or a doubt: not a move the answer stands by
        raise InvalidAnswer(f"{token!r} is annotated with '?' (a mistake or a doubt); give the move alone")
    if not token:
        raise InvalidAnswer("the move is empty")
    try:
        if _UCI_RE.match(token):
            move = board.parse_uci(token.lower())
        elif _SAN_RE.match(token):
            move = board.parse_san(token)
        else:
            raise InvalidAnswer(f"{token!r} is neither SAN nor UCI; {FORMAT_HINT}")
    except chess.AmbiguousMoveError:
        raise InvalidAnswer(f"ambiguous move {token!r}: name the origin file or rank") from None
    except (chess.IllegalMoveError, chess.InvalidMoveError):
        raise InvalidAnswer(f"{token!r} is not a legal move in this position") from None
    return move


def parse_squares(text: str) -> frozenset[str]:
    """A set of square names written in any order, separated by commas or spaces (``e4, D5``);
    raises InvalidAnswer on anything else."""
    if not text.isascii():
        raise InvalidAnswer("the squares have non-ASCII characters; write square names like e4")
    tokens = [t for t in _SQUARE_SPLIT_RE.split(text.strip().strip(".[](){}")) if t]
    if not tokens:
        raise InvalidAnswer("no squares listed")
    if len(tokens) > 128:
        raise InvalidAnswer(f"{len(tokens)} squares listed; a board has 64")
    bad = [t for t in tokens if not _SQUARE_RE.match(t)]
    if bad:
        raise InvalidAnswer(f"{bad[0][:10]!r} is not a square name like e4")
    return frozenset(t.lower() for t in tokens)


def ordered_squares(squares: frozenset[str]) -> list[str]:
    """Squares sorted by file, then rank (a1, a2, ..., h8)."""
    return sorted(squares)


def board_from_fen(fen: Any) -> chess.Board:
    """A legal standard-chess position from a FEN; raises ValueError saying what is wrong."""
    if not isinstance(fen, str) or len(fen) > 120:
        raise ValueError(f"fen must be a FEN string, got {fen!r:.80}")
    try:
        board = chess.Board(fen)
    except ValueError as err:
        raise ValueError(f"invalid FEN {fen!r}: {err}") from None
    status = board.status()
    if status != chess.STATUS_VALID:
        problems = [flag.name for flag in chess.Status if flag and flag in status]
        raise ValueError(f"FEN {fen!r} is not a legal position: {', '.join(problems)}")
    if board.is_game_over():
        raise ValueError(f"FEN {fen!r}: the game is already over ({board.outcome().termination.name})")
    return board


def board_from_options(options: Mapping[str, Any]) -> chess.Board:
    """The board of ``reset(options={"fen": FEN})``; raises ValueError for other keys."""
    unknown = sorted(set(options) - {"fen"})
    if unknown or "fen" not in options:
        raise ValueError(f"chess envs accept options={{'fen': FEN}}, got keys {sorted(options)}")
    return board_from_fen(options["fen"])


def level_stream(rng: np.random.Generator, difficulty: int) -> np.random.Generator:
    """A generator for one problem at ``difficulty``, drawn from ``rng``: the level is mixed into
    the seed, so the levels of one seed scan different candidates (seeds mix, never add)."""
    return np.random.default_rng(np.random.SeedSequence([int(rng.integers(2**63)), difficulty]))


def random_placement(
    rng: np.random.Generator, white: Sequence[str], black: Sequence[str], turn: chess.Color, edge_king: bool
) -> chess.Board | None:
    """Kings plus the given piece letters (``"QRP"``) on random squares, or None when the
    drawn placement is not a legal position. ``edge_king`` puts the defending king (the side
    not to move) on the board's edge, where mates are common."""
    board = chess.Board(None)
    board.turn = turn
    free = list(range(64))
    defender = not turn
    edge = [s for s in free if chess.square_file(s) in (0, 7) or chess.square_rank(s) in (0, 7)]
    king_sq = int(edge[rng.integers(len(edge))]) if edge_king else int(rng.integers(64))
    board.set_piece_at(king_sq, chess.Piece(chess.KING, defender))
    free.remove(king_sq)
    for color, letters in ((turn, "K" + "".join(white if turn else black)), (defender, "".join(black if turn else white))):
        for letter in letters:
            piece = chess.Piece.from_symbol(letter.upper() if color else letter.lower())
            spots = free if piece.piece_type != chess.PAWN else [s for s in free if 8 <= s < 56]
            square = int(spots[rng.integers(len(spots))])
            board.set_piece_at(square, piece)
            free.remove(square)
    return board if board.is_valid() else None


def random_game_position(rng: np.random.Generator, min_plies: int, max_plies: int) -> chess.Board | None:
    """The position after a seeded game of uniformly random legal moves, or None if it ended."""
    board = chess.Board()
    for _ in range(int(rng.integers(min_plies, max_plies + 1))):
        moves = list(board.legal_moves)
        if not moves:
            return None
        board.push(moves[int(rng.integers(len(moves)))])
    return None if board.is_game_over() else board
