"""The reasoning-env contract: a Gymnasium env whose observation is a problem stated in text and
whose action is a model's whole completion.

A single-turn task is a small pure core turned into an env by :func:`thinkgym.envs.register_task`:

* a frozen config dataclass, a :class:`~thinkgym.envs.levels.TaskConfig` whose level table
  (``LEVELS``) fills the fields a difficulty sets and whose ``validate`` checks them with
  ``ValueError``; the env's ``max_difficulty`` is the table's highest level;
* ``generate(rng, config) -> problem``: ``rng`` is a ``numpy.random.Generator`` (the env's
  ``np_random``), ``problem`` any object with ``prompt`` and ``answer`` string attributes that
  also holds everything the verifier needs;
* ``verify(problem, answer_text) -> float | Verdict``: raises ``InvalidAnswer`` when the text
  cannot be parsed;
* optionally ``explain(problem) -> str``, a worked derivation ending in the answer, and
  ``from_options(options, config) -> problem`` to pose a given instance on ``reset(options=...)``.

Multi-turn tasks subclass :class:`MultiTurnEnv`.
"""

from __future__ import annotations

import dataclasses
import os
import string
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from thinkgym.envs.levels import max_difficulty_of
from thinkgym.errors import UserError
from thinkgym.rewards.extract import AnswerNotFound, extract_answer
from thinkgym.rewards.format import format_reward
from thinkgym.rewards.guard import DEFAULT_TIME_LIMIT, MAX_COMPLETION_CHARS, guarded_verify, shared_pool
from thinkgym.rewards.verdict import Verdict

PRINTABLE = frozenset(string.printable)
"""Prompts and actions are text over printable ASCII (letters, digits, punctuation, whitespace)."""

MAX_PROMPT_CHARS = 32768


class Problem(Protocol):
    """What a generator returns: the prompt, a reference answer, and whatever the verifier needs."""

    @property
    def prompt(self) -> str: ...

    @property
    def answer(self) -> str: ...


def config_from_kwargs(config_cls: type, difficulty: int, max_difficulty: int, kwargs: Mapping[str, Any]) -> Any:
    """Build ``config_cls(difficulty=..., **kwargs)``; bad input (here or in the config's own
    ``ValueError`` checks) raises a :class:`~thinkgym.errors.UserError`."""
    if isinstance(difficulty, bool) or not isinstance(difficulty, (int, np.integer)):
        raise UserError(f"difficulty must be an integer in 1..{max_difficulty}, got {difficulty!r}")
    if not 1 <= difficulty <= max_difficulty:
        raise UserError(f"difficulty must be in 1..{max_difficulty}, got {difficulty}")
    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise UserError(
            f"unknown option(s) {', '.join(unknown)} for {config_cls.__name__}; "
            f"known options: {', '.join(sorted(names))}"
        )
    try:
        return config_cls(difficulty=int(difficulty), **kwargs)
    except UserError:
        raise
    except ValueError as err:  # a config validates its options with ValueError: bad options, not a bug
        raise UserError(str(err)) from err


