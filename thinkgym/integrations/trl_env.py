"""thinkgym's multi-turn envs as TRL ``environment_factory`` environments (tool calling).

::

    from trl import GRPOConfig, GRPOTrainer
    from thinkgym.integrations.trl import environment_dataset, environment_factory

    mix = {"thinkgym/Mastermind-v0": 1, "thinkgym/GraphExplore-v0": 1}
    trainer = GRPOTrainer(model=..., environment_factory=environment_factory(mix),
                          train_dataset=environment_dataset(mix, 1000), args=GRPOConfig(...))

TRL (1.16) makes one environment instance per rollout, calls ``reset(**row)`` with the
dataset row and appends the text it returns to the prompt, exposes the instance's public
methods as tools the model calls during generation, and calls ``get_reward()`` when the rollout
ends (logged as ``rewards/<class name>/mean``).

Here each instance wraps one thinkgym env. ``reset`` poses the row's problem (``env_id``,
``seed``, ``difficulty``: the columns of :func:`thinkgym.datasets.build`, whose ``prompt``
column holds the env's problem text) and returns a note on the tools; each tool call is one
env step, the tool's argument sent as the turn's answer (``<answer>ARG</answer>``), the env's
observation returned as the tool's result; ``get_reward`` is the env's episode return (the sum
of its step rewards, as thinkgym's own trainer uses it), 0.0 when the model never finished.

* ``thinkgym/GraphExplore-v0``: ``neighbors(node)``, then ``answer(path)``;
* ``thinkgym/Mastermind-v0``: ``guess(code)``;
* ``thinkgym/ForcedMate-v0``: ``move(san)``.

A call after the episode is over changes nothing and says so. Angle brackets in an argument are
replaced by spaces, so a tool argument is always exactly one answer block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import datasets

from thinkgym.datasets import MixSpec, build, dataset_mix
from thinkgym.errors import UserError


class ThinkgymToolEnv:
    """Base of the tool environments: one thinkgym multi-turn env, reset per rollout.

    Public methods of a subclass are its tools (TRL lists them on the class), so everything
    else here is private or a property.
    """

    env_id: ClassVar[str]
    tool_note: ClassVar[str]

    def __init__(self) -> None:
        self._envs: dict[int, Any] = {}  # difficulty -> env, made on first use
        self._env: Any = None
        self._done = True
        self._return = 0.0
        self._correct = False
        self._turns = 0

    def reset(self, env_id: str | None = None, seed: int | None = None, difficulty: int | None = None, **_: Any) -> str:
        """Pose the dataset row's problem; returns the note on how to play it with the tools."""
        if seed is None:
            raise UserError(
                f"{type(self).__name__}.reset needs the row's 'seed' (and 'env_id', 'difficulty'): build the train_dataset "
                "with thinkgym.integrations.trl.environment_dataset (or thinkgym.datasets.build)"
            )
        if env_id is not None and env_id != self.env_id:
            raise UserError(f"{type(self).__name__} plays {self.env_id}, but the row is a {env_id} problem; "
                            "use a dict environment_factory and the dataset's 'environment' column")
        level = 1 if difficulty is None else int(difficulty)
        if level not in self._envs:
            import thinkgym

            self._envs[level] = thinkgym.make(self.env_id, difficulty=level, disable_env_checker=True)
        self._env = self._envs[level]
        self._env.reset(seed=int(seed))
        self._done, self._return, self._correct, self._turns = False, 0.0, False, 0
        return "\n\n" + self.tool_note

    def get_reward(self) -> float:
        """The env's episode return in [0, 1]."""
        return self._return

    @property
    def solved(self) -> bool:
        """Whether the episode ended solved (the env's ``info["correct"]``)."""
        return self._correct

    @property
    def turns(self) -> int:
        return self._turns

    @property
    def done(self) -> bool:
        return self._done

    def _act(self, text: Any) -> str:
        """One env step with ``text`` as the turn's answer; returns the env's observation."""
        if self._env is None:
            raise RuntimeError("call reset() first")
        if self._done:
            return "The game is over; further calls change nothing."
        text = str(text).replace("<", " ").replace(">", " ")
        observation, reward, terminated, truncated, info = self._env.step(f"<answer>{text}</answer>")
        self._turns += 1
        self._return += float(reward)
        self._correct = bool(info.get("correct", False))
        self._done = bool(terminated or truncated)
        if self._done:
            observation = f"{observation}\nThe game is over." if observation else "The game is over."
        return observation

    def __del__(self) -> None:
        for env in getattr(self, "_envs", {}).values():
            try:
                env.close()
            except Exception:  # noqa: BLE001 (interpreter shutdown)
                pass


