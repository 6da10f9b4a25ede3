"""Zebra (Einstein) puzzles: houses in a row, one person each, attributes to place from clues.

Prompt: the houses (numbered 1..N from left to right), the attribute values of each category,
and the clues (``The dog owner lives directly left of Bob.``).
Answer, whole-grid question (the default): every house with its values,
``House 1: Alice, red, dog; House 2: ...`` (one house per line or separated by semicolons;
values in any order and case; the ``House k:`` labels may be left out when the houses are listed
in order), e.g. ``<answer>House 1: Alice, red; House 2: Bob, blue</answer>``. Reward 1.0 when
every house is right, else 0. Cell question (``question="cell"``): the number of the house of
one value, e.g. ``<answer>3</answer>``.

Clues are drawn from the hidden solution and added until a solver proves the solution unique;
then clues are dropped again while the solution stays unique, so that few are redundant.

Difficulty: 1 = 3 houses, 2 categories; 2 = 4 houses, 3 categories; 3 = 5 houses, 4 categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

CATEGORIES = {  # category -> (values, noun phrase template)
    "name": (("Alice", "Bob", "Carol", "Dave", "Eve", "Frank"), "{}"),
    "color": (("red", "green", "blue", "yellow", "white", "black"), "the person in the {} house"),
    "pet": (("dog", "cat", "bird", "fish", "horse", "rabbit"), "the {} owner"),
    "drink": (("tea", "coffee", "milk", "juice", "water", "soda"), "the {} drinker"),
    "hobby": (("chess", "tennis", "painting", "reading", "cooking", "hiking"), "the person who enjoys {}"),
}
MAX_HOUSES = 6
_KINDS = ("at", "not_at", "same", "diff", "left", "next", "before")

Item = tuple[int, int]  # (category index, value index)
Clue = tuple  # (kind, item, house) for at/not_at, (kind, item, item) otherwise


@dataclass(frozen=True)
class ZebraConfig(TaskConfig):
    LEVELS = Levels(("houses", "categories"), {1: (3, 2), 2: (4, 3), 3: (5, 4)})
    houses: int | None = None
    """Number of houses (default from difficulty)."""
    categories: int | None = None
    """Number of attribute categories (default from difficulty)."""
    question: str = "grid"
    """"grid": ask for the whole solution; "cell": ask for the house of one value."""

    def validate(self) -> None:
        within(self, "houses", 2, MAX_HOUSES)
        within(self, "categories", 1, len(CATEGORIES))
        if self.question not in ("grid", "cell"):
            raise ValueError(f"question must be 'grid' or 'cell', got {self.question!r}")


@dataclass(frozen=True)
class ZebraProblem:
    prompt: str
    answer: str
    categories: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    """values[c][v]: the name of value v of category c."""
    clues: tuple[Clue, ...]
    solution: tuple[tuple[int, ...], ...]
    """solution[c][v]: the house (0-based) of value v of category c."""
    asked: Item | None
    """The value whose house the cell question asks for; None for the grid question."""


def holds(clue: Clue, house_of: dict[Item, int]) -> bool:
    kind, a, b = clue
    if kind == "at":
        return house_of[a] == b
    if kind == "not_at":
        return house_of[a] != b
    return _rel(kind, house_of[a], house_of[b])


def _items(clue: Clue) -> list[Item]:
    return [clue[1]] if clue[0] in ("at", "not_at") else [clue[1], clue[2]]


def narrow(n_houses: int, n_cats: int, clues: tuple[Clue, ...]) -> dict[Item, set[int]] | None:
    """Possible houses of every value after arc consistency on the clues and "one value per house"
    (sound: no solution is lost); None when some value has no house left."""
    dom = {(c, v): set(range(n_houses)) for c in range(n_cats) for v in range(n_houses)}
    changed = True
    while changed:
        changed = False
        for kind, a, b in clues:
            if kind in ("at", "not_at"):
                new_a = dom[a] & ({b} if kind == "at" else set(range(n_houses)) - {b})
                new_b = None
            else:
                new_a = {ha for ha in dom[a] if any(_rel(kind, ha, hb) for hb in dom[b])}
                new_b = {hb for hb in dom[b] if any(_rel(kind, ha, hb) for ha in new_a)}
            for item, new in ((a, new_a), (b, new_b)):
                if new is not None and new != dom[item]:
                    dom[item], changed = new, True
        for c in range(n_cats):
            for v in range(n_houses):
                if len(dom[(c, v)]) == 1:
                    for w in range(n_houses):
                        if w != v and dom[(c, v)] & dom[(c, w)]:
                            dom[(c, w)] -= dom[(c, v)]
                            changed = True
        if any(not d for d in dom.values()):
            return None
    return dom


def count_solutions(n_houses: int, n_cats: int, clues: tuple[Clue, ...], limit: int = 2) -> int:
    """Solutions (one permutation of houses per category) satisfying every clue, up to ``limit``.

    Domains are first narrowed by :func:`narrow`; then categories are placed one at a time,
    narrowest first, each value's houses cut down by the clues linking it to placed values."""
    dom = narrow(n_houses, n_cats, clues)
    if dom is None:
        return 0
    order = sorted(range(n_cats), key=lambda c: (sum(len(dom[(c, v)]) for v in range(n_houses)), c))
    rank = {c: i for i, c in enumerate(order)}
    due: list[list[Clue]] = [[] for _ in range(n_cats)]
    for clue in clues:
        if clue[0] not in ("at", "not_at"):  # unary clues are already in the domains
            due[max(rank[c] for c, _ in _items(clue))].append(clue)
    house: dict[Item, int] = {}
    found = 0

    def place(i: int) -> None:
        nonlocal found
        if i == n_cats:
            found += 1
            return
        c = order[i]
        allowed = [set(dom[(c, v)]) for v in range(n_houses)]
        inner = []
        for clue in due[i]:  # clues with an already placed item narrow this category's houses
            kind, a, b = clue
            if a[0] == c and b[0] == c:
                inner.append(clue)
            elif a[0] == c:
                allowed[a[1]] = {h for h in allowed[a[1]] if _rel(kind, h, house[b])}
            else:
                allowed[b[1]] = {h for h in allowed[b[1]] if _rel(kind, house[a], h)}
        for perm in _permutations(allowed):
            house.update({(c, v): h for v, h in enumerate(perm)})
            if all(_rel(kind, house[a], house[b]) for kind, a, b in inner):
                place(i + 1)
                if found >= limit:
                    return

    place(0)
    return found


