"""Best move: find the one move that wins material (or mates), judged by Stockfish.

Prompt: the position (FEN, ASCII diagram, side to move) and the answer format.
Answer: one move in SAN or UCI, e.g. ``<answer>Bxf7+</answer>``. The answer scores by its
evaluation loss against the best move in the problem's grading table (Stockfish's evaluation
after every legal move, ``nodes`` per search, made when the problem is generated): the winning
move earns 1.0 and only it; every other move loses at least ``min_gap_cp`` (default 200) and
earns ``1 - (loss - margin_cp) / (zero_cp - margin_cp)`` clipped to [0, 1) (defaults 50 and 300,
so 0.4 at a loss of 200 and 0 from 300). An illegal, ambiguous or unreadable move, several
moves, or a move with non-ASCII characters scores 0 with the reason. A forced mate counts as
100000 cp minus the plies to mate, so a slower mate is "another move" like any other.

Positions come from seeded games of random legal moves (6 to 40 plies). One is kept when three
searches agree that one move wins: a two-line (MultiPV 2) search at ``nodes`` and one at
``check_nodes`` (default 40x ``nodes``: 200000) both rate the same move best, at least +150 cp for
the side to move and ``min_gap_cp`` above the second line; and in the grading table that move
is worth at least +150 and every other move at least ``min_gap_cp`` less. The level is mixed
into the seed. Difficulty, by the kind of the winning move (the kinds are disjoint, so a seed
never poses one position at two levels): 1 = it captures free material (an undefended piece or
one worth more than the capturer); 2 = it captures defended material of at most its own value;
3 = it captures nothing (a quiet move or a check). ``reset(options={"fen": FEN})`` poses a given
position with a unique winning move (ValueError otherwise).

Needs Stockfish (Debian package ``stockfish``; see :mod:`thinkgym.envs.chess.engine`): one
engine process per env, started on first use, stopped by ``env.close()``. Scoring searches
nothing (a table lookup). Generation speed (``benchmarks/chess_generation.py``, Stockfish 15.1,
shared two-core machine under load): about 1.4 problems/s at difficulty 1, 0.5/s at 2 and 0.8/s
at 3 (slowest single problem 4.8 s); the labels are re-checked by
``benchmarks/best_move_labels.py`` (100 seeds a level: exactly one full-credit move in every
problem, each confirmed by a 1000000-node search with the second line at least 147 cp worse).
The same seed gives the same problem with the same Stockfish build; another build may differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import chess
import numpy as np

from thinkgym.envs.base import SingleTurnEnv
from thinkgym.envs.chess.common import (
    FORMAT_HINT,
    board_from_options,
    color_name,
    level_stream,
    parse_move,
    position_text,
    random_game_position,
)
from thinkgym.envs.chess.engine import MATE_CP, Engine, cp_score
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_env
from thinkgym.rewards.verdict import Verdict

_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 100}
MIN_WIN_CP = 150
"""The winning move must leave the side to move at least this much ahead (in both searches)."""
MAX_ATTEMPTS = 20_000


def _check_nodes(config: BestMoveConfig) -> int:
    return 40 * config.nodes


@dataclass(frozen=True)
class BestMoveConfig(TaskConfig):
    LEVELS = Levels(("check_nodes",), {1: (_check_nodes,), 2: (_check_nodes,), 3: (_check_nodes,)})
    """The levels differ in the kind of best move (see ``_kind_matches``); only the deep check's
    default node limit is a table value, derived from ``nodes``."""
    margin_cp: int = 50
    """Largest evaluation loss (centipawns) that still earns full reward."""
    zero_cp: int = 300
    """Loss at which the reward reaches 0 (linear in between)."""
    min_gap_cp: int = 200
    """Generation: every other move must lose at least this much against the best, both in the
    grading table and in the deep check (well above ``margin_cp``)."""
    nodes: int = 5000
    """Stockfish node limit per grading search: the evaluation after each legal move, which
    makes the table the answer is scored by (node limits, unlike time limits, are reproducible)."""
    check_nodes: int | None = None
    """Node limit of the deep two-line (MultiPV) search that confirms the winning move is the
    best by at least ``min_gap_cp`` (default 40x ``nodes``: 200000; at least 10x ``nodes``, so
    the label holds deeper than the grading searches)."""
    engine_path: str | None = None
    """Path of the Stockfish binary (default: $THINKGYM_STOCKFISH, PATH, /usr/games/stockfish)."""

    def validate(self) -> None:
        if not 0 <= self.margin_cp < self.zero_cp <= 10_000:
            raise ValueError(f"need 0 <= margin_cp < zero_cp <= 10000, got {self.margin_cp} and {self.zero_cp}")
        if not self.margin_cp < self.min_gap_cp <= 5000:
            raise ValueError(f"min_gap_cp must be above margin_cp ({self.margin_cp}) and at most 5000, got {self.min_gap_cp}")
        if not 100 <= self.nodes <= 10_000_000:
            raise ValueError(f"nodes must be in 100..10000000, got {self.nodes}")
        if not isinstance(self.check_nodes, int) or not 10 * self.nodes <= self.check_nodes <= 100_000_000:
            raise ValueError(f"check_nodes must be at least 10 * nodes ({10 * self.nodes}) and at most 100000000, got {self.check_nodes}")


@dataclass(frozen=True)
class BestMoveProblem:
    prompt: str
    answer: str
    fen: str
    best_cp: int
    """Evaluation after the best move, for the side to move."""
    runner_up: str
    """The second-best move (SAN) and its evaluation in the grading table, for ``explain``."""
    runner_up_cp: int
    config: BestMoveConfig
    evals: Mapping[str, int] = field(repr=False, compare=False)
    """The grading table: every legal move (UCI) -> the evaluation after it, for the side to move."""


def generate(rng: np.random.Generator, config: BestMoveConfig, engine: Engine) -> BestMoveProblem:
    rng = level_stream(rng, config.difficulty)
    for _ in range(MAX_ATTEMPTS):
        board = random_game_position(rng, 6, 40)
        if board is None or board.legal_moves.count() < 2 or not _has_kind(board, config.difficulty):
            continue
        found = _unique_winning_move(board, config, engine, config.difficulty)
        if found is not None:
            return _problem(board, found, config)
    raise RuntimeError(f"no position with a unique winning move in {MAX_ATTEMPTS} attempts")


def from_options(options: Mapping[str, Any], config: BestMoveConfig, engine: Engine) -> BestMoveProblem:
    board = board_from_options(options)
    found = _unique_winning_move(board, config, engine) if board.legal_moves.count() >= 2 else None
    if found is None:
        raise ValueError(f"{board.fen()!r} has no unique winning move (by at least {config.min_gap_cp} cp)")
    return _problem(board, found, config)


def _unique_winning_move(
    board: chess.Board, config: BestMoveConfig, engine: Engine, difficulty: int | None = None
) -> tuple[chess.Move, dict[str, int]] | None:
    """(the winning move, the grading table) when one move wins and every other is clearly worse.

    Three filters, cheapest first: a two-line search at the grading budget (most positions stop
    here); the same at ``check_nodes``, which must agree on the move; then the grading table,
    the evaluation after every legal move, where every other move must lose ``min_gap_cp``. The
    table is what answers are scored by, so no second move can earn full reward.
    """
    best = _clear_best(board, config, engine, config.nodes)
    if best is None or (difficulty is not None and not _kind_matches(board, best, difficulty)):
        return None
    if _clear_best(board, config, engine, config.check_nodes) != best:
        return None
    top = _evaluate_after(board, best, engine)
    if top < MIN_WIN_CP:
        return None
    evals = {best.uci(): top}
    for move in board.legal_moves:
        if move != best:
            evals[move.uci()] = _evaluate_after(board, move, engine)
            if evals[move.uci()] > top - config.min_gap_cp:
                return None
    return best, evals


def _evaluate_after(board: chess.Board, move: chess.Move, engine: Engine) -> int:
    """The grading search: the evaluation after ``move`` for the side that played it."""
    board.push(move)
    try:
        return engine.evaluate(board, not board.turn)
    finally:
        board.pop()


def _clear_best(board: chess.Board, config: BestMoveConfig, engine: Engine, nodes: int) -> chess.Move | None:
    """The best move of a two-line search at ``nodes``, if it wins and beats the second by ``min_gap_cp``."""
    lines = engine.analyse(board, multipv=2, nodes=nodes)
    if len(lines) < 2:
        return None
    best, runner_up = cp_score(lines[0]["score"], board.turn), cp_score(lines[1]["score"], board.turn)
    if best >= MIN_WIN_CP and best - runner_up >= config.min_gap_cp:
        return lines[0]["pv"][0]
    return None


def _is_free_capture(board: chess.Board, move: chess.Move) -> bool:
    return board.is_capture(move) and (
        not board.is_attacked_by(not board.turn, move.to_square)
        or _VALUES[board.piece_type_at(move.to_square) or chess.PAWN] > _VALUES[board.piece_type_at(move.from_square)]
    )


def _kind_matches(board: chess.Board, move: chess.Move, difficulty: int) -> bool:
    """Whether ``move`` is of the kind level ``difficulty`` asks for. The kinds are disjoint and
    a problem has one winning move, so one position is never posed at two levels."""
    if difficulty == 1:
        return _is_free_capture(board, move)
    if difficulty == 2:
        return board.is_capture(move) and not _is_free_capture(board, move)
    return not board.is_capture(move)


def _has_kind(board: chess.Board, difficulty: int) -> bool:
    """Whether any legal move is of the level's kind (a search-free pre-filter)."""
    return any(_kind_matches(board, move, difficulty) for move in board.legal_moves)


