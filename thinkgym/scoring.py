"""Score a completion for a problem named by ``(env_id, seed, difficulty)``: the core of every
trainer integration (TRL reward functions, verl's ``compute_score``, OpenRLHF's remote reward).

The problem is rebuilt by resetting the env with the same seed and difficulty, then the whole
completion is scored exactly as :meth:`~thinkgym.envs.base.SingleTurnEnv.step` scores it:
answer extraction, the size cap and the verification guard (no completion can raise or stall).
Env instances are cached per thread, so concurrent callers never share one.

Completions may be plain text or conversational (a list of ``{"role", "content"}`` messages, as
TRL passes them for chat datasets); the text of the last assistant message is scored.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from thinkgym.envs.base import SingleTurnEnv
from thinkgym.envs.registry import env_info, make
from thinkgym.errors import UserError

_local = threading.local()


class MultiTurnNotSupported(UserError):
    """A multi-turn env was asked to score a single completion."""


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """The text to score: ``completion`` itself, or the last assistant message's content.

    Message content may be a string or a list of parts (``{"type": "text", "text": ...}``), whose
    text parts are joined. Raises ``TypeError`` for anything else.
    """
    if isinstance(completion, str):
        return completion
    if not isinstance(completion, Sequence):
        raise TypeError(f"a completion must be a str or a list of chat messages, got {type(completion).__name__}")
    for message in reversed(completion):
        if not isinstance(message, Mapping) or "content" not in message:
            raise TypeError(f"a chat message must be a mapping with 'content', got {message!r:.80}")
        if message.get("role", "assistant") == "assistant":
            return _content_text(message["content"])
    return ""  # no assistant turn: nothing was answered


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(p.get("text") or "" for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    raise TypeError(f"message content must be a str or a list of parts, got {type(content).__name__}")


def single_turn_env(env_id: str, difficulty: int = 1) -> SingleTurnEnv:
    """This thread's cached env for ``(env_id, difficulty)``.

    Raises :class:`~thinkgym.envs.registry.UnknownEnvError` for an unknown id and
    :class:`MultiTurnNotSupported` for a multi-turn env.
    """
    if env_info(env_id).multi_turn:
        raise MultiTurnNotSupported(
            f"{env_id} is multi-turn: a single completion cannot be scored; "
            "train it with thinkgym's own trainer, or use single-turn envs"
        )
    cache: dict[tuple[str, int], SingleTurnEnv] | None = getattr(_local, "envs", None)
    if cache is None:
        cache = _local.envs = {}
    key = (env_id, int(difficulty))
    env = cache.get(key)
    if env is None:
        env = cache[key] = make(env_id, difficulty=int(difficulty), disable_env_checker=True).unwrapped
    return env


def score_info(env_id: str, seed: int, completion: str | Sequence[Mapping[str, Any]], difficulty: int = 1) -> dict[str, Any]:
    """The ``info`` dict ``env.step(completion)`` returns after ``env.reset(seed=seed)``."""
    env = single_turn_env(env_id, difficulty)
    env.reset(seed=int(seed))
    return env.score(completion_text(completion))


def score(env_id: str, seed: int, completion: str | Sequence[Mapping[str, Any]], difficulty: int = 1) -> float:
    """The reward ``env.step(completion)`` earns on the problem ``env.reset(seed=seed)`` poses
    at ``difficulty``: in [0, 1], 1.0 when the answer is correct. Never raises on the
    completion's content."""
    return float(score_info(env_id, seed, completion, difficulty)["reward_components"]["correctness"])