def _permutations(allowed: list[set[int]]) -> Iterator[tuple[int, ...]]:
    """Assignments of distinct houses, value v taking one of ``allowed[v]``."""
    chosen: list[int] = []

    def extend(v: int) -> Iterator[tuple[int, ...]]:
        if v == len(allowed):
            yield tuple(chosen)
            return
        for h in sorted(allowed[v]):
            if h not in chosen:
                chosen.append(h)
                yield from extend(v + 1)
                chosen.pop()

    return extend(0)


_RELATIONS = {
    "same": lambda a, b: a == b,
    "diff": lambda a, b: a != b,
    "left": lambda a, b: a + 1 == b,
    "next": lambda a, b: abs(a - b) == 1,
    "before": lambda a, b: a < b,
}


def _rel(kind: str, ha: int, hb: int) -> bool:
    return _RELATIONS[kind](ha, hb)


def _random_clue(rng: np.random.Generator, n_houses: int, n_cats: int, house_of: dict[Item, int]) -> Clue:
    """A clue that is true of the solution."""
    while True:
        kind = _KINDS[int(rng.choice(len(_KINDS), p=[0.1, 0.1, 0.25, 0.1, 0.15, 0.15, 0.15]))]
        a = (int(rng.integers(n_cats)), int(rng.integers(n_houses)))
        b = (int(rng.integers(n_cats)), int(rng.integers(n_houses)))
        if kind in ("at", "not_at"):
            clue = (kind, a, int(rng.integers(n_houses)))
        elif a == b or (kind in ("same", "diff") and a[0] == b[0]):
            continue
        else:
            clue = (kind, a, b)
        if holds(clue, house_of):
            return clue


def generate(rng: np.random.Generator, config: ZebraConfig) -> ZebraProblem:
    n, k = config.houses, config.categories
    names = sorted(CATEGORIES)
    cats = tuple(names[int(i)] for i in sorted(rng.choice(len(names), size=k, replace=False)))
    if "name" in cats:  # people's names read best first
        cats = ("name",) + tuple(c for c in cats if c != "name")
    values = tuple(tuple(CATEGORIES[c][0][int(i)] for i in sorted(rng.choice(6, size=n, replace=False))) for c in cats)
    solution = tuple(tuple(int(h) for h in rng.permutation(n)) for _ in cats)
    house_of = {(c, v): solution[c][v] for c in range(k) for v in range(n)}
    clues: list[Clue] = []
    while count_solutions(n, k, tuple(clues)) > 1:
        clue = _random_clue(rng, n, k, house_of)
        if clue not in clues:
            clues.append(clue)
    clues = _prune(rng, n, k, clues)
    asked = None
    if config.question == "cell":
        asked = (int(rng.integers(k)), int(rng.integers(n)))
    problem = ZebraProblem("", "", cats, values, tuple(clues), solution, asked)
    return ZebraProblem(_prompt(problem, n), _answer(problem), cats, values, tuple(clues), solution, asked)


