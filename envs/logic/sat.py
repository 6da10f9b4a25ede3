"""Propositional satisfiability: find true/false values that make a CNF formula true, or say
that none exist.

Prompt: the clauses, one a line, e.g. ``(p OR NOT q OR r)``; the formula is their conjunction.
Answer: a value for every variable, ``p=true, q=false, r=true`` (any order; true/false, T/F or
1/0; ``p: true`` also reads), or ``UNSAT`` when no assignment satisfies every clause, e.g.
``<answer>p=true, q=false, r=true</answer>``. Reward 1.0 for any satisfying assignment (checked
by evaluating every clause) or for ``UNSAT`` on an unsatisfiable formula, else 0.

Difficulty: 1 = 3 variables, 5 or 6 clauses of 2 literals; 2 = 4 or 5 variables, 10 to 14
clauses of 2 or 3 literals; 3 = 6 or 7 variables, 26 to 30 clauses of 3 literals. About a
third of the formulas are unsatisfiable (``unsat_fraction``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.logic.common import TRUTH_WORDS, parse_assignment
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

VARIABLES = "pqrstuvwxyz"
MAX_TRACE = 40

Literal = tuple[str, bool]  # (variable, positive)
Clause = tuple[Literal, ...]


@dataclass(frozen=True)
class SatConfig(TaskConfig):
    LEVELS = Levels(
        ("min_variables", "max_variables", "min_clauses", "max_clauses", "widths"),
        {1: (3, 3, 5, 6, (2,)), 2: (4, 5, 10, 14, (2, 3)), 3: (6, 7, 26, 30, (3,))},
    )
    variables: int | None = None
    """Number of variables (default: drawn from the difficulty's range)."""
    clauses: int | None = None
    """Number of clauses (default: drawn from the difficulty's range)."""
    unsat_fraction: float = 0.35
    """Probability that a generated formula is unsatisfiable."""

    def validate(self) -> None:
        if self.variables is not None:
            within(self, "variables", 2, len(VARIABLES))
        if self.clauses is not None:
            within(self, "clauses", 1, 200)
        within(self, "unsat_fraction", 0.0, 1.0)


@dataclass(frozen=True)
class SatProblem:
    prompt: str
    answer: str
    variables: tuple[str, ...]
    clauses: tuple[Clause, ...]
    satisfiable: bool


def clause_text(clause: Clause) -> str:
    return "(" + " OR ".join(v if pos else f"NOT {v}" for v, pos in clause) + ")"


def satisfies(clauses: tuple[Clause, ...], assignment: dict[str, bool]) -> bool:
    return all(any(assignment[v] == pos for v, pos in clause) for clause in clauses)


def count_models(variables: tuple[str, ...], clauses: tuple[Clause, ...]) -> int:
    """Number of satisfying assignments, by evaluating all 2^n of them."""
    rows = np.array(list(itertools.product([False, True], repeat=len(variables))), dtype=bool)
    index = {v: i for i, v in enumerate(variables)}
    ok = np.ones(len(rows), dtype=bool)
    for clause in clauses:
        ok &= np.any([rows[:, index[v]] == pos for v, pos in clause], axis=0)
    return int(ok.sum())


def _random_clause(rng: np.random.Generator, variables: tuple[str, ...], width: int) -> Clause:
    picks = rng.choice(len(variables), size=min(width, len(variables)), replace=False)
    return tuple(sorted(((variables[int(i)], bool(rng.integers(2))) for i in picks), key=lambda lit: lit[0]))


def generate(rng: np.random.Generator, config: SatConfig) -> SatProblem:
    v_lo, v_hi, c_lo, c_hi, widths = config.level.values()
    want_sat = bool(rng.random() >= config.unsat_fraction)
    for _ in range(2000):
        n = config.variables or int(rng.integers(v_lo, v_hi + 1))
        m = config.clauses or int(rng.integers(c_lo, c_hi + 1))
        variables = tuple(VARIABLES[:n])
        clauses = tuple(_random_clause(rng, variables, int(rng.choice(widths))) for _ in range(m))
        # Redraw repeated clauses and the unwanted kind; with extreme options that never comes,
        # keep the last draw: the verifier grades either kind correctly.
        if (count_models(variables, clauses) > 0) == want_sat and len(set(clauses)) == m:
            break
    model, _ = dpll(variables, clauses)
    answer = "UNSAT" if model is None else ", ".join(f"{v}={str(model[v]).lower()}" for v in variables)
    prompt = (
        f"Consider these clauses over the variables {', '.join(variables)}; each clause is true when at least one "
        "of its parts is true:\n" + "\n".join(clause_text(c) for c in clauses) + "\n"
        "Find true/false values for the variables that make every clause true, or answer UNSAT if no such "
        "values exist. Give a value for every variable, "
        f"e.g. <answer>{', '.join(f'{v}=?' for v in variables)}</answer> with each ? replaced by true or false, "
        "or <answer>UNSAT</answer>."
    )
    return SatProblem(prompt, answer, variables, clauses, model is not None)


def dpll(variables: tuple[str, ...], clauses: tuple[Clause, ...]) -> tuple[dict[str, bool] | None, list[str]]:
    """A satisfying assignment (unset variables false) or None, and a readable trace of the search."""
    trace: list[str] = []

    def search(assignment: dict[str, bool], depth: int) -> dict[str, bool] | None:
        assignment = dict(assignment)
        while True:
            open_clauses = []
            for clause in clauses:
                if any(assignment.get(v) == pos for v, pos in clause):
                    continue
                free = [(v, pos) for v, pos in clause if v not in assignment]
                if not free:
                    trace.append("  " * depth + f"{clause_text(clause)} is false: contradiction")
                    return None
                open_clauses.append(free)
            if not open_clauses:
                return {v: assignment.get(v, False) for v in variables}
            unit = next((c[0] for c in open_clauses if len(c) == 1), None)
            if unit is None:
                break
            assignment[unit[0]] = unit[1]
            trace.append("  " * depth + f"unit clause forces {unit[0]}={str(unit[1]).lower()}")
        var = next(v for v in variables if v not in assignment)
        for value in (True, False):
            trace.append("  " * depth + f"try {var}={str(value).lower()}")
            result = search({**assignment, var: value}, depth + 1)
            if result is not None:
                return result
        return None

    return search({}, 0), trace


def verify(problem: SatProblem, answer: str) -> Verdict:
    require_plain(answer)
    if answer.strip().strip(".").upper() in {"UNSAT", "UNSATISFIABLE"}:
        if problem.satisfiable:
            return Verdict(0.0, "the formula is satisfiable", "UNSAT")
        return Verdict(1.0, canonical="UNSAT")
    keys = {v: v for v in problem.variables}
    assignment = parse_assignment(answer, keys, TRUTH_WORDS, what="truth value")
    canonical = ", ".join(f"{v}={str(assignment[v]).lower()}" for v in problem.variables)
    if not satisfies(problem.clauses, assignment):
        bad = next(c for c in problem.clauses if not any(assignment[v] == pos for v, pos in c))
        return Verdict(0.0, f"clause {clause_text(bad)} is false", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: SatProblem) -> str:
    """The DPLL search: unit propagation, then case splits in variable order."""
    _, trace = dpll(problem.variables, problem.clauses)
    lines = ["Search with unit propagation, trying true before false:"]
    lines += trace[:MAX_TRACE] + ([f"... ({len(trace) - MAX_TRACE} more steps)"] if len(trace) > MAX_TRACE else [])
    if problem.satisfiable:
        lines.append(f"Every clause is true under {problem.answer} (unset variables taken false).")
    else:
        lines.append("Every branch ends in a false clause, so no assignment works.")
    lines.append(f"Answer: {problem.answer}")
    return "\n".join(lines)


SatEnv = register_task(
    "thinkgym/Satisfiability-v0", family="logic", config=SatConfig, generate=generate, verify=verify, explain=explain
)
