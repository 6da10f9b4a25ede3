"""The verification guard: every env scores model text through :func:`guarded_verify`.

A reward function reads text written by a model that is being optimised to get reward, so the
guard makes sure that no completion can crash or stall a rollout: the input is size-capped
before any parser sees it, and any exception a verifier raises becomes reward 0 with the
reason recorded (the traceback is logged, because a verifier that raises on some input is a bug
worth fixing). Parsers signal unreadable answers with :class:`InvalidAnswer`, which is not a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from thinkgym.rewards.verdict import InvalidAnswer, Verdict

logger = logging.getLogger(__name__)

MAX_COMPLETION_CHARS = 65536
"""Completions longer than this score 0 without being parsed."""


def guarded_verify(verify: Callable[[Any, str], "float | bool | Verdict"], problem: Any, answer: str) -> tuple[Verdict, bool]:
    """Run ``verify(problem, answer)``; return ``(verdict, parsed)``, never raise.

    ``parsed`` is False when the verifier rejected the answer as unreadable.
    """
    try:
        return Verdict.of(verify(problem, answer)), True
    except InvalidAnswer as err:
        return Verdict(0.0, f"unparsable answer: {err}"), False
    except (RecursionError, MemoryError, OverflowError) as err:
        return Verdict(0.0, f"answer too complex: {type(err).__name__}"), False
    except Exception as err:  # a verifier bug must not kill the rollout
        logger.warning("verifier %s raised on answer %.80r", getattr(verify, "__qualname__", verify), answer, exc_info=True)
        return Verdict(0.0, f"verifier error: {type(err).__name__}: {err}"), False