def _prune(rng: np.random.Generator, n: int, k: int, clues: list[Clue]) -> list[Clue]:
    order = [clues[int(i)] for i in rng.permutation(len(clues))]
    kept = list(order)
    for clue in order:
        trial = [cl for cl in kept if cl != clue]
        if count_solutions(n, k, tuple(trial)) == 1:
            kept = trial
    return kept


def _phrase(p: ZebraProblem, item: Item) -> str:
    return CATEGORIES[p.categories[item[0]]][1].format(p.values[item[0]][item[1]])


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def clue_text(p: ZebraProblem, clue: Clue) -> str:
    kind, a, b = clue
    subject = _capital(_phrase(p, a))
    if kind == "at":
        return f"{subject} lives in house {b + 1}."
    if kind == "not_at":
        return f"{subject} does not live in house {b + 1}."
    other = _phrase(p, b)
    return {
        "same": f"{subject} is {other}.",
        "diff": f"{subject} is not {other}.",
        "left": f"{subject} lives directly left of {other}.",
        "next": f"{subject} lives next to {other}.",
        "before": f"{subject} lives somewhere to the left of {other}.",
    }[kind]


def _prompt(p: ZebraProblem, n: int) -> str:
    lines = [
        f"There are {n} houses in a row, numbered 1 to {n} from left to right, with one person in each. "
        "Each person has a different value in each of these categories:"
    ]
    lines += [f"- {cat}: {', '.join(vals)}" for cat, vals in zip(p.categories, p.values)]
    lines.append("Clues:")
    lines += [f"{i}. {clue_text(p, clue)}" for i, clue in enumerate(p.clues, 1)]
    if p.asked is not None:
        lines.append(f"In which house does {_phrase(p, p.asked)} live? Answer with the house number, e.g. <answer>1</answer>.")
    else:
        example = "; ".join(f"House {h}: " + ", ".join(vals[h - 1] for vals in p.values) for h in (1, 2))
        lines.append(
            "Give the value of every category for every house. Answer with one entry per house, separated by "
            f"semicolons, the house number first, e.g. <answer>{example}; ...</answer> (the values there only show the format)."
        )
    return "\n".join(lines)


def _grid(p: ZebraProblem) -> list[list[str]]:
    """grid[h]: the values in house h, in category order."""
    n = len(p.values[0])
    return [[p.values[c][p.solution[c].index(h)] for c in range(len(p.categories))] for h in range(n)]


def _answer(p: ZebraProblem) -> str:
    if p.asked is not None:
        return str(p.solution[p.asked[0]][p.asked[1]] + 1)
    return "; ".join(f"House {h}: {', '.join(vals)}" for h, vals in enumerate(_grid(p), 1))


_HOUSE_RE = re.compile(r"^(?:house\s*(\d+)\s*[:=.)-]?|(\d+)\s*[:=.)-])?\s*(.*)$", re.IGNORECASE | re.DOTALL | re.ASCII)


def parse_grid(p: ZebraProblem, text: str) -> list[list[int]]:
    """Read ``House 1: a, b; House 2: ...`` into assign[h][c] = value index."""
    n, k = len(p.values[0]), len(p.categories)
    lookup = {v.lower(): (c, i) for c, vals in enumerate(p.values) for i, v in enumerate(vals)}
    entries = [e.strip() for e in re.split(r"[;\n]", text.strip().strip(".")) if e.strip()]
    if len(entries) != n:
        raise InvalidAnswer(f"expected {n} house entries separated by semicolons, got {len(entries)}")
    assign: list[list[int] | None] = [None] * n
    for order, entry in enumerate(entries):
        match = _HOUSE_RE.match(entry)
        number = match.group(1) or match.group(2)
        h = int(number) - 1 if number else order
        if not 0 <= h < n or assign[h] is not None:
            raise InvalidAnswer(f"house {h + 1} is out of range or given twice")
        row = [-1] * k
        for token in (t for t in re.split(r"[,\s]+", match.group(3).strip(" .")) if t):
            if token.lower() not in lookup:
                raise InvalidAnswer(f"unknown value {token[:20]!r} in house {h + 1}")
            c, i = lookup[token.lower()]
            if row[c] != -1:
                raise InvalidAnswer(f"house {h + 1} has two values for {p.categories[c]}")
            row[c] = i
        if -1 in row:
            raise InvalidAnswer(f"house {h + 1} has no value for {p.categories[row.index(-1)]}")
        assign[h] = row
    return assign  # type: ignore[return-value]


