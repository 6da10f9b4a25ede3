"""The verification guard: every env scores model text through :func:`guarded_verify`.

A reward function reads text written by a model that is being optimised to get reward, so no
completion may crash or stall a rollout:

* **Size cap.** Completions over :data:`MAX_COMPLETION_CHARS` (and answers over
  ``MAX_ANSWER_CHARS``, see :mod:`thinkgym.rewards.extract`) are rejected before any parser.
* **Time limit from any thread.** A verifier runs in the calling thread under a watchdog: when
  it overruns its limit, the watchdog raises :class:`VerifyTimeout` inside that thread
  (``PyThreadState_SetAsyncExc``). Unlike ``signal.alarm`` this works in worker threads and in
  worker processes. It interrupts Python code, not one long C call (a huge integer power), so
  parsers also cap exponents and sizes before doing arithmetic.
* **Isolation (optional).** :class:`VerifierPool` runs verifiers in persistent worker processes
  with a memory cap; a worker that dies or overruns is killed and replaced, so one hostile
  answer costs at most the limit.
* **Errors become reward 0.** Parsers signal unreadable answers with :class:`InvalidAnswer`;
  any other exception is a verifier bug: logged with its traceback, scored 0 with the reason.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from thinkgym.rewards.verdict import InvalidAnswer, Verdict

logger = logging.getLogger(__name__)

MAX_COMPLETION_CHARS = 65536
"""Completions longer than this score 0 without being parsed."""

DEFAULT_TIME_LIMIT = float(os.environ.get("THINKGYM_VERIFY_TIMEOUT", "1.0"))
"""Seconds one verification may take (override with the env var THINKGYM_VERIFY_TIMEOUT)."""


class VerifyTimeout(BaseException):
    """Raised inside a verifier that overran its time limit.

    A ``BaseException``, like ``KeyboardInterrupt``, so that a verifier's own
    ``except Exception`` cannot swallow it.
    """


def guarded_verify(
    verify: Callable[[Any, str], "float | bool | Verdict"],
    problem: Any,
    answer: str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> tuple[Verdict, bool]:
    """Run ``verify(problem, answer)`` within ``time_limit`` seconds; return ``(verdict, parsed)``.

    Never raises on the answer's content. ``parsed`` is False when the verifier rejected the
    answer as unreadable, ran out of time, or failed.
    """
    try:
        # time_limited() inlined: this runs once per completion, so every microsecond shows.
        watchdog = alarm = None
        if time_limit is not None and time_limit > 0:
            watchdog = _watchdog()
            alarm = watchdog.arm(time_limit)
        try:
            result = verify(problem, answer)
        finally:
            if alarm is not None:
                watchdog.disarm(alarm)
        return Verdict.of(result), True
    except VerifyTimeout:
        return Verdict(0.0, f"verification took longer than {time_limit:g}s"), False
    except InvalidAnswer as err:
        return Verdict(0.0, f"unparsable answer: {err}"), False
    except (RecursionError, MemoryError, OverflowError) as err:
        return Verdict(0.0, f"answer too complex: {type(err).__name__}"), False
    except Exception as err:  # a verifier bug must not kill the rollout
        logger.warning("verifier %s raised on answer %.80r", getattr(verify, "__qualname__", verify), answer, exc_info=True)
        return Verdict(0.0, f"verifier error: {type(err).__name__}: {err}"), False


class time_limited:
    """Context manager: raise :class:`VerifyTimeout` in this thread if the block overruns.

    ``with time_limited(0.5): slow()``. ``None`` or a non-positive limit means no limit.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._token: _Alarm | None = None

    def __enter__(self) -> "time_limited":
        if self.seconds is not None and self.seconds > 0:
            self._watchdog = _watchdog()
            self._token = self._watchdog.arm(self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            self._watchdog.disarm(self._token)


class _Alarm:
    __slots__ = ("thread_id", "deadline", "done", "fired")

    def __init__(self, thread_id: int, deadline: float) -> None:
        self.thread_id = thread_id
        self.deadline = deadline
        self.done = False
        self.fired = False


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    obj = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), obj)


_PURGE_AT = 4096
"""Queue length at which :meth:`_Watchdog.arm` drops disarmed alarms."""


