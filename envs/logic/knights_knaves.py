"""Knights and Knaves: knights always tell the truth, knaves always lie; decide who is which.

Prompt: the inhabitants (single capital letters A, B, ...) and what each of them says.
Answer: every inhabitant's kind, ``A: knight, B: knave, C: knight`` in any order and case
(``A = knave`` and ``A is a knave`` also read), e.g. ``<answer>A: knight, B: knave</answer>``.
The generator checks by brute force over all 2^n assignments that exactly one assignment is
consistent with the statements; the reward is 1.0 for an answer that makes every knight's
statement true and every knave's false (that is, the unique solution), else 0.

Difficulty: 1 = 3 people, simple statements; 2 = 4 or 5 people, plus "if ... then";
3 = 6 to 8 people, plus "exactly k of us are knights".
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.levels import Levels, TaskConfig, ordered
from thinkgym.envs.logic.common import join_names, parse_assignment
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

_SIMPLE = ("is", "both", "either", "same", "different")
MAX_PEOPLE = 8
MAX_TRACE = 40
KIND = {True: "knight", False: "knave"}

Statement = tuple  # (kind, *args), see _holds


@dataclass(frozen=True)
class KnightsKnavesConfig(TaskConfig):
    LEVELS = Levels(
        ("min_people", "max_people", "kinds"),
        {1: (3, 3, _SIMPLE), 2: (4, 5, _SIMPLE + ("if",)), 3: (6, 8, _SIMPLE + ("if", "count"))},
        at_least={"max_people": "min_people"},
    )
    min_people: int | None = None
    """Fewest inhabitants (default from difficulty)."""
    max_people: int | None = None
    """Most inhabitants (default from difficulty)."""

    def validate(self) -> None:
        ordered(self, "min_people", "max_people", 3, MAX_PEOPLE)


@dataclass(frozen=True)
class KnightsKnavesProblem:
    prompt: str
    answer: str
    people: tuple[str, ...]
    statements: tuple[tuple[str, Statement], ...]
    """(speaker, statement) pairs."""


def _holds(s: Statement, knight: dict[str, bool]) -> bool:
    kind = s[0]
    if kind == "is":  # X is a knight (True) / knave (False)
        return knight[s[1]] == s[2]
    if kind == "both":
        return knight[s[1]] == s[3] and knight[s[2]] == s[3]
    if kind == "either":  # at least one of X and Y is a knight / knave
        return knight[s[1]] == s[3] or knight[s[2]] == s[3]
    if kind == "same":
        return knight[s[1]] == knight[s[2]]
    if kind == "different":
        return knight[s[1]] != knight[s[2]]
    if kind == "if":  # if X is a, then Y is b
        return knight[s[1]] != s[2] or knight[s[3]] == s[4]
    if kind == "count":  # exactly k of us are knights
        return sum(knight.values()) == s[1]
    raise ValueError(f"unknown statement kind {kind!r}")


def _text(s: Statement) -> str:
    """The statement as its speaker says it (statements name other people only)."""
    kind = s[0]
    if kind == "is":
        return f"{s[1]} is a {KIND[s[2]]}."
    if kind == "both":
        return f"{s[1]} and {s[2]} are both {KIND[s[3]]}s."
    if kind == "either":
        return f"At least one of {s[1]} and {s[2]} is a {KIND[s[3]]}."
    if kind == "same":
        return f"{s[1]} and {s[2]} are of the same kind."
    if kind == "different":
        return f"{s[1]} and {s[2]} are of different kinds."
    if kind == "if":
        return f"If {s[1]} is a {KIND[s[2]]}, then {s[3]} is a {KIND[s[4]]}."
    return f"Exactly {s[1]} of us {'is a knight' if s[1] == 1 else 'are knights'}."


def _random_statement(rng: np.random.Generator, kinds: tuple[str, ...], speaker: str, people: tuple[str, ...]) -> Statement:
    kind = kinds[int(rng.integers(len(kinds)))]
    others = [p for p in people if p != speaker]
    x, y = (others[int(i)] for i in rng.choice(len(others), size=2, replace=len(others) < 2))
    flag, flag2 = bool(rng.integers(2)), bool(rng.integers(2))
    if kind == "is":
        return ("is", x, flag)
    if kind in ("both", "either"):
        return (kind, x, y, flag) if x != y else ("is", x, flag)
    if kind in ("same", "different"):
        return (kind, x, y) if x != y else ("is", x, flag)
    if kind == "if":
        return ("if", x, flag, y, flag2) if x != y else ("is", x, flag)
    return ("count", int(rng.integers(1, len(people))))


def consistent(people: tuple[str, ...], statements: tuple[tuple[str, Statement], ...], knight: dict[str, bool]) -> bool:
    """Every knight's statement is true and every knave's is false."""
    return all(_holds(s, knight) == knight[speaker] for speaker, s in statements)


def solutions(people: tuple[str, ...], statements: tuple[tuple[str, Statement], ...]) -> list[dict[str, bool]]:
    """All consistent assignments, by brute force over the 2^n of them."""
    found = []
    for values in itertools.product([True, False], repeat=len(people)):
        knight = dict(zip(people, values))
        if consistent(people, statements, knight):
            found.append(knight)
    return found


def generate(rng: np.random.Generator, config: KnightsKnavesConfig) -> KnightsKnavesProblem:
    kinds = config.level["kinds"]
    n = int(rng.integers(config.min_people, config.max_people + 1))
    people = tuple(string.ascii_uppercase[:n])
    for _ in range(1000):
        truth = {p: bool(rng.integers(2)) for p in people}
        statements: list[tuple[str, Statement]] = []
        # Everyone speaks once, then extra statements are added until the solution is unique.
        speakers = list(people) + [people[int(i)] for i in rng.integers(n, size=n)]
        for speaker in speakers:
            while True:
                s = _random_statement(rng, kinds, speaker, people)
                if _holds(s, truth) == truth[speaker]:
                    break
            statements.append((speaker, s))
            if len(statements) >= n and len(solutions(people, tuple(statements))) == 1:
                break
        if len(solutions(people, tuple(statements))) == 1:
            break
    else:
        raise RuntimeError(f"no puzzle with a unique solution found for {n} people")
    statements.sort(key=lambda item: people.index(item[0]))
    answer = ", ".join(f"{p}: {KIND[truth[p]]}" for p in people)
    lines = [f"{speaker} says: \"{_text(s)}\"" for speaker, s in statements]
    prompt = (
        f"On an island, every inhabitant is either a knight, who always tells the truth, or a knave, who always lies. "
        f"You meet {n} inhabitants: {join_names(list(people))}.\n" + "\n".join(lines) + "\n"
        "Who is a knight and who is a knave? Answer with every inhabitant, "
        f"e.g. <answer>{', '.join(f'{p}: ?' for p in people)}</answer> with each ? replaced by knight or knave."
    )
    return KnightsKnavesProblem(prompt, answer, people, tuple(statements))


_KIND_WORDS = {"knight": True, "knights": True, "knave": False, "knaves": False}


def verify(problem: KnightsKnavesProblem, answer: str) -> Verdict:
    keys = {p.lower(): p for p in problem.people}
    knight = parse_assignment(answer, keys, _KIND_WORDS, what="knight or knave")
    canonical = ", ".join(f"{p}: {KIND[knight[p]]}" for p in problem.people)
    for speaker, s in problem.statements:
        if _holds(s, knight) != knight[speaker]:
            role = "knight" if knight[speaker] else "knave"
            truth = "false" if knight[speaker] else "true"
            return Verdict(0.0, f"{speaker} would be a {role} whose statement {_text(s)!r} is {truth}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: KnightsKnavesProblem) -> str:
    """Case analysis person by person, dropping a branch as soon as a statement whose people are
    all decided contradicts its speaker."""
    lines: list[str] = []

    def involved(speaker: str, s: Statement) -> set[str]:
        return set(problem.people) if s[0] == "count" else {speaker, *(a for a in s[1:] if isinstance(a, str))}

    def search(knight: dict[str, bool], depth: int) -> None:
        for speaker, s in problem.statements:
            if involved(speaker, s) <= set(knight) and _holds(s, knight) != knight[speaker]:
                if len(lines) < MAX_TRACE:
                    lines.append("  " * depth + f"contradiction: {speaker} ({KIND[knight[speaker]]}) says \"{_text(s)}\"")
                return
        if len(knight) == len(problem.people):
            found = ", ".join(f"{p}: {KIND[knight[p]]}" for p in problem.people)
            lines.append("  " * depth + f"every statement fits: {found}")
            return
        person = problem.people[len(knight)]
        for value in (True, False):
            if len(lines) < MAX_TRACE:
                lines.append("  " * depth + f"suppose {person} is a {KIND[value]}")
            search({**knight, person: value}, depth + 1)

    search({}, 0)
    if len(lines) >= MAX_TRACE:
        lines.append("... (the remaining cases also end in contradictions)")
    return "\n".join(["Try each person as knight or knave in turn:"] + lines + [f"Answer: {problem.answer}"])


KnightsKnavesEnv = register_task(
    "thinkgym/KnightsKnaves-v0", family="logic", config=KnightsKnavesConfig, generate=generate, verify=verify, explain=explain
)