def verify(problem: ZebraProblem, answer: str) -> Verdict:
    require_plain(answer)
    if problem.asked is not None:
        text = answer.strip().strip(".")
        text = re.sub(r"^house\s*", "", text, flags=re.IGNORECASE)
        if not re.fullmatch(r"\d{1,2}", text, re.ASCII):
            raise InvalidAnswer(f"expected a house number, got {answer[:30]!r}")
        right = problem.solution[problem.asked[0]][problem.asked[1]] + 1
        if int(text) != right:
            return Verdict(0.0, f"{_phrase(problem, problem.asked)} does not live in house {int(text)}", text)
        return Verdict(1.0, canonical=text)
    assign = parse_grid(problem, answer)
    canonical = "; ".join(
        f"House {h}: {', '.join(problem.values[c][i] for c, i in enumerate(row))}" for h, row in enumerate(assign, 1)
    )
    for c in range(len(problem.categories)):
        if len({row[c] for row in assign}) != len(assign):
            return Verdict(0.0, f"a {problem.categories[c]} value is used twice", canonical)
    house_of = {(c, i): h for h, row in enumerate(assign) for c, i in enumerate(row)}
    broken = next((j for j, clue in enumerate(problem.clues, 1) if not holds(clue, house_of)), None)
    if broken is not None:  # the solution is unique, so satisfying every clue means it is right
        return Verdict(0.0, f"clue {broken} is not satisfied", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: ZebraProblem) -> str:
    """Constraint propagation: narrow each value's possible houses with the clues and with
    "one value per house", noting each value as its house becomes certain."""
    n, k = len(problem.values[0]), len(problem.categories)
    dom = {(c, v): set(range(n)) for c in range(k) for v in range(n)}
    lines = ["Track the possible houses of every value and narrow them down:"]

    def settle(item: Item, house: int, why: str) -> None:
        dom[item] = {house}
        lines.append(f"{_capital(_phrase(problem, item))} lives in house {house + 1} ({why}).")

    def shrink(item: Item, allowed: set[int], why: str) -> bool:
        if allowed >= dom[item]:
            return False
        before = len(dom[item])
        dom[item] &= allowed
        if len(dom[item]) == 1 and before > 1:
            lines.append(f"{_capital(_phrase(problem, item))} lives in house {min(dom[item]) + 1} ({why}).")
        return True

    while any(len(d) > 1 for d in dom.values()):
        changed = False
        for j, clue in enumerate(problem.clues, 1):
            kind, a, b = clue
            if kind in ("at", "not_at"):
                changed |= shrink(a, {b} if kind == "at" else set(range(n)) - {b}, f"clue {j}")
                continue
            changed |= shrink(a, {ha for ha in dom[a] if any(_rel(kind, ha, hb) for hb in dom[b])}, f"clue {j}")
            changed |= shrink(b, {hb for hb in dom[b] if any(_rel(kind, ha, hb) for ha in dom[a])}, f"clue {j}")
        for c in range(k):
            for v in range(n):
                if len(dom[(c, v)]) == 1:
                    for w in range(n):
                        if w != v:
                            changed |= shrink((c, w), set(range(n)) - dom[(c, v)], f"house {min(dom[(c, v)]) + 1} is taken")
            for h in range(n):
                holders = [v for v in range(n) if h in dom[(c, v)]]
                if len(holders) == 1 and len(dom[(c, holders[0])]) > 1:
                    settle((c, holders[0]), h, f"no other {problem.categories[c]} can be in house {h + 1}")
                    changed = True
        if not changed:
            _eliminate_or_guess(problem, dom, lines, settle)
    lines += [f"House {h}: {', '.join(vals)}" for h, vals in enumerate(_grid(problem), 1)]
    lines.append(f"Answer: {problem.answer}")
    return "\n".join(lines)


def _eliminate_or_guess(problem: ZebraProblem, dom: dict[Item, set[int]], lines: list[str], settle) -> None:
    """When propagation is stuck: rule out one house of one value by supposing it and
    propagating to a contradiction; failing that, take the solver's house for the least open value."""
    n, k = len(problem.values[0]), len(problem.categories)
    known = tuple(("at", i, min(d)) for i, d in dom.items() if len(d) == 1)
    for item in sorted((i for i in dom if len(dom[i]) > 1), key=lambda i: (len(dom[i]), i)):
        for h in sorted(dom[item]):
            if narrow(n, k, problem.clues + known + (("at", item, h),)) is None:
                dom[item].discard(h)
                lines.append(f"Suppose {_phrase(problem, item)} lived in house {h + 1}: following the clues, some value "
                             "would have no house left, so that is impossible.")
                if len(dom[item]) == 1:
                    lines.append(f"{_capital(_phrase(problem, item))} lives in house {min(dom[item]) + 1}.")
                return
    item = min((i for i in dom if len(dom[i]) > 1), key=lambda i: (len(dom[i]), i))
    settle(item, problem.solution[item[0]][item[1]], "the other possible houses lead to a contradiction")


ZebraEnv = register_task(
    "thinkgym/Zebra-v0", family="logic", config=ZebraConfig, generate=generate, verify=verify, explain=explain
)
