"""Best move: find the one move that wins material (or mates), judged by Stockfish.

Prompt: the position (FEN, ASCII diagram, side to move) and the answer format.
Answer: one move in SAN or UCI, e.g. ``<answer>Bxf7+</answer>``. The answer scores by its
evaluation loss against the best move: Stockfish evaluates the position after the answered move
and after the best move with the same node-limited search; a loss of at most ``margin_cp``
centipawns (default 50) earns 1.0, the reward then falls linearly to 0 at ``zero_cp`` (default
300), and an illegal or unreadable move scores 0 with the reason. A forced mate counts as
100000 cp minus the plies to mate, so when the best move mates, another move that also forces
a mate (in at most 50 more plies) keeps full reward.

Positions come from seeded games of random legal moves (6 to 40 plies), kept when Stockfish's
best move leaves the side to move at least +150 cp and at least ``min_gap_cp`` (default 200)
better than its second-best move: a unique winning move. Difficulty: 1 = the winning move
captures free material (an undefended piece or one worth more than the capturer); 2 = it is
any other move (a capture of a defended piece, a check or a quiet move); 3 = it captures
nothing (a quiet move or a check). ``reset(options={"fen": FEN})`` poses a given position with
a unique winning move (ValueError otherwise).

Needs Stockfish (Debian package ``stockfish``; see :mod:`thinkgym.envs.chess.engine`): one
engine process per env, started on first use, stopped by ``env.close()``. Generation speed
(``benchmarks/chess_generation.py``, Stockfish 15.1, 5000 nodes a search, shared two-core
machine under load): about 6 problems/s at difficulty 1 and 1/s at 2 and 3 (slowest single
problem 2.6 s); scoring a move other than the best takes one search (about 15 ms). The same
seed gives the same problem with the same Stockfish build; another build may differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import chess
import numpy as np

from thinkgym.envs.base import SingleTurnEnv
from thinkgym.envs.chess.common import FORMAT_HINT, board_from_options, color_name, parse_move, position_text, random_game_position
from thinkgym.envs.chess.engine import MATE_CP, Engine, cp_score
from thinkgym.envs.registry import register_env
from thinkgym.rewards.verdict import Verdict

_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 100}
MIN_WIN_CP = 150
MAX_ATTEMPTS = 20_000


@dataclass(frozen=True)
class BestMoveConfig:
    difficulty: int = 1
    margin_cp: int = 50
    """Largest evaluation loss (centipawns) that still earns full reward."""
    zero_cp: int = 300
    """Loss at which the reward reaches 0 (linear in between)."""
    min_gap_cp: int = 200
    """Generation: the best move must beat the second best by this much."""
    nodes: int = 5000
    """Stockfish node limit per search (node limits, unlike time limits, are reproducible)."""
    engine_path: str | None = None
    """Path of the Stockfish binary (default: $THINKGYM_STOCKFISH, PATH, /usr/games/stockfish)."""

    def __post_init__(self) -> None:
        if not 0 <= self.margin_cp < self.zero_cp <= 10_000:
            raise ValueError(f"need 0 <= margin_cp < zero_cp <= 10000, got {self.margin_cp} and {self.zero_cp}")
        if not 50 <= self.min_gap_cp <= 5000:
            raise ValueError(f"min_gap_cp must be in 50..5000, got {self.min_gap_cp}")
        if not 100 <= self.nodes <= 10_000_000:
            raise ValueError(f"nodes must be in 100..10000000, got {self.nodes}")


@dataclass(frozen=True)
class BestMoveProblem:
    prompt: str
    answer: str
    fen: str
    best_cp: int
    """Evaluation after the best move, for the side to move."""
    runner_up: str
    """The second-best move (SAN) and its evaluation in the generating search, for ``explain``."""
    runner_up_cp: int
    config: BestMoveConfig
    engine: Engine = field(repr=False, compare=False)


def generate(rng: np.random.Generator, config: BestMoveConfig, engine: Engine) -> BestMoveProblem:
    for _ in range(MAX_ATTEMPTS):
        board = random_game_position(rng, 6, 40)
        if board is None or board.legal_moves.count() < 2:
            continue
        found = _unique_winning_move(board, config, engine)
        if found is not None and _kind_matches(board, found[0], config.difficulty):
            return _problem(board, found, config, engine)
    raise RuntimeError(f"no position with a unique winning move in {MAX_ATTEMPTS} attempts")


def from_options(options: Mapping[str, Any], config: BestMoveConfig, engine: Engine) -> BestMoveProblem:
    board = board_from_options(options)
    found = _unique_winning_move(board, config, engine) if board.legal_moves.count() >= 2 else None
    if found is None:
        raise ValueError(f"{board.fen()!r} has no unique winning move (by at least {config.min_gap_cp} cp)")
    return _problem(board, found, config, engine)


def _unique_winning_move(board: chess.Board, config: BestMoveConfig, engine: Engine) -> tuple[chess.Move, chess.Move, int] | None:
    """(best move, second-best move, its evaluation) when the best move is a unique win, else None."""
    first, second = engine.analyse(board, multipv=2)[:2]
    best, runner_up = cp_score(first["score"], board.turn), cp_score(second["score"], board.turn)
    if best >= MIN_WIN_CP and best - runner_up >= config.min_gap_cp:
        return first["pv"][0], second["pv"][0], runner_up
    return None


def _kind_matches(board: chess.Board, move: chess.Move, difficulty: int) -> bool:
    free = board.is_capture(move) and (
        not board.is_attacked_by(not board.turn, move.to_square)
        or _VALUES[board.piece_type_at(move.to_square) or chess.PAWN] > _VALUES[board.piece_type_at(move.from_square)]
    )
    return {1: free, 2: not free, 3: not board.is_capture(move)}[difficulty]


def _problem(
    board: chess.Board, found: tuple[chess.Move, chess.Move, int], config: BestMoveConfig, engine: Engine
) -> BestMoveProblem:
    best, second, second_cp = found
    side = color_name(board.turn)
    prompt = (
        f"{position_text(board)}\n"
        f"{side} has one move that wins material or mates; every other move is clearly worse. Find it.\n"
        f"{FORMAT_HINT}, inside answer tags, e.g. <answer>Nxe5</answer> or <answer>f3e5</answer>."
    )
    after = board.copy(stack=False)
    after.push(best)
    best_cp = engine.evaluate(after, board.turn)
    return BestMoveProblem(prompt, board.san(best), board.fen(), best_cp, board.san(second), second_cp, config, engine)


def verify(problem: BestMoveProblem, answer: str) -> Verdict:
    board = chess.Board(problem.fen)
    move = parse_move(board, answer)
    san = board.san(move)
    if san == problem.answer:
        return Verdict(1.0, canonical=san)
    mover = board.turn
    board.push(move)
    loss = max(0, problem.best_cp - problem.engine.evaluate(board, mover))
    config = problem.config
    if loss <= config.margin_cp:
        return Verdict(1.0, canonical=san)
    score = max(0.0, 1.0 - (loss - config.margin_cp) / (config.zero_cp - config.margin_cp))
    return Verdict(round(score, 4), f"{san} loses {_loss_text(loss)} against the best move", san)


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
    verify_time_limit = 10.0  # one node-limited search, or an engine restart and a search
    # Verified in this process even when verifiers are isolated (THINKGYM_ISOLATE_VERIFIERS):
    # the parser reads at most a few characters and the engine already runs in its own process
    # under a node limit, while each worker process would start its own Stockfish.
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
