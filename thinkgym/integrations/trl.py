"""thinkgym verifiers as TRL reward functions.

::

    from trl import GRPOConfig, GRPOTrainer
    from thinkgym.datasets import build
    from thinkgym.integrations.trl import reward_funcs

    mix = {"thinkgym/Arithmetic-v0": 2, "thinkgym/ShortestPath-v0": 1}
    trainer = GRPOTrainer(model=..., reward_funcs=reward_funcs(mix), train_dataset=build(mix, 1000), args=GRPOConfig(...))

Each function has TRL's signature ``f(prompts, completions, **columns) -> list[float | None]``:
``completions`` are plain strings or chat messages (``[{"role": "assistant", "content": ...}]``),
and ``columns`` must hold the dataset's ``env_id``, ``seed`` and ``difficulty`` lists, from which
each problem is rebuilt and scored exactly as ``env.step`` scores it (through the verification
guard; per-thread env instances). The functions are instances of module-level classes: they
pickle, and TRL logs each under its ``__name__`` (``rewards/thinkgym_correctness/mean``...).

Multi-turn envs cannot score a single completion: naming one in ``envs`` raises
:class:`~thinkgym.scoring.MultiTurnNotSupported`; a multi-turn row met in the data scores
``None`` (TRL ignores it) with a warning. Train them through TRL's ``environment_factory``
instead: :func:`environment_factory` and :func:`environment_dataset` (from
:mod:`thinkgym.integrations.trl_env`) play GraphExplore, Mastermind and ForcedMate through tool
calls, with the env's own reward from ``get_reward``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from thinkgym.datasets import MixSpec, normalize_mix
from thinkgym.envs.registry import env_info
from thinkgym.rewards.format import format_reward
from thinkgym.scoring import MultiTurnNotSupported, completion_text, score
from thinkgym.integrations.trl_env import (  # noqa: F401  (multi-turn envs: TRL's environment_factory)
    TOOL_ENVIRONMENTS,
    ForcedMateEnvironment,
    GraphExploreEnvironment,
    MastermindEnvironment,
    environment_dataset,
    environment_factory,
)


class CorrectnessReward:
    """The env's verifier score in [0, 1] for each completion; None for rows it does not score
    (rows of envs outside ``env_ids``, when given, and rows of multi-turn envs)."""

    def __init__(self, env_ids: Sequence[str] | None = None, name: str = "thinkgym_correctness") -> None:
        if env_ids is not None:
            for env_id in env_ids:
                if env_info(env_id).multi_turn:
                    raise MultiTurnNotSupported(
                        f"{env_id} is multi-turn and TRL reward functions score one completion; "
                        "leave it out of the mix, train it with thinkgym's own trainer, or through TRL's "
                        "environment_factory (thinkgym.integrations.trl.environment_factory)"
                    )
        self.env_ids = None if env_ids is None else frozenset(env_ids)
        self.__name__ = name
        self._warned: set[str] = set()

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] = (),
        env_id: Sequence[str] | None = None,
        seed: Sequence[int] | None = None,
        difficulty: Sequence[int] | None = None,
        **_: Any,
    ) -> list[float | None]:
        if env_id is None or seed is None:
            raise ValueError(
                f"{self.__name__} needs the dataset columns 'env_id' and 'seed' (and 'difficulty'); "
                "build the dataset with thinkgym.datasets.build"
            )
        difficulty = [1] * len(completions) if difficulty is None else difficulty
        if not len(completions) == len(env_id) == len(seed) == len(difficulty):
            raise ValueError(
                f"{self.__name__}: got {len(completions)} completions but {len(env_id)} env_id, "
                f"{len(seed)} seed and {len(difficulty)} difficulty values"
            )
        return [self._score(*row) for row in zip(completions, env_id, seed, difficulty)]

    def _score(self, completion: Any, env_id: str, seed: int, difficulty: int) -> float | None:
        if self.env_ids is not None and env_id not in self.env_ids:
            return None
        try:
            return score(env_id, seed, completion, difficulty)
        except MultiTurnNotSupported as err:
            if env_id not in self._warned:
                self._warned.add(env_id)
                warnings.warn(f"{err}; its rows score None", RuntimeWarning, stacklevel=3)
            return None

    def __getstate__(self) -> dict[str, Any]:
        return {"env_ids": self.env_ids, "__name__": self.__name__, "_warned": set()}

    def __repr__(self) -> str:
        envs = "all" if self.env_ids is None else sorted(self.env_ids)
        return f"{type(self).__name__}(name={self.__name__!r}, envs={envs})"


class FormatReward:
    """The R1 format reward: 1.0 for exactly ``<think>...</think><answer>...</answer>``, else 0.0."""

    def __init__(self, name: str = "thinkgym_format") -> None:
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **_: Any) -> list[float]:
        return [format_reward(completion_text(c)) for c in completions]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.__name__!r})"


def reward_funcs(
    envs: MixSpec | None = None, *, with_format: bool = True, per_env: bool = False
) -> list[CorrectnessReward | FormatReward]:
    """Reward functions for ``GRPOTrainer(reward_funcs=...)``.

    envs: the env ids (any :data:`~thinkgym.datasets.MixSpec`; weights are ignored) whose rows are
        scored; None scores every single-turn env met in the data.
    with_format: also return the R1 format reward, as a separate function (weigh it with
        ``GRPOConfig(reward_weights=[1.0, 0.1])``).
    per_env: one correctness function per env (``thinkgym_correctness[<env_id>]``), each None
        on the other envs' rows, so that TRL logs the reward of each env; TRL's weighted sum
        over functions ignores None, so the training signal is the same. Needs ``envs``.
    """
    env_ids = None if envs is None else list(normalize_mix(envs))
    if per_env:
        if env_ids is None:
            raise ValueError("per_env=True needs the env ids: pass envs=")
        funcs: list[CorrectnessReward | FormatReward] = [
            CorrectnessReward([e], name=f"thinkgym_correctness[{e}]") for e in env_ids
        ]
    else:
        funcs = [CorrectnessReward(env_ids)]
    if with_format:
        funcs.append(FormatReward())
    return funcs
