"""Tower of Hanoi: move a tower of disks from one peg to another, one disk at a time, never
putting a larger disk on a smaller one.

Prompt: the number of disks, the start peg and the goal peg (pegs A, B, C).
Answer: the moves in order, each ``FROM->TO``, separated by commas, spaces or newlines, e.g.
``<answer>A->C, A->B, C->B</answer>`` (``A to C`` and ``A-C`` also read; case is ignored).
The moves are checked by simulation. Reward: 0 for an illegal move or a sequence that does not
end with the whole tower on the goal peg; 1.0 for any solving sequence when optimality is not
required (difficulty 1), and with ``require_optimal`` (difficulty >= 2) 1.0 only for the
optimal 2^n - 1 moves, a longer solution earning 0.5 * optimal / length.

Difficulty: 1 = 2 or 3 disks; 2 = 4 or 5 disks; 3 = 6 or 7 disks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig, ordered
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

PEGS = "ABC"
MAX_DISKS = 9  # 511 moves still fit the 4096-character answer limit


@dataclass(frozen=True)
class HanoiConfig(TaskConfig):
    LEVELS = Levels(
        ("min_disks", "max_disks", "require_optimal"),
        {1: (2, 3, False), 2: (4, 5, True), 3: (6, 7, True)},
        at_least={"max_disks": "min_disks"},
    )
    min_disks: int | None = None
    """Fewest disks (default from difficulty)."""
    max_disks: int | None = None
    """Most disks (default from difficulty)."""
    require_optimal: bool | None = None
    """Full reward only for the shortest solution (default: from difficulty 2 on)."""

    def validate(self) -> None:
        ordered(self, "min_disks", "max_disks", 1, MAX_DISKS)


@dataclass(frozen=True)
class HanoiProblem:
    prompt: str
    answer: str
    disks: int
    source: str
    target: str
    require_optimal: bool

    @property
    def optimal_length(self) -> int:
        return 2**self.disks - 1


def solve(n: int, source: str, target: str) -> list[tuple[str, str]]:
    """The optimal move list for ``n`` disks (2^n - 1 moves)."""
    if n == 0:
        return []
    spare = next(p for p in PEGS if p not in (source, target))
    return solve(n - 1, source, spare) + [(source, target)] + solve(n - 1, spare, target)


def generate(rng: np.random.Generator, config: HanoiConfig) -> HanoiProblem:
    n = int(rng.integers(config.min_disks, config.max_disks + 1))
    source, target = (PEGS[int(i)] for i in rng.choice(3, size=2, replace=False))
    moves = solve(n, source, target)
    rule = (
        f"Full reward needs the shortest possible solution ({len(moves)} moves)."
        if config.require_optimal
        else "Any correct solution earns full reward."
    )
    # The format example solves 2 disks from A to B; that instance gets another example, so
    # that no prompt holds its own answer.
    example = "A->B, A->C, B->C" if (n, source, target) == (2, "A", "B") else "A->C, A->B, C->B"
    prompt = (
        f"Tower of Hanoi: there are three pegs A, B and C. {n} disks of different sizes are stacked on peg {source}, "
        f"the largest at the bottom and the smallest on top. Move the whole tower to peg {target}. "
        "Move one disk at a time: take the top disk of one peg and put it on another peg; "
        f"never put a disk on a smaller one. {rule}\n"
        "Answer with the moves in order, each written FROM->TO, separated by commas, "
        f"e.g. <answer>{example}</answer>."
    )
    return HanoiProblem(prompt, _text(moves), n, source, target, config.require_optimal)


def _text(moves: list[tuple[str, str]]) -> str:
    return ", ".join(f"{a}->{b}" for a, b in moves)


_MOVE_RE = re.compile(r"([ABC])\s*(?:->|-+>?|=>|\bto\b|\u2192)\s*([ABC])", re.IGNORECASE | re.ASCII)
_GAP_RE = re.compile(r"^[\s,;.]*$")


def parse_moves(text: str) -> list[tuple[str, str]]:
    """Read ``A->C, A->B ...``; any text between moves other than separators is an error."""
    require_plain(text, allowed="\u2192")
    moves, pos = [], 0
    for match in _MOVE_RE.finditer(text):
        if not _GAP_RE.match(text[pos : match.start()]):
            raise InvalidAnswer(f"cannot read {text[pos:match.start()][:30]!r}; write moves as A->C")
        moves.append((match.group(1).upper(), match.group(2).upper()))
        pos = match.end()
    if not _GAP_RE.match(text[pos:]):
        raise InvalidAnswer(f"cannot read {text[pos:][:30]!r}; write moves as A->C")
    if not moves:
        raise InvalidAnswer("no moves found; write moves as A->C")
    return moves


def verify(problem: HanoiProblem, answer: str) -> Verdict:
    moves = parse_moves(answer)
    canonical = _text(moves)
    pegs = {p: [] for p in PEGS}
    pegs[problem.source] = list(range(problem.disks, 0, -1))
    for i, (a, b) in enumerate(moves, 1):
        if a == b:
            return Verdict(0.0, f"move {i} ({a}->{b}) does not change pegs", canonical)
        if not pegs[a]:
            return Verdict(0.0, f"move {i} ({a}->{b}) takes from an empty peg", canonical)
        if pegs[b] and pegs[b][-1] < pegs[a][-1]:
            return Verdict(0.0, f"move {i} ({a}->{b}) puts disk {pegs[a][-1]} on smaller disk {pegs[b][-1]}", canonical)
        pegs[b].append(pegs[a].pop())
    if len(pegs[problem.target]) != problem.disks:
        return Verdict(0.0, f"after {len(moves)} moves the tower is not on peg {problem.target}", canonical)
    if problem.require_optimal and len(moves) > problem.optimal_length:
        score = 0.5 * problem.optimal_length / len(moves)
        return Verdict(score, f"solved in {len(moves)} moves; the optimum is {problem.optimal_length}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: HanoiProblem) -> str:
    n, s, t = problem.disks, problem.source, problem.target
    if n == 1:
        return f"A single disk moves straight from {s} to {t}.\nMoves: {problem.answer}"
    spare = next(p for p in PEGS if p not in (s, t))
    top = f"{n - 1} disk{'s' if n > 2 else ''}"
    lines = [
        f"To move {n} disks from {s} to {t}: move the top {top} from {s} to {spare}, "
        f"move disk {n} from {s} to {t}, then move the {top} from {spare} to {t}.",
        "Apply the same rule recursively to each smaller tower; "
        f"this takes 2^{n} - 1 = {problem.optimal_length} moves, the minimum.",
    ]
    if n > 1:
        lines.append(f"First part ({top} {s} to {spare}): {_text(solve(n - 1, s, spare))}")
        lines.append(f"Middle: {s}->{t}")
        lines.append(f"Last part ({top} {spare} to {t}): {_text(solve(n - 1, spare, t))}")
    lines.append(f"Moves: {problem.answer}")
    return "\n".join(lines)


HanoiEnv = register_task(
    "thinkgym/Hanoi-v0", family="logic", config=HanoiConfig, generate=generate, verify=verify, explain=explain
)
