"""Write ``envs/data/lichess_sample.csv``: puzzles in the Lichess puzzle-file format, constructed
from seeded random games (not taken from the Lichess database).

Each puzzle starts from a position of a random game with the opponent to move; the opponent's
random move (``Moves[0]``) must leave the player a tactic:

* ``mateIn1`` (rated 600..1250): a mate in one, found by python-chess;
* ``mateIn2`` (rated 1350..1850): Stockfish reports mate in 2 and exhaustive search confirms it
  with exactly one key move (the env credits only the stored first move or a mate in one); the
  line is the key move, the longest defence and the mate;
* ``advantage`` / ``crushing``: a unique winning move by BestMove-v0's filter
  (:func:`thinkgym.envs.chess.best_move._unique_winning_move`) at 20000 nodes a grading search
  and a 500000-node MultiPV check: the best move leaves at least +150 and every other move is at
  least 200 cp worse; the line adds the engine's reply and follow-up. Rated 1350..1850 when the
  move captures free material, 1950..2450 otherwise.

Every engine-labelled row is then re-checked by a fresh Stockfish process with a MultiPV 2
search at ``VERIFY_NODES`` (2000000, 4x the check that found it): its best move must be the
stored one, at least +150, and at least ``VERIFY_GAP_CP`` (100, twice BestMove's full-credit
window) above the second line; a row that fails is dropped. The shallow single search of an
earlier version let a row through whose stored move was 300 cp worse than another move.

Ratings are assigned by type, not measured. Usage: ``python examples/make_lichess_sample.py``
(needs Stockfish; takes about ten minutes on a shared two-core machine).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import chess
import chess.engine
import numpy as np

from thinkgym.envs.chess.best_move import MIN_WIN_CP, BestMoveConfig, _clear_best, _kind_matches, _unique_winning_move
from thinkgym.envs.chess.common import random_game_position
from thinkgym.envs.chess.engine import Engine, cp_score, stockfish_path
from thinkgym.envs.chess.lichess import SAMPLE_PATH
from thinkgym.envs.chess.mate import best_defence, forcing_moves, mate_distance, mating_moves

HEADER = ["PuzzleId", "FEN", "Moves", "Rating", "RatingDeviation", "Popularity", "NbPlays", "Themes", "GameUrl", "OpeningTags"]
WANTED = {"mateIn1": 30, "mateIn2": 10, "easy": 12, "hard": 15}
VERIFY_NODES = 2_000_000
VERIFY_GAP_CP = 100


def main(out: Path = SAMPLE_PATH, seed: int = 2024) -> None:
    rng = np.random.default_rng(seed)
    engine = Engine(nodes=20_000)
    config = BestMoveConfig(nodes=20_000, check_nodes=500_000)
    judge = chess.engine.SimpleEngine.popen_uci(stockfish_path())
    judge.configure({"Threads": 1, "Hash": 64})
    found: dict[str, list[list[str]]] = {kind: [] for kind in WANTED}
    while any(len(found[k]) < n for k, n in WANTED.items()):
        before = random_game_position(rng, 8, 50)
        if before is None:
            continue
        replies = list(before.legal_moves)
        first = replies[int(rng.integers(len(replies)))]
        board = before.copy()
        board.push(first)
        if board.is_game_over():
            continue
        full = {kind for kind, rows in found.items() if len(rows) >= WANTED[kind]}
        kind, line, themes = _classify(board, engine, config, full)
        if kind is None or kind in full:
            continue
        if kind in ("easy", "hard") and not holds(judge, board, line[0]):
            print("dropped: a deeper search disagrees", board.fen(), line[0].uci(), file=sys.stderr)
            continue
        low, high = {"mateIn1": (600, 1250), "mateIn2": (1350, 1850), "easy": (1350, 1850), "hard": (1950, 2450)}[kind]
        rating = int(rng.integers(low, high + 1))
        moves = " ".join(m.uci() for m in [first, *line])
        puzzle_id = f"tg{sum(map(len, found.values())):03d}"
        found[kind].append([puzzle_id, before.fen(), moves, str(rating), "80", "90", "100", " ".join(themes), "", ""])
        print(kind, puzzle_id, moves, file=sys.stderr)
    engine.close()
    judge.quit()
    rows = sorted((row for rows in found.values() for row in rows), key=lambda r: r[0])
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def _classify(
    board: chess.Board, engine: Engine, config: BestMoveConfig, full: set[str]
) -> tuple[str | None, list[chess.Move], list[str]]:
    """The puzzle kind of ``board`` and its line, or None; kinds in ``full`` skip the deep checks."""
    mates = mating_moves(board)
    if mates:
        return "mateIn1", [mates[0]], ["mate", "mateIn1", "oneMove"]
    if board.legal_moves.count() < 2:
        return None, [], []
    info = engine.analyse(board)[0]
    mate = info["score"].pov(board.turn).mate()
    if mate == 2 and mate_distance(board, 2) == 2:
        keys = forcing_moves(board, 2)
        if len(keys) != 1:
            return None, [], []
        key = keys[0]
        board.push(key)
        defence = best_defence(board, 1)
        board.push(defence)
        finish = mating_moves(board)[0]
        board.pop(), board.pop()
        return "mateIn2", [key, defence, finish], ["mate", "mateIn2", "short"]
    if mate is not None:
        return None, [], []
    screened = _clear_best(board, config, engine, config.nodes)
    if screened is None or ("easy" if _kind_matches(board, screened, 1) else "hard") in full:
        return None, [], []
    found = _unique_winning_move(board, config, engine)
    if found is None:
        return None, [], []
    best = found[0]
    if mating_moves(board):
        return None, [], []
    board.push(best)
    reply = engine.analyse(board)[0]["pv"][0]
    board.push(reply)
    follow = engine.analyse(board)[0]["pv"][0] if not board.is_game_over() else None
    board.pop(), board.pop()
    if follow is None:
        return None, [], []
    cp = engine.analyse(board)[0]["score"].pov(board.turn).score(mate_score=100_000)
    kind = "easy" if _kind_matches(board, best, 1) else "hard"
    return kind, [best, reply, follow], ["crushing" if cp >= 500 else "advantage", "short"]


def holds(judge: chess.engine.SimpleEngine, board: chess.Board, move: chess.Move, nodes: int = VERIFY_NODES) -> bool:
    """Whether a fresh MultiPV 2 search at ``nodes`` rates ``move`` best, winning, and at least
    VERIFY_GAP_CP above the second line."""
    lines = judge.analyse(board, chess.engine.Limit(nodes=nodes), multipv=2, game=object())
    if len(lines) < 2 or lines[0]["pv"][0] != move:
        return False
    top, second = cp_score(lines[0]["score"], board.turn), cp_score(lines[1]["score"], board.turn)
    return top >= MIN_WIN_CP and top - second >= VERIFY_GAP_CP


if __name__ == "__main__":
    main()
