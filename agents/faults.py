"""Fault tolerance of a training run: stop signals, non-finite updates, and a testing hook.

* **SIGINT / SIGTERM**: :class:`StopSignals` turns the first signal into a request that the
  trainer honours at the end of the current step: it writes a checkpoint and raises
  :class:`TrainingStopped`; ``thinkgym train`` then exits with status ``128 + signal``
  (130 for SIGINT, 143 for SIGTERM), the shell convention for "ended by this signal". A second
  signal acts as usual (SIGINT raises ``KeyboardInterrupt``, SIGTERM kills).
* **Non-finite loss or gradients**: the update is skipped (gradients dropped, no optimizer
  step), logged and counted; after ``max_nonfinite_steps`` such steps in a row the trainer
  raises :class:`TrainingDiverged` (``thinkgym train`` exits with status 2).
* **SIGKILL** cannot be caught; checkpoints are written to a temporary directory and renamed
  when complete (:mod:`thinkgym.agents.checkpoint`), so ``--resume`` finds the last complete one.

Testing hook: the env var ``THINKGYM_FAULT=KIND:STEP`` makes the process SIGKILL itself at a
fault point, so tests can kill a run at a deterministic place. ``checkpoint_write:N`` dies half-way
through writing the checkpoint of step N (model saved, trainer state and DONE marker not);
``step:N`` dies during step N (after the backward pass, before the optimizer step). Not for
production use.
"""

from __future__ import annotations

import math
import os
import signal
import threading
from collections.abc import Iterable
from types import FrameType
from typing import TYPE_CHECKING, Any

from thinkgym.errors import ThinkgymError, UserError

if TYPE_CHECKING:
    import torch

FAULT_ENV = "THINKGYM_FAULT"
FAULT_KINDS = ("checkpoint_write", "step")


class TrainingStopped(Exception):
    """A stop signal arrived; the run wrote a checkpoint at ``step`` and stopped."""

    def __init__(self, signum: int, step: int) -> None:
        self.signum, self.step = signum, step
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} after step {step}; checkpoint written")


class TrainingDiverged(ThinkgymError, RuntimeError):
    """Too many consecutive steps had a non-finite loss or gradients; the message says what to
    change (the command line reports it in one line, exit 2)."""


def fault_point(kind: str, step: int) -> None:
    """SIGKILL this process when ``THINKGYM_FAULT`` is ``KIND:STEP`` for this kind and step
    (a testing hook, see the module docstring)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    want, _, at = spec.partition(":")
    if want not in FAULT_KINDS or not at.isdigit():
        raise UserError(f"{FAULT_ENV} must be one of {', '.join(k + ':STEP' for k in FAULT_KINDS)}, got {spec!r}")
    if want == kind and int(at) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def all_finite(values: Iterable[float], grad_norm: "torch.Tensor | float") -> bool:
    """Whether every loss value and the total gradient norm are finite (the norm is not
    finite when any gradient entry is nan or infinite)."""
    return all(math.isfinite(float(v)) for v in values) and math.isfinite(float(grad_norm))


class StopSignals:
    """While active (a context manager), the first SIGINT or SIGTERM sets :attr:`signum`
    instead of interrupting; the previous handlers come back on exit. Outside the main thread
    (where handlers cannot be installed) it does nothing."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        for sig, handler in self._previous.items():  # a second signal acts as usual
            signal.signal(sig, handler)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