class ReasoningEnv(gym.Env[str, str]):
    """Base class of every thinkgym env. Subclasses set the class attributes below.

    Observation: the problem as text (printable ASCII). Action: the model's whole completion;
    the answer is read from its last ``<answer>...</answer>`` block. Reward in [0, 1].
    ``reset`` returns ``info["answer"]``, a reference answer: stepping with
    ``"<answer>" + info["answer"] + "</answer>"`` earns the full reward.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    family: ClassVar[str] = ""
    """"math", "logic", "chess", "graph", or a plugin's own family."""
    max_difficulty: ClassVar[int] = 3
    """The highest level; derived from ``config_cls.LEVELS`` when the config has a level table."""
    multi_turn: ClassVar[bool] = False
    requires: ClassVar[tuple[str, ...]] = ()
    """External programs the env needs, e.g. ("stockfish",); shown by ``thinkgym envs``."""
    boxed_fallback: ClassVar[bool] = False
    """Accept the last ``\\boxed{...}`` when there is no answer block."""
    config_cls: ClassVar[type]
    verify_time_limit: ClassVar[float | None] = DEFAULT_TIME_LIMIT
    """Seconds one verification may take before it scores 0 (see :mod:`thinkgym.rewards.guard`)."""
    isolate_verifier: ClassVar[bool] = False
    """Run the verifier in the shared worker-process pool (memory cap, killable); also forced on
    for every env by the env var ``THINKGYM_ISOLATE_VERIFIERS=1``."""
    isolatable: ClassVar[bool] = True
    """False: always verify in this process, even when isolation is asked for (e.g. a verifier
    that already runs its expensive part in a process of its own, such as a chess engine, where a
    worker would start one more engine per worker)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        top = max_difficulty_of(cls.__dict__.get("config_cls"))
        if top is not None and "max_difficulty" not in cls.__dict__:
            cls.max_difficulty = top

    def __init__(self, difficulty: int = 1, **options: Any) -> None:
        self.config = config_from_kwargs(self.config_cls, difficulty, self.max_difficulty, options)
        self.difficulty = self.config.difficulty
        self.observation_space = spaces.Text(MAX_PROMPT_CHARS, min_length=0, charset=PRINTABLE)
        self.action_space = spaces.Text(MAX_COMPLETION_CHARS, min_length=0, charset=PRINTABLE)
        self.problem: Any = None
        self._seed: int | None = None

    # -- hooks for subclasses ---------------------------------------------------------------
    def generate(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def problem_from_options(self, options: Mapping[str, Any]) -> Any:
        """Pose a given instance; tasks that support it override this (e.g. chess ``fen``)."""
        raise ValueError(f"{type(self).__name__} does not accept reset options, got {sorted(options)}")

    # -- Gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._seed = seed
        self.problem = self.problem_from_options(options) if options else self.generate(self.np_random)
        prompt = self.problem.prompt
        if len(prompt) > MAX_PROMPT_CHARS or not PRINTABLE.issuperset(prompt):
            raise RuntimeError(f"{type(self).__name__} generated a prompt outside the observation space")
        return prompt, self._reset_info()

    def _reset_info(self) -> dict[str, Any]:
        return {"answer": self.problem.answer, "difficulty": self.difficulty, "seed": self._seed}

    def _require_problem(self) -> None:
        if self.problem is None:
            raise gym.error.ResetNeeded("call reset() before step()")


class SingleTurnEnv(ReasoningEnv):
    """A one-question env built from a task core (see the module docstring).

    The episode ends after one step. ``info`` after the step: ``answer`` (reference),
    ``extracted`` (answer text read from the completion, or None), ``parsed`` (whether the
    verifier could read it), ``canonical`` (the parsed answer in canonical form, when known),
    ``correct``, ``reason`` (why the reward is below 1) and ``reward_components``
    (``correctness``, which is the reward, and ``format``, the R1 format reward, reported but
    not added: the trainer weighs shaping terms).
    """

    task_generate: ClassVar[Callable[[np.random.Generator, Any], Any]]
    task_verify: ClassVar[Callable[[Any, str], "float | Verdict"]]
    task_explain: ClassVar[Callable[[Any], str] | None] = None
    task_from_options: ClassVar[Callable[[Mapping[str, Any], Any], Any] | None] = None

    def generate(self, rng: np.random.Generator) -> Any:
        return type(self).task_generate(rng, self.config)

    def problem_from_options(self, options: Mapping[str, Any]) -> Any:
        from_options = type(self).task_from_options
        if from_options is None:
            return super().problem_from_options(options)
        return from_options(options, self.config)

    def verify(self, answer: str) -> Verdict:
        """Score an answer text (already extracted from the completion) for the current problem."""
        self._require_problem()
        return self._guarded(answer)[0]

    def _guarded(self, answer: str) -> tuple[Verdict, bool]:
        verify = type(self).task_verify
        isolate = self.isolate_verifier or os.environ.get("THINKGYM_ISOLATE_VERIFIERS") == "1"
        if isolate and self.isolatable:
            return shared_pool().verify(verify, self.problem, answer)
        return guarded_verify(verify, self.problem, answer, time_limit=self.verify_time_limit)

    def explain(self) -> str:
        """A worked derivation for the current problem that ends in the reference answer."""
        self._require_problem()
        if type(self).task_explain is None:
            raise NotImplementedError(f"{type(self).__name__} has no explain()")
        return type(self).task_explain(self.problem)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._require_problem()
        info = self.score(action)
        return "", info["reward_components"]["correctness"], True, False, info

    def score(self, completion: str) -> dict[str, Any]:
        """Score a whole completion against the current problem; never raises on its content."""
        self._require_problem()
        if not isinstance(completion, str):
            raise TypeError(f"the action must be a str (the model's completion), got {type(completion).__name__}")
        info: dict[str, Any] = {"answer": self.problem.answer, "extracted": None, "parsed": False, "canonical": None}
        verdict = Verdict(0.0)
        if len(completion) > MAX_COMPLETION_CHARS:
            verdict = Verdict(0.0, f"completion longer than {MAX_COMPLETION_CHARS} characters")
        else:
            try:
                info["extracted"] = extract_answer(completion, boxed=self.boxed_fallback)
            except AnswerNotFound as err:
                verdict = Verdict(0.0, str(err))
            else:
                verdict, info["parsed"] = self._guarded(info["extracted"])
        info["canonical"] = verdict.canonical
        info["correct"] = verdict.score >= 1.0
        info["reason"] = verdict.reason
        info["reward_components"] = {"correctness": verdict.score, "format": format_reward(completion)}
        return info


class MultiTurnEnv(ReasoningEnv):
    """Base of envs where the env answers each of the agent's turns (games, interactive search).

    Subclasses implement :meth:`generate`, :meth:`play` and :meth:`reference_action`. Each step's
    action is a whole completion; the move is read from its last answer block (use
    :meth:`read_action`). The episode return is in [0, 1]. After each step ``info["answer"]``
    holds a reference next action ("" when the episode is over), and ``info["correct"]`` whether
    the episode ended solved: an env's ``play`` may set it; otherwise it is true when the episode
    terminates with a return of at least 1 (solved within the env's budget). The episode is
    truncated after ``max_turns`` turns (a config field, default 10).
    """

    multi_turn: ClassVar[bool] = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self.turn = 0
        self.done = False
        self.episode_return = 0.0
        return super().reset(seed=seed, options=options)

    @property
    def max_turns(self) -> int:
        return int(getattr(self.config, "max_turns", 10))

    def _reset_info(self) -> dict[str, Any]:
        info = super()._reset_info()
        info["answer"] = self.reference_action()
        info["max_turns"] = self.max_turns
        return info

    def play(self, move: str | None, error: str) -> tuple[str, float, bool, dict[str, Any]]:
        """Apply the agent's move (None when it could not be read, with ``error`` saying why).

        Returns (observation, reward, terminated, info). Never raises on the move's content.
        """
        raise NotImplementedError

    def reference_action(self) -> str:
        """A good next action for the current state, as answer text (without tags)."""
        raise NotImplementedError

    def read_action(self, completion: str) -> tuple[str | None, str]:
        """The answer text of a completion, or (None, reason) when there is none."""
        if len(completion) > MAX_COMPLETION_CHARS:
            return None, f"completion longer than {MAX_COMPLETION_CHARS} characters"
        try:
            return extract_answer(completion, boxed=self.boxed_fallback), ""
        except AnswerNotFound as err:
            return None, str(err)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._require_problem()
        if self.done:
            raise gym.error.ResetNeeded("the episode is over; call reset()")
        if not isinstance(action, str):
            raise TypeError(f"the action must be a str (the model's completion), got {type(action).__name__}")
        move, error = self.read_action(action)
        observation, reward, terminated, info = self.play(move, error)
        self.turn += 1
        self.episode_return += float(reward)
        info["correct"] = bool(terminated and info.get("correct", self.episode_return >= 1.0))
        truncated = not terminated and self.turn >= self.max_turns
        self.done = terminated or truncated
        info.setdefault("extracted", move)
        info.setdefault("reason", error)
        info["turn"] = self.turn
        info["answer"] = "" if self.done else self.reference_action()
        info.setdefault("reward_components", {"correctness": reward, "format": format_reward(action)})
        return observation, float(reward), terminated, truncated, info
