"""Mastermind: find a secret code of colored pegs from the env's feedback on each guess.

The env picks ``colors`` letters from A..J and a secret of ``pegs`` of them (letters may
repeat). Each turn the agent guesses a code; the env answers with the number of
exact pegs (right letter in the right place) and misplaced pegs (right letter in the wrong place).

Observation: the rules and the answer format at reset; after each guess, every guess so far
with its score and the guesses left. Action: the model's completion, whose last answer block
holds the guess, e.g. ``<answer>AABC</answer>`` (case, spaces and commas between letters are
ignored). A guess of the wrong length or with unknown letters is wasted: it scores nothing and
uses up the turn.

Reward: 0 on every step except the one that finds the code, which earns 1.0 when the code is
found within the budget, and 0.1 less for each guess beyond it (the episode return is that
reward). The budget is the largest number of guesses the reference strategy ever needs at these
settings, computed exactly over every possible secret: guess a fixed opening (``AABB`` for 4
pegs), then always a code consistent with all the feedback so far, the one whose worst-case
reply leaves the fewest candidates (see :func:`reference_guess`). ``info["answer"]`` holds that
strategy's next guess, so following it always earns 1.0. The episode terminates when the code is found and is truncated after ``max_turns``
guesses (default: the budget plus 4).

Difficulty (budget): 1 = 3 pegs, 4 letters (5); 2 = 4 pegs, 6 letters, the classic game (6);
3 = 5 pegs, 7 letters (8).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from thinkgym.envs.base import MultiTurnEnv
from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.registry import register_env

LETTERS = "ABCDEFGHIJ"
MAX_CODES = 50_000
PENALTY = 0.1
MINIMAX_LIMIT = 400


def _check_code(config: MastermindConfig) -> None:
    if not 2 <= config.pegs <= 6 or not 2 <= config.colors <= len(LETTERS):
        raise ValueError(f"need pegs in 2..6 and colors in 2..{len(LETTERS)}, got {config.pegs} and {config.colors}")
    if config.colors**config.pegs > MAX_CODES:
        raise ValueError(f"colors**pegs must be at most {MAX_CODES}, got {config.colors ** config.pegs}")


def _turns(config: MastermindConfig) -> int:
    """The budget plus 4, for a code space that is checked first (the budget walks its game tree)."""
    _check_code(config)
    return budget(config.pegs, config.colors) + 4


@dataclass(frozen=True)
class MastermindConfig(TaskConfig):
    LEVELS = Levels(("pegs", "colors", "max_turns"), {1: (3, 4, _turns), 2: (4, 6, _turns), 3: (5, 7, _turns)})
    pegs: int | None = None
    """Code length (default from difficulty)."""
    colors: int | None = None
    """Number of letters a peg can take (default from difficulty)."""
    max_turns: int | None = None
    """Guesses before the episode is truncated (default: the budget plus 4)."""

    def validate(self) -> None:
        _check_code(self)
        within(self, "max_turns", 1, 100)


@dataclass(frozen=True)
class MastermindProblem:
    prompt: str
    answer: str
    secret: str
    budget: int


class _Codes:
    """Every code of ``pegs`` letters over ``colors`` letters, in alphabetical order, as arrays."""

    def __init__(self, pegs: int, colors: int) -> None:
        self.pegs, self.colors = pegs, colors
        self.codes = np.array(list(itertools.product(range(colors), repeat=pegs)), dtype=np.int8)  # (N, pegs)
        self.counts = np.stack([(self.codes == c).sum(axis=1) for c in range(colors)], axis=1)  # (N, colors)
        self.opening = self.index([min(i // 2, colors - 1) for i in range(pegs)])  # 0 0 1 1 2 ...

    def index(self, code: list[int]) -> int:
        """Position of a code (a list of color numbers) in ``codes``."""
        return int(sum(c * self.colors ** (self.pegs - 1 - i) for i, c in enumerate(code)))

    def scores(self, guess: int, among: np.ndarray) -> np.ndarray:
        """Feedback of ``guess`` against each code in ``among``, encoded exact * 10 + misplaced."""
        exact = (self.codes[among] == self.codes[guess]).sum(axis=1)
        common = np.minimum(self.counts[among], self.counts[guess]).sum(axis=1)
        return exact * 10 + (common - exact)


@lru_cache(maxsize=16)
def _codes(pegs: int, colors: int) -> _Codes:
    return _Codes(pegs, colors)


def reference_guess(codes: _Codes, consistent: np.ndarray, turn: int) -> int:
    """The reference strategy: the opening first; then, among the codes consistent with all
    feedback so far, the one whose worst feedback leaves the fewest candidates (the first
    consistent code while more than MINIMAX_LIMIT remain, to bound the work)."""
    if turn == 0:
        return codes.opening
    if len(consistent) <= 2 or len(consistent) > MINIMAX_LIMIT:
        return int(consistent[0])
    a = codes.codes[consistent]  # (S, pegs)
    exact = (a[:, None, :] == a[None, :, :]).sum(axis=2)  # (S, S)
    common = np.minimum(codes.counts[consistent][:, None, :], codes.counts[consistent][None, :, :]).sum(axis=2)
    scores = exact * 10 + (common - exact)  # (S, S), each entry < 70
    s = len(consistent)
    sizes = np.bincount((np.arange(s)[:, None] * 70 + scores).ravel(), minlength=s * 70).reshape(s, 70)
    return int(consistent[int(np.argmin(sizes.max(axis=1)))])


@lru_cache(maxsize=16)
def budget(pegs: int, colors: int) -> int:
    """The most guesses the reference strategy needs over all secrets, by walking its game tree:
    each node is the set of secrets consistent with the feedback so far."""
    codes = _codes(pegs, colors)
    win = pegs * 10

    def depth(consistent: np.ndarray, turn: int) -> int:
        guess = reference_guess(codes, consistent, turn)
        scores = codes.scores(guess, consistent)
        worst = 1
        for score in np.unique(scores):
            if score != win:
                worst = max(worst, 1 + depth(consistent[scores == score], turn + 1))
        return worst

    return depth(np.arange(len(codes.codes)), 0)


def _feedback_text(exact: int, misplaced: int) -> str:
    return f"{exact} exact, {misplaced} misplaced"


class MastermindEnv(MultiTurnEnv):
    __doc__ = __doc__  # the module docstring: observation, action, reward and episode end
    family = "logic"
    config_cls = MastermindConfig

    def generate(self, rng: np.random.Generator) -> MastermindProblem:
        # The letters in play are drawn too, so that episodes differ in what the agent sees.
        cfg = self.config
        alphabet = "".join(sorted(LETTERS[int(i)] for i in rng.choice(len(LETTERS), size=cfg.colors, replace=False)))
        secret = "".join(alphabet[int(i)] for i in rng.integers(cfg.colors, size=cfg.pegs))
        return self._pose(secret, alphabet)

    def problem_from_options(self, options: Mapping[str, Any]) -> MastermindProblem:
        """``{"secret": "ABCA"}``, optionally with ``"letters"`` (default: the first ``colors`` letters)."""
        unknown = sorted(set(options) - {"secret", "letters"})
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; Mastermind accepts 'secret' and 'letters'")
        alphabet = "".join(sorted(str(options.get("letters", LETTERS[: self.config.colors])).upper()))
        if len(set(alphabet)) != self.config.colors or not set(alphabet) <= set(LETTERS):
            raise ValueError(f"letters must be {self.config.colors} different letters from {LETTERS}, got {alphabet!r}")
        secret = str(options.get("secret", "")).upper()
        if len(secret) != self.config.pegs or any(ch not in alphabet for ch in secret):
            raise ValueError(f"secret must be {self.config.pegs} letters from {alphabet}, got {options.get('secret')!r}")
        return self._pose(secret, alphabet)

    def _text(self, i: int) -> str:
        return "".join(self.alphabet[int(c)] for c in self.codes.codes[i])

    def _pose(self, secret: str, alphabet: str) -> MastermindProblem:
        cfg = self.config
        codes = _codes(cfg.pegs, cfg.colors)
        self.codes, self.alphabet = codes, alphabet
        self.consistent = np.arange(len(codes.codes))
        self.history: list[str] = []
        limit = budget(cfg.pegs, cfg.colors)
        letters = ", ".join(alphabet)
        prompt = (
            f"Let's play Mastermind. I have chosen a secret code of {cfg.pegs} letters, each one of {letters} "
            "(letters may repeat). Each turn, guess a code; I reply with the number of exact pegs (right letter in the "
            "right place) and misplaced pegs (right letter, wrong place; each secret letter counts at most once). "
            f"You have {cfg.max_turns} guesses. Finding the code within {limit} guesses earns full reward; each "
            f"further guess costs {PENALTY}. Answer with one guess per turn, e.g. <answer>{self._text(codes.opening)}</answer>."
        )
        return MastermindProblem(prompt, self._text(codes.opening), secret, limit)

    def reference_action(self) -> str:
        return self._text(reference_guess(self.codes, self.consistent, self.turn))

    def play(self, move: str | None, error: str) -> tuple[str, float, bool, dict[str, Any]]:
        cfg, codes = self.config, self.codes
        # Only ASCII folds safely: "\u0131".upper() is "I", which would read as a letter in play.
        guess = None if move is None else "".join(ch for ch in move.upper() if ch not in " ,-")
        allowed = self.alphabet
        if guess is not None and (len(guess) != cfg.pegs or any(ch not in allowed for ch in guess) or not move.isascii()):
            error, guess = f"a guess is {cfg.pegs} letters from {allowed}, got {ascii(move[:20])}", None
        left = cfg.max_turns - self.turn - 1
        if guess is None:
            self.history.append(f"Guess {self.turn + 1}: unreadable ({error})")
            obs = "\n".join(self.history) + f"\n{left} guesses left. Answer with a guess like <answer>{self._text(codes.opening)}</answer>."
            return obs, 0.0, False, {"reason": error, "parsed": False}
        guessed = codes.index([allowed.index(ch) for ch in guess])
        secret = codes.index([allowed.index(ch) for ch in self.problem.secret])
        score = int(codes.scores(guessed, np.array([secret]))[0])
        exact, misplaced = divmod(score, 10)
        self.history.append(f"Guess {self.turn + 1}: {guess} -> {_feedback_text(exact, misplaced)}")
        if exact == cfg.pegs:
            turns = self.turn + 1
            reward = max(0.0, 1.0 - PENALTY * max(0, turns - self.problem.budget))
            obs = "\n".join(self.history) + f"\nYou found the code in {turns} guesses."
            reason = "" if reward == 1.0 else f"found in {turns} guesses; the budget is {self.problem.budget}"
            return obs, round(reward, 6), True, {"reason": reason, "parsed": True, "solved": True}
        self.consistent = self.consistent[codes.scores(guessed, self.consistent) == score]
        obs = "\n".join(self.history) + f"\n{left} guesses left."
        return obs, 0.0, False, {"reason": "not the code yet", "parsed": True}


register_env("thinkgym/Mastermind-v0", MastermindEnv)