class _Watchdog:
    """One daemon thread that raises :class:`VerifyTimeout` in threads past their deadline.

    Arming costs a heap push, not a thread start, so the guard adds microseconds per call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, _Alarm]] = []
        self._counter = itertools.count()
        threading.Thread(target=self._run, name="thinkgym-verify-watchdog", daemon=True).start()

    def arm(self, seconds: float) -> _Alarm:
        alarm = _Alarm(threading.get_ident(), time.monotonic() + seconds)
        with self._lock:
            heap = self._heap
            if len(heap) >= _PURGE_AT:
                # Disarmed alarms stay queued until their deadline; drop them in one O(n) pass
                # now and then (amortised O(1)) instead of waking the thread for each one.
                heap[:] = [entry for entry in heap if not entry[2].done]
                heapq.heapify(heap)
            heapq.heappush(heap, (alarm.deadline, next(self._counter), alarm))
            if heap[0][2] is alarm:
                # Wake the thread only when this deadline comes first: otherwise it already
                # sleeps until an earlier one and re-reads the queue then. Waking it on every
                # call would make the two threads trade the GIL for each verification.
                self._wake.notify()
        return alarm

    def disarm(self, alarm: _Alarm) -> None:
        with self._lock:
            alarm.done = True
            if alarm.fired:
                # The block ended (or is ending) after the alarm fired: cancel a VerifyTimeout
                # that may still be pending, so it cannot surface in the caller's own code.
                _set_async_exc(alarm.thread_id, None)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, alarm = heapq.heappop(self._heap)
                    if not alarm.done:
                        alarm.fired = True
                        _set_async_exc(alarm.thread_id, VerifyTimeout)
                        # Re-arm shortly in case the exception landed somewhere that swallowed it.
                        alarm.deadline = now + 0.05
                        heapq.heappush(self._heap, (alarm.deadline, next(self._counter), alarm))
                        break
                timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                self._wake.wait(timeout=None if timeout is None else max(timeout, 0.0))


_WATCHDOG: _Watchdog | None = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog() -> _Watchdog:
    global _WATCHDOG
    watchdog = _WATCHDOG
    if watchdog is None:
        with _WATCHDOG_LOCK:
            if _WATCHDOG is None:
                _WATCHDOG = _Watchdog()
            watchdog = _WATCHDOG
    return watchdog


def _forget_watchdog() -> None:
    """After a fork: threads do not survive it, so the child starts its own watchdog."""
    global _WATCHDOG, _WATCHDOG_LOCK
    _WATCHDOG = None
    _WATCHDOG_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_watchdog)


# -- process isolation -----------------------------------------------------------------------


def _worker_main(conn: Any, memory_limit_mb: int | None) -> None:
    if memory_limit_mb:
        import resource

        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import thinkgym  # noqa: F401  (pay the import before the first timed job)

    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        verify, problem, answer = job
        verdict, parsed = guarded_verify(verify, problem, answer, time_limit=None)
        conn.send((verdict, parsed))


class VerifierPool:
    """Persistent worker processes that run verifiers with a time limit and a memory cap.

    ``pool.verify(fn, problem, answer)`` returns ``(verdict, parsed)`` like
    :func:`guarded_verify`. ``fn`` and ``problem`` must be picklable (module-level functions and
    dataclasses are). A worker that overruns ``time_limit`` or dies (for instance on the memory
    cap) is killed and replaced; the answer scores 0 with the reason. Thread-safe: concurrent
    callers each take a free worker.
    """

    def __init__(self, workers: int = 1, *, time_limit: float = DEFAULT_TIME_LIMIT, memory_limit_mb: int | None = 1024) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if time_limit <= 0:
            raise ValueError(f"time_limit must be positive, got {time_limit}")
        self.pid = os.getpid()
        self.time_limit = time_limit
        self.memory_limit_mb = memory_limit_mb
        self._ctx = mp.get_context("spawn")
        self._free: list[tuple[Any, Any]] = [self._start() for _ in range(workers)]
        self._available = threading.Semaphore(workers)
        self._lock = threading.Lock()
        self.restarts = 0

    def _start(self) -> tuple[Any, Any]:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, args=(child, self.memory_limit_mb), daemon=True)
        proc.start()
        child.close()
        if not parent.poll(120) or parent.recv() != "ready":
            proc.kill()
            raise RuntimeError("a verifier worker process failed to start")
        return proc, parent

    def verify(self, verify: Callable[[Any, str], Any], problem: Any, answer: str) -> tuple[Verdict, bool]:
        self._available.acquire()
        with self._lock:
            worker = self._free.pop()
        try:
            proc, conn = worker
            try:
                conn.send((verify, problem, answer))
                if conn.poll(self.time_limit):
                    return conn.recv()
                reason = f"verification took longer than {self.time_limit:g}s"
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
                reason = "the verifier process died (memory limit or crash)"
            proc.kill()
            proc.join()
            worker = self._start()
            with self._lock:
                self.restarts += 1
            return Verdict(0.0, reason), False
        finally:
            self._release(worker)

    def _release(self, worker: tuple[Any, Any]) -> None:
        with self._lock:
            self._free.append(worker)
        self._available.release()

    def close(self) -> None:
        with self._lock:
            for proc, conn in self._free:
                conn.close()
                proc.kill()
                proc.join()
            self._free.clear()

    def __enter__(self) -> "VerifierPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SHARED_POOL: VerifierPool | None = None
_SHARED_POOL_LOCK = threading.Lock()


def shared_pool() -> VerifierPool:
    """The process-wide :class:`VerifierPool` used by envs that isolate their verifier.

    Its size comes from the env var ``THINKGYM_VERIFIER_PROCESSES`` (default 1).
    """
    global _SHARED_POOL
    with _SHARED_POOL_LOCK:
        if _SHARED_POOL is None or _SHARED_POOL.pid != os.getpid():
            _SHARED_POOL = VerifierPool(int(os.environ.get("THINKGYM_VERIFIER_PROCESSES", "1")))
        return _SHARED_POOL