def _problem(board: chess.Board, found: tuple[chess.Move, dict[str, int]], config: BestMoveConfig) -> BestMoveProblem:
    best, evals = found
    side = color_name(board.turn)
    prompt = (
        f"{position_text(board)}\n"
        f"{side} has one move that wins material or mates; every other move is clearly worse. Find it.\n"
        f"{FORMAT_HINT}, inside answer tags, e.g. <answer>Nxe5</answer> or <answer>f3e5</answer>."
    )
    second = max((uci for uci in evals if uci != best.uci()), key=lambda uci: (evals[uci], uci))
    return BestMoveProblem(
        prompt, board.san(best), board.fen(), evals[best.uci()], board.san(chess.Move.from_uci(second)), evals[second], config, evals
    )


def verify(problem: BestMoveProblem, answer: str) -> Verdict:
    board = chess.Board(problem.fen)
    move = parse_move(board, answer)
    san = board.san(move)
    if san == problem.answer:
        return Verdict(1.0, canonical=san)
    # Generation made every other move lose more than margin_cp in this table: no other full credit.
    loss = max(0, problem.best_cp - problem.evals[move.uci()])
    config = problem.config
    score = max(0.0, 1.0 - (loss - config.margin_cp) / (config.zero_cp - config.margin_cp))
    return Verdict(round(min(score, 0.99), 4), f"{san} loses {_loss_text(loss)} against the best move", san)


