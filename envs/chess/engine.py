"""The Stockfish engine, shared by the engine-backed chess tasks.

Stockfish is Debian's package ``stockfish`` (the binary is ``/usr/games/stockfish``, which is not
on ``PATH`` by default). The binary is found, in order, from: the path given to :class:`Engine`
(the tasks' ``engine_path`` config field), the environment variable ``THINKGYM_STOCKFISH``,
``stockfish`` on ``PATH``, then ``/usr/games/stockfish``.

An :class:`Engine` starts its process lazily on first use, reuses it for every search, restarts
it when it has died, and stops it on :meth:`Engine.close` (envs call it from ``env.close()``).
Searches are limited by node count, never time, with one thread and a hash table cleared
before every search, so the same position always gets the same evaluation from the same
Stockfish build.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import weakref
from collections.abc import Iterable
from typing import Any

import chess
import chess.engine

from thinkgym.errors import UserError

logger = logging.getLogger(__name__)

ENV_VAR = "THINKGYM_STOCKFISH"
DEBIAN_PATH = "/usr/games/stockfish"
MATE_CP = 100_000
"""Centipawn value of a forced mate (minus one per ply to it), so that scores order."""


class StockfishNotFound(UserError, FileNotFoundError):
    """No Stockfish binary: install Debian's package ``stockfish`` or set THINKGYM_STOCKFISH."""


def stockfish_path(configured: str | None = None) -> str:
    """The Stockfish binary to run; raises :class:`StockfishNotFound` with how to get one."""
    explicit = configured or os.environ.get(ENV_VAR)
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise StockfishNotFound(f"the Stockfish path {explicit!r} (from config or ${ENV_VAR}) is not an executable file")
    for candidate in (shutil.which("stockfish"), DEBIAN_PATH):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise StockfishNotFound(
        "this chess task needs the Stockfish engine: install the Debian package `stockfish` "
        f"(apt-get install stockfish) or set ${ENV_VAR} to the path of a Stockfish binary"
    )


def stockfish_available() -> bool:
    try:
        stockfish_path()
    except StockfishNotFound:
        return False
    return True


def cp_score(score: chess.engine.PovScore, color: chess.Color) -> int:
    """A score in centipawns from ``color``'s point of view; mates map near +-MATE_CP."""
    return score.pov(color).score(mate_score=MATE_CP)


_LIVE: weakref.WeakSet[Engine] = weakref.WeakSet()


def close_all() -> None:
    """Stop every running engine process."""
    for engine in list(_LIVE):
        engine.close()


# python-chess drives each engine from a non-daemon thread, and Python joins those threads
# before running atexit handlers: an engine left open would hang interpreter exit. This hook
# runs before that join (it is what concurrent.futures uses for the same reason).
_register_before_thread_join = getattr(threading, "_register_atexit", None)
if _register_before_thread_join is not None:
    _register_before_thread_join(close_all)


class Engine:
    """One lazily started Stockfish process with deterministic node-limited searches."""

    def __init__(self, path: str | None = None, *, nodes: int = 20_000, hash_mb: int = 16) -> None:
        self.path = stockfish_path(path)
        self.limit = chess.engine.Limit(nodes=nodes)
        self.hash_mb = hash_mb
        self._engine: chess.engine.SimpleEngine | None = None
        self._finalizer: weakref.finalize | None = None

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        # A pickled engine (inside a pickled problem, e.g. sent to a worker process) becomes the
        # receiving process's shared engine with the same settings: no process handle travels.
        return (shared_engine, (self.path, self.limit.nodes, self.hash_mb))

    @property
    def pid(self) -> int | None:
        """The process id of the running engine, or None when none is running."""
        return None if self._engine is None else self._engine.transport.get_pid()

    def analyse(
        self,
        board: chess.Board,
        multipv: int = 1,
        root_moves: Iterable[chess.Move] | None = None,
        *,
        nodes: int | None = None,
    ) -> list[chess.engine.InfoDict]:
        """Search ``board`` to the node limit (``nodes``, default the engine's own); one info dict
        per principal variation, best first.

        A dead engine is restarted and the search retried once.
        """
        moves = list(root_moves) if root_moves is not None else None
        limit = self.limit if nodes is None else chess.engine.Limit(nodes=nodes)
        try:
            return self._search(board, multipv, moves, limit)
        except (chess.engine.EngineError, TimeoutError) as err:
            logger.warning("Stockfish failed (%s); restarting it", err)
            self.close()
        return self._search(board, multipv, moves, limit)  # a second failure propagates

    def _search(
        self, board: chess.Board, multipv: int, moves: list[chess.Move] | None, limit: chess.engine.Limit
    ) -> list[chess.engine.InfoDict]:
        # A fresh `game` object makes python-chess send ucinewgame, which clears the hash: every
        # search starts from the same state, so its result is reproducible.
        return self._started().analyse(board, limit, multipv=multipv, root_moves=moves, game=object())

    def evaluate(self, board: chess.Board, color: chess.Color) -> int:
        """The centipawn evaluation of ``board`` from ``color``'s point of view (exact at game end)."""
        if board.is_checkmate():
            return -MATE_CP if board.turn == color else MATE_CP
        if board.is_game_over(claim_draw=False):
            return 0
        return cp_score(self.analyse(board)[0]["score"], color)

    def close(self) -> None:
        """Stop the engine process (a later search starts a new one)."""
        if self._finalizer is not None:
            self._finalizer()
        self._engine, self._finalizer = None, None
        _LIVE.discard(self)

    def _started(self) -> chess.engine.SimpleEngine:
        if self._engine is None:
            engine = chess.engine.SimpleEngine.popen_uci(self.path)
            try:
                engine.configure({"Threads": 1, "Hash": self.hash_mb})
            except BaseException:
                _shutdown(engine)
                raise
            self._engine = engine
            self._finalizer = weakref.finalize(self, _shutdown, engine)
            _LIVE.add(self)
        return self._engine


_SHARED: dict[tuple[str, int, int], Engine] = {}


def shared_engine(path: str, nodes: int, hash_mb: int) -> Engine:
    """This process's engine with these settings, created on first request (a pool of one)."""
    key = (path, nodes, hash_mb)
    if key not in _SHARED:
        _SHARED[key] = Engine(path, nodes=nodes, hash_mb=hash_mb)
    return _SHARED[key]


def _shutdown(engine: chess.engine.SimpleEngine) -> None:
    try:
        engine.quit()
    except (chess.engine.EngineError, TimeoutError, RuntimeError):
        pass  # already dead
    finally:
        engine.close()
