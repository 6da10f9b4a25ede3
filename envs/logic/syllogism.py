"""Syllogisms: does a conclusion follow from categorical premises?

Prompt: premises in the four standard forms (A: ``All X are Y.``, E: ``No X are Y.``,
I: ``Some X are Y.``, O: ``Some X are not Y.``), a conclusion, and the reading to use: by
default the modern one, in which no category is assumed to have members
(``existential_import=True`` assumes every category named is non-empty, the traditional
reading).
Answer: ``valid`` or ``invalid``, e.g. ``<answer>valid</answer>``. Reward 1.0 for the right
verdict, else 0.

Validity is decided semantically over the Venn diagram of the k terms (2^k regions): an
argument is invalid exactly when some model (a set of non-empty regions) makes every premise
true and the conclusion false. A and E statements only empty regions and I and O statements only
ask some region to be non-empty, so such a model exists exactly when the largest model allowed
by the emptying statements meets every existence demand; the tests cross-check this against
brute-force enumeration of all 2^(2^k) models.

Difficulty: 1 = a classic syllogism (3 terms, 2 premises, conclusion subject-predicate);
2 = a chain of 4 terms with 3 premises; 3 = a chain of 5 terms with 4 premises, premises
shuffled. Half the arguments are valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.logic.common import join_names
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

NOUNS = (
    "artists", "bakers", "chefs", "dancers", "doctors", "engineers", "farmers", "gardeners", "hikers",
    "jugglers", "lawyers", "musicians", "nurses", "painters", "pilots", "poets", "sailors", "singers",
    "teachers", "writers", "climbers", "drivers", "fishers", "tailors",
)
FORMS = "AEIO"

Statement = tuple[str, int, int]  # (form, subject term, predicate term)


@dataclass(frozen=True)
class SyllogismConfig(TaskConfig):
    LEVELS = Levels(("terms",), {1: (3,), 2: (4,), 3: (5,)})
    existential_import: bool = False
    """Assume every category named has at least one member (the traditional reading)."""
    valid_fraction: float = 0.5
    """Probability that a generated argument is valid."""

    def validate(self) -> None:
        within(self, "valid_fraction", 0.0, 1.0)


@dataclass(frozen=True)
class SyllogismProblem:
    prompt: str
    answer: str
    terms: tuple[str, ...]
    premises: tuple[Statement, ...]
    conclusion: Statement
    existential_import: bool


def statement_text(s: Statement, terms: tuple[str, ...]) -> str:
    form, x, y = s
    return {"A": "All {} are {}.", "E": "No {} are {}.", "I": "Some {} are {}.", "O": "Some {} are not {}."}[form].format(
        terms[x], terms[y]
    )


def _regions(k: int, x: int, y: int, y_in: bool) -> frozenset[int]:
    """Venn regions (bitmask of term memberships) inside X and inside (or outside) Y."""
    return frozenset(r for r in range(2**k) if r >> x & 1 and (r >> y & 1) == y_in)


def constraints(s: Statement, k: int, negated: bool = False) -> tuple[frozenset[int], frozenset[int] | None]:
    """(regions the statement empties, regions of which it needs one non-empty or None)."""
    form, x, y = s
    if negated:  # not-A is O, not-E is I, not-I is E, not-O is A
        form = {"A": "O", "E": "I", "I": "E", "O": "A"}[form]
    if form == "A":
        return _regions(k, x, y, False), None
    if form == "E":
        return _regions(k, x, y, True), None
    return frozenset(), _regions(k, x, y, form == "I")


def countermodel(k: int, premises: tuple[Statement, ...], conclusion: Statement | None, existential_import: bool) -> frozenset[int] | None:
    """The largest model (set of non-empty regions) making every premise true and the conclusion
    false (omit the conclusion to test the premises alone), or None when there is none."""
    empty: set[int] = set()
    needs: list[frozenset[int]] = []
    parts = [constraints(p, k) for p in premises] + ([constraints(conclusion, k, negated=True)] if conclusion else [])
    for emptied, needed in parts:
        empty |= emptied
        if needed is not None:
            needs.append(needed)
    if existential_import:
        needs += [frozenset(r for r in range(2**k) if r >> t & 1) for t in range(k)]
    model = frozenset(range(2**k)) - empty
    return model if all(need & model for need in needs) else None


def generate(rng: np.random.Generator, config: SyllogismConfig) -> SyllogismProblem:
    k = config.level["terms"]
    want_valid = bool(rng.random() < config.valid_fraction)
    terms = tuple(NOUNS[int(i)] for i in rng.choice(len(NOUNS), size=k, replace=False))
    for _ in range(10000):
        # A chain term0 - term1 - ... - term(k-1); the conclusion links the two ends.
        premises = []
        for t in range(k - 1):
            a, b = (t, t + 1) if rng.random() < 0.5 else (t + 1, t)
            premises.append((FORMS[int(rng.integers(4))], a, b))
        if config.difficulty == 1:
            premises.reverse()  # major premise (with the predicate) first, as in the textbook form
            conclusion = (FORMS[int(rng.integers(4))], 0, k - 1)
        else:
            ends = (0, k - 1) if rng.random() < 0.5 else (k - 1, 0)
            conclusion = (FORMS[int(rng.integers(4))], *ends)
        if countermodel(k, tuple(premises), None, config.existential_import) is None:
            continue  # contradictory premises would make the argument valid for a trivial reason
        valid = countermodel(k, tuple(premises), conclusion, config.existential_import) is None
        if valid == want_valid:
            break
    else:
        raise RuntimeError("could not draw an argument of the wanted kind")
    if config.difficulty >= 3:
        premises = [premises[int(i)] for i in rng.permutation(len(premises))]
    reading = (
        "Assume every category mentioned has at least one member."
        if config.existential_import
        else "Do not assume that any category has members: 'All X are Y' is true when there are no X."
    )
    prompt = (
        "Premises:\n" + "\n".join(statement_text(p, terms) for p in premises)
        + f"\nConclusion: {statement_text(conclusion, terms)}\n"
        f"{reading} Does the conclusion follow logically from the premises, whatever the facts? "
        "Answer valid or invalid, e.g. <answer>valid</answer>."
    )
    return SyllogismProblem(
        prompt, "valid" if valid else "invalid", terms, tuple(premises), conclusion, config.existential_import
    )


def verify(problem: SyllogismProblem, answer: str) -> Verdict:
    require_plain(answer)
    word = " ".join(answer.strip().strip(".!").lower().split())
    if word not in {"valid", "invalid", "not valid"}:
        raise InvalidAnswer(f"answer valid or invalid, got {answer[:30]!r}")
    said_valid = word == "valid"
    valid = countermodel(len(problem.terms), problem.premises, problem.conclusion, problem.existential_import) is None
    canonical = "valid" if said_valid else "invalid"
    if said_valid != valid:
        return Verdict(0.0, f"the argument is {'valid' if valid else 'invalid'}", canonical)
    return Verdict(1.0, canonical=canonical)


def _region_text(r: int, terms: tuple[str, ...]) -> str:
    inside = [t for i, t in enumerate(terms) if r >> i & 1]
    outside = [t for i, t in enumerate(terms) if not r >> i & 1]
    text = "among the " + join_names(inside)
    return text + (f" but none of the {join_names(outside).replace(' and ', ' or ')}" if outside else "")


def explain(problem: SyllogismProblem) -> str:
    """Venn-diagram reasoning: what the premises empty, and whether a countermodel survives."""
    k, terms = len(problem.terms), problem.terms
    lines = ["Draw the Venn diagram of the terms and look for a situation with the premises true and the conclusion false."]
    for p in problem.premises:
        emptied, needed = constraints(p, k)
        if needed is None:
            lines.append(f"'{statement_text(p, terms)}' leaves no one among the {terms[p[1]]} who is "
                         f"{'not ' if p[0] == 'A' else ''}among the {terms[p[2]]}.")
        else:
            lines.append(f"'{statement_text(p, terms)}' needs someone among the {terms[p[1]]} who is "
                         f"{'' if p[0] == 'I' else 'not '}among the {terms[p[2]]}.")
    c = problem.conclusion
    lines.append(f"To make '{statement_text(c, terms)}' false we need the opposite: "
                 f"'{statement_text(({'A': 'O', 'E': 'I', 'I': 'E', 'O': 'A'}[c[0]], c[1], c[2]), terms)}'.")
    model = countermodel(k, problem.premises, c, problem.existential_import)
    if model is None:
        lines.append("That cannot hold together with the premises, so no counterexample exists: the argument is valid.")
    else:
        people = _witnesses(problem, model)
        world = "; ".join(f"one {_region_text(r, terms)}" for r in people) if people else "no one at all"
        lines.append(f"A counterexample: suppose there are exactly these people: {world}. "
                     "Then all premises hold and the conclusion fails: the argument is invalid.")
    lines.append(f"Answer: {problem.answer}")
    return "\n".join(lines)


def _witnesses(problem: SyllogismProblem, model: frozenset[int]) -> list[int]:
    """A smallest-effort countermodel inside ``model``: one region for each existence demand."""
    k = len(problem.terms)
    needs = [constraints(p, k)[1] for p in problem.premises] + [constraints(problem.conclusion, k, negated=True)[1]]
    if problem.existential_import:
        needs += [frozenset(r for r in range(2**k) if r >> t & 1) for t in range(k)]
    chosen: list[int] = []
    for need in needs:
        if need is not None and not need & set(chosen):
            chosen.append(min(need & model))
    return chosen


SyllogismEnv = register_task(
    "thinkgym/Syllogism-v0", family="logic", config=SyllogismConfig, generate=generate, verify=verify, explain=explain
)
