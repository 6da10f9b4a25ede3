"""Forced mate, played out: deliver a forced mate in two or three, one move per turn, against
the best defence.

Observation: the position (FEN, ASCII diagram, side to move), how many moves are left to mate,
the defender's last reply, and the answer format. Action: a completion whose last answer block
holds one move in SAN or UCI, e.g. ``<answer>Rg7</answer>``. After each legal move that does not
mate, the defender answers with the reply that delays mate longest (exhaustive search with
python-chess; ties go to the first move in UCI order), so no engine is needed.

Reward: 1.0 on the turn the agent checkmates within its ``mate_in`` moves; 0 on every other
turn. The episode ends at mate, at an illegal or unreadable move (reason in ``info``), when the
defence escapes a forced mate, or after ``mate_in`` moves. ``info["answer"]`` is a move that keeps
the mate forced (the first one found, checks first); playing it every turn earns 1.0.

Difficulty: 1 = mate in 2 with two queens or rooks against a lone king; 2 = mate in 2 with
three pieces against two defenders; 3 = mate in exactly 3 with two rooks or queen and rook
against a king (with at most one pawn). ``reset(options={"fen": FEN})`` starts from a given position in which mate in at
most ``mate_in`` moves is forced. Generation speed (``benchmarks/chess_generation.py``, shared
two-core machine under load): about 30 problems/s at difficulty 1, 15/s at 2 and 1.5/s at 3
(slowest single problem 1.4 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chess
import numpy as np

from thinkgym.envs.base import MultiTurnEnv
from thinkgym.envs.chess.common import FORMAT_HINT, board_from_options, color_name, parse_move, position_text, random_placement
from thinkgym.envs.chess.mate import best_defence, first_forcing_move, mate_distance
from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.registry import register_env
from thinkgym.rewards.verdict import InvalidAnswer

MAX_ATTEMPTS = 100_000


def _mate_in(config: ForcedMateConfig) -> int:
    return config.mate_in


@dataclass(frozen=True)
class ForcedMateConfig(TaskConfig):
    LEVELS = Levels(
        ("mate_in", "max_turns", "attackers", "defenders"),
        {
            1: (2, _mate_in, ("QR", "QQ", "RR"), ("",)),
            2: (2, _mate_in, ("QRN", "QRB", "RRB"), ("PP", "NP")),
            3: (3, _mate_in, ("RR", "QR"), ("", "P")),
        },
    )
    """Mate length, turn limit, attacker piece sets, defender piece sets."""
    mate_in: int | None = None
    """Moves the agent has to deliver mate (default: 2, or 3 at difficulty 3)."""
    max_turns: int | None = None
    """Turn limit: always ``mate_in`` (the episode ends after the agent's ``mate_in`` moves)."""

    def validate(self) -> None:
        if self.mate_in not in (2, 3):
            raise ValueError(f"mate_in must be 2 or 3, got {self.mate_in!r}")
        if self.max_turns != self.mate_in:
            raise ValueError(f"max_turns is mate_in ({self.mate_in}) for this env; set mate_in instead of {self.max_turns!r}")


@dataclass(frozen=True)
class ForcedMateProblem:
    prompt: str
    answer: str
    fen: str
    mate_in: int


class ForcedMateEnv(MultiTurnEnv):
    __doc__ = __doc__
    family = "chess"
    config_cls = ForcedMateConfig

    def generate(self, rng: np.random.Generator) -> ForcedMateProblem:
        attackers, defenders = self.config.level["attackers"], self.config.level["defenders"]
        n = self.config.mate_in
        for _ in range(MAX_ATTEMPTS):
            turn = bool(rng.integers(2))
            mine, theirs = attackers[rng.integers(len(attackers))], defenders[rng.integers(len(defenders))]
            white, black = (mine, theirs) if turn == chess.WHITE else (theirs, mine)
            board = random_placement(rng, white, black, turn, edge_king=True)
            if board is not None and mate_distance(board, n) == n:
                return self._start(board)
        raise RuntimeError(f"no forced mate in {n} found in {MAX_ATTEMPTS} attempts")

    def problem_from_options(self, options: Mapping[str, Any]) -> ForcedMateProblem:
        board = board_from_options(options)
        if mate_distance(board, self.config.mate_in) is None:
            raise ValueError(f"{color_name(board.turn)} cannot force mate in {self.config.mate_in} in {board.fen()!r}")
        return self._start(board)

    def _start(self, board: chess.Board) -> ForcedMateProblem:
        self.board = board
        self.attacker = board.turn
        self.moves_left = self.config.mate_in
        return ForcedMateProblem(self._observation(""), self.reference_action(), board.fen(), self.moves_left)

    def _observation(self, news: str) -> str:
        moves = "move" if self.moves_left == 1 else "moves"
        return (
            f"{news}{position_text(self.board)}\n"
            f"You play {color_name(self.attacker)} and must checkmate in at most {self.moves_left} {moves}; "
            f"{color_name(not self.attacker)} defends as well as possible. Play one move now.\n"
            f"{FORMAT_HINT}, inside answer tags, e.g. <answer>Rg7</answer> or <answer>g1g7</answer>."
        )

    def reference_action(self) -> str:
        move = first_forcing_move(self.board, self.moves_left)
        return "" if move is None else self.board.san(move)

    def play(self, move: str | None, error: str) -> tuple[str, float, bool, dict[str, Any]]:
        if move is None:
            return "", 0.0, True, {"reason": error}
        try:
            parsed = parse_move(self.board, move)
        except InvalidAnswer as err:
            return "", 0.0, True, {"reason": f"unparsable answer: {err}"}
        san = self.board.san(parsed)
        self.board.push(parsed)
        self.moves_left -= 1
        info: dict[str, Any] = {"canonical": san}
        if self.board.is_checkmate():
            return "", 1.0, True, {**info, "reason": "", "correct": True}
        if self.board.is_game_over(claim_draw=False):
            return "", 0.0, True, {**info, "reason": f"{san} ends the game without mate ({self.board.outcome().termination.name.lower()})"}
        if self.moves_left == 0:
            return "", 0.0, True, {**info, "reason": f"{san} does not mate and no moves are left"}
        reply = best_defence(self.board, self.moves_left)
        reply_san = self.board.san(reply)
        self.board.push(reply)
        if mate_distance(self.board, self.moves_left) is None:
            return "", 0.0, True, {**info, "reason": f"after {san}, {reply_san} escapes a forced mate"}
        news = f"You played {san}; {color_name(not self.attacker)} replied {reply_san}.\n"
        return self._observation(news), 0.0, False, {**info, "reason": "", "reply": reply_san}


register_env("thinkgym/ForcedMate-v0", ForcedMateEnv)