def _loss_text(loss: int) -> str:
    return "a forced mate" if loss > 50_000 else f"{loss} centipawns"


def _eval_text(cp: int) -> str:
    if abs(cp) > 50_000:
        return f"{'a forced mate' if cp > 0 else 'getting mated'} in {MATE_CP - abs(cp)} plies" if abs(cp) < MATE_CP else "checkmate"
    return f"{cp / 100:+.2f} pawns"


def explain(problem: BestMoveProblem) -> str:
    """Compare the winning move with the best alternative, in the engine's evaluations."""
    board = chess.Board(problem.fen)
    move = board.parse_san(problem.answer)
    what = "captures" if board.is_capture(move) else ("gives check" if board.gives_check(move) else "is a quiet move")
    return (
        f"{problem.answer} {what}. After it the position is worth {_eval_text(problem.best_cp)} for {color_name(board.turn)}; "
        f"the best alternative, {problem.runner_up}, only {_eval_text(problem.runner_up_cp)}. "
        f"So the winning move is {problem.answer}"
    )


class BestMoveEnv(SingleTurnEnv):
    __doc__ = __doc__
    family = "chess"
    requires = ("stockfish",)
    config_cls = BestMoveConfig
    task_verify = staticmethod(verify)
    task_explain = staticmethod(explain)
    # Verified in this process even when verifiers are isolated (THINKGYM_ISOLATE_VERIFIERS):
    # verification parses a few characters and looks the move up in the problem's grading table
    # (no engine search), so a worker process would only add a round trip.
    isolatable = False

    def __init__(self, difficulty: int = 1, **options: Any) -> None:
        super().__init__(difficulty, **options)
        self.engine = Engine(self.config.engine_path, nodes=self.config.nodes)

    def generate(self, rng: np.random.Generator) -> BestMoveProblem:
        return generate(rng, self.config, self.engine)

    def problem_from_options(self, options: Mapping[str, Any]) -> BestMoveProblem:
        return from_options(options, self.config, self.engine)

    def close(self) -> None:
        self.engine.close()
        super().close()


register_env("thinkgym/BestMove-v0", BestMoveEnv)