class GraphExploreEnvironment(ThinkgymToolEnv):
    """``thinkgym/GraphExplore-v0``: find a shortest path in a hidden graph by asking for neighbours."""

    env_id = "thinkgym/GraphExplore-v0"
    tool_note = ("Play with the tools, not answer blocks: call neighbors(node) to see a node's neighbours, one query per call, "
                 "and answer(path) once with your final path, e.g. answer(path=\"A -> C -> F\"), which ends the game.")

    def neighbors(self, node: str) -> str:
        """Reveal the neighbours of a node of the hidden graph (one turn).

        Args:
            node: The name of a node already seen: the start, the goal, or one a reply listed.

        Returns:
            The node's neighbours, or why the query was refused, and the turns left.
        """
        return self._act(f"neighbors({node})")

    def answer(self, path: str) -> str:
        """Give the final path from the start to the goal; this ends the game.

        Args:
            path: Every node of the path in order, e.g. "A -> C -> F".

        Returns:
            Whether the path is a shortest path, and the game's end.
        """
        return self._act(f"path: {path}")


class MastermindEnvironment(ThinkgymToolEnv):
    """``thinkgym/Mastermind-v0``: find the secret code from the feedback on each guess."""

    env_id = "thinkgym/Mastermind-v0"
    tool_note = "Play with the tool, not answer blocks: call guess(code) once per guess, e.g. guess(code=\"ABC\"); its reply is my feedback."

    def guess(self, code: str) -> str:
        """Guess the secret code (one turn).

        Args:
            code: The guessed code, one letter per peg, e.g. "ABC".

        Returns:
            The exact and misplaced pegs of every guess so far and the guesses left, or the end of the game.
        """
        return self._act(code)


class ForcedMateEnvironment(ThinkgymToolEnv):
    """``thinkgym/ForcedMate-v0``: deliver a forced mate against the best defence, one move a call."""

    env_id = "thinkgym/ForcedMate-v0"
    tool_note = "Play with the tool, not answer blocks: call move(san) with one move per call, e.g. move(san=\"Rg7\"); its reply is the defender's answer."

    def move(self, san: str) -> str:
        """Play one move for the attacking side (one turn).

        Args:
            san: The move in standard algebraic notation (e.g. "Qh7+") or UCI (e.g. "h5h7").

        Returns:
            The defender's reply and the new position, or the end of the game (mate, an illegal move).
        """
        return self._act(san)


TOOL_ENVIRONMENTS: dict[str, type[ThinkgymToolEnv]] = {
    cls.env_id: cls for cls in (GraphExploreEnvironment, MastermindEnvironment, ForcedMateEnvironment)
}
"""The tool environment of each multi-turn env id."""


def _env_ids(mix: MixSpec) -> list[str]:
    ids = [spec.id for spec in dataset_mix(mix)]
    for env_id in ids:
        if env_id not in TOOL_ENVIRONMENTS:
            raise UserError(
                f"{env_id} has no tool environment (those that do: {', '.join(TOOL_ENVIRONMENTS)}); "
                "train single-turn envs with thinkgym.integrations.trl.reward_funcs"
            )
    return ids


def environment_factory(mix: MixSpec) -> Callable[[], ThinkgymToolEnv] | dict[str, Callable[[], ThinkgymToolEnv]]:
    """``GRPOTrainer(environment_factory=...)`` for the multi-turn envs of ``mix`` (any
    :data:`~thinkgym.datasets.MixSpec`; weights and levels are the dataset's business).

    One env: its environment class (a factory: each call is a new instance). Several: ``{env_id:
    class}``, which TRL routes by the dataset's ``environment`` column
    (:func:`environment_dataset` writes it)."""
    ids = _env_ids(mix)
    if len(ids) == 1:
        return TOOL_ENVIRONMENTS[ids[0]]
    return {env_id: TOOL_ENVIRONMENTS[env_id] for env_id in ids}


def environment_dataset(mix: MixSpec, n: int, split: str = "train", seed: int = 0, **build_kwargs: Any) -> datasets.Dataset:
    """:func:`thinkgym.datasets.build` of the multi-turn envs of ``mix`` (without the R1 system
    prompt, whose answer blocks the tools replace) with an ``environment`` column (the env id)
    for a dict :func:`environment_factory`."""
    _env_ids(mix)
    build_kwargs.setdefault("system_prompt", None)
    rows = build(mix, n, split=split, seed=seed, **build_kwargs)
    return rows.add_column("environment", list(rows["env_id"]))
