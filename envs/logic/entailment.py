"""Propositional entailment: do the premises logically imply the conclusion?

Prompt: premises and a conclusion built from variables with NOT, AND, OR, -> (if ... then) and
<-> (if and only if); every binary connective inside a formula is parenthesised.
Answer: ``valid`` when every assignment that makes all premises true makes the conclusion true;
otherwise ``invalid:`` followed by a counterexample, an assignment of every variable that
makes all premises true and the conclusion false, e.g.
``<answer>invalid: p=true, q=false</answer>`` or ``<answer>valid</answer>``. Reward 1.0 for
``valid`` on a valid argument or for a checked counterexample (any one; it is evaluated), else
0 (also for a bare ``invalid``: the counterexample is the proof).

Difficulty: 1 = 2 variables, 1 or 2 premises of depth 1; 2 = 3 variables, 2 or 3 premises of
depth up to 2; 3 = 4 variables, 3 or 4 premises of depth up to 3. Half the arguments are valid.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from thinkgym.envs.answer_text import require_plain
from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.logic.common import TRUTH_WORDS, parse_assignment
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

VARIABLES = "pqrs"
_BINARY = ("and", "or", "imp", "iff")
_SYMBOL = {"and": "AND", "or": "OR", "imp": "->", "iff": "<->"}

Formula = tuple  # ("var", name) | ("not", f) | (op, f, g) for op in _BINARY


@dataclass(frozen=True)
class EntailmentConfig(TaskConfig):
    LEVELS = Levels(
        ("variables", "min_premises", "max_premises", "depth"),
        {1: (2, 1, 2, 1), 2: (3, 2, 3, 2), 3: (4, 3, 4, 3)},
    )
    valid_fraction: float = 0.5
    """Probability that a generated argument is valid."""

    def validate(self) -> None:
        within(self, "valid_fraction", 0.0, 1.0)


@dataclass(frozen=True)
class EntailmentProblem:
    prompt: str
    answer: str
    variables: tuple[str, ...]
    premises: tuple[Formula, ...]
    conclusion: Formula


def holds(f: Formula, env: dict[str, bool]) -> bool:
    op = f[0]
    if op == "var":
        return env[f[1]]
    if op == "not":
        return not holds(f[1], env)
    a, b = holds(f[1], env), holds(f[2], env)
    return {"and": a and b, "or": a or b, "imp": (not a) or b, "iff": a == b}[op]


def render(f: Formula, top: bool = True) -> str:
    if f[0] == "var":
        return f[1]
    if f[0] == "not":
        return "NOT " + render(f[1], top=False)
    text = f"{render(f[1], False)} {_SYMBOL[f[0]]} {render(f[2], False)}"
    return text if top else f"({text})"


def rows(variables: tuple[str, ...]) -> list[dict[str, bool]]:
    return [dict(zip(variables, values)) for values in itertools.product([True, False], repeat=len(variables))]


def countermodels(variables: tuple[str, ...], premises: tuple[Formula, ...], conclusion: Formula) -> list[dict[str, bool]]:
    """Assignments that make every premise true and the conclusion false (truth-table check)."""
    return [r for r in rows(variables) if all(holds(p, r) for p in premises) and not holds(conclusion, r)]


def _random_formula(rng: np.random.Generator, variables: tuple[str, ...], depth: int) -> Formula:
    if depth == 0 or rng.random() < 0.25:
        leaf = ("var", variables[int(rng.integers(len(variables)))])
        return ("not", leaf) if rng.random() < 0.3 else leaf
    if rng.random() < 0.15:
        return ("not", _random_formula(rng, variables, depth - 1))
    op = _BINARY[int(rng.integers(len(_BINARY)))]
    while True:  # no "p AND p" or "p OR NOT p": a connective between a formula and itself is noise
        a, b = _random_formula(rng, variables, depth - 1), _random_formula(rng, variables, depth - 1)
        if a != b and a != ("not", b) and b != ("not", a):
            return (op, a, b)


def _variables_of(f: Formula) -> set[str]:
    return {f[1]} if f[0] == "var" else set().union(*(_variables_of(g) for g in f[1:]))


def generate(rng: np.random.Generator, config: EntailmentConfig) -> EntailmentProblem:
    n, p_lo, p_hi, depth = config.level.values()
    variables = tuple(VARIABLES[:n])
    want_valid = bool(rng.random() < config.valid_fraction)
    table = rows(variables)
    for _ in range(5000):
        premises = tuple(_random_formula(rng, variables, depth) for _ in range(int(rng.integers(p_lo, p_hi + 1))))
        conclusion = _random_formula(rng, variables, depth)
        if conclusion in premises or len(set(premises)) < len(premises):
            continue  # restating a premise, or a premise twice, is no argument
        if any(all(holds(f, r) for r in table) for f in (*premises, conclusion)):
            continue  # a tautology says nothing
        if set().union(*map(_variables_of, (*premises, conclusion))) != set(variables):
            continue
        if not any(all(holds(p, r) for p in premises) for r in table):
            continue  # inconsistent premises entail everything: valid for a trivial reason
        counter = countermodels(variables, premises, conclusion)
        if (not counter) == want_valid:
            break
    else:
        raise RuntimeError("could not draw an argument of the wanted kind")
    answer = "valid" if not counter else "invalid: " + _assignment_text(variables, counter[0])
    prompt = (
        "Premises:\n" + "\n".join(f"{i}. {render(p)}" for i, p in enumerate(premises, 1))
        + f"\nConclusion: {render(conclusion)}\n"
        "Here -> means 'if ... then', <-> means 'if and only if'. Is the argument valid, that is, is the conclusion "
        "true under every assignment of true/false to the variables that makes all premises true? "
        "Answer valid, or answer invalid followed by a counterexample (values for every variable that make all "
        f"premises true and the conclusion false), e.g. <answer>valid</answer> or "
        f"<answer>invalid: {', '.join(f'{v}=?' for v in variables)}</answer> with each ? replaced by true or false."
    )
    return EntailmentProblem(prompt, answer, variables, premises, conclusion)


def _assignment_text(variables: tuple[str, ...], env: dict[str, bool]) -> str:
    return ", ".join(f"{v}={str(env[v]).lower()}" for v in variables)


_VERDICT_RE = re.compile(r"^\s*(valid|invalid|not\s+valid)\b\s*[:,;.\-]?\s*(.*)$", re.IGNORECASE | re.DOTALL | re.ASCII)


def verify(problem: EntailmentProblem, answer: str) -> Verdict:
    require_plain(answer)
    match = _VERDICT_RE.match(answer)
    if not match:
        raise InvalidAnswer("start the answer with valid or invalid")
    if match.group(1).lower() == "valid":
        if match.group(2).strip():
            raise InvalidAnswer("a valid answer takes no assignment")
        if countermodels(problem.variables, problem.premises, problem.conclusion):
            return Verdict(0.0, "the argument is invalid", "valid")
        return Verdict(1.0, canonical="valid")
    if not match.group(2).strip():
        return Verdict(0.0, "invalid needs a counterexample assignment", "invalid")
    env = parse_assignment(match.group(2), {v: v for v in problem.variables}, TRUTH_WORDS, what="truth value")
    canonical = "invalid: " + _assignment_text(problem.variables, env)
    false_premise = next((i for i, p in enumerate(problem.premises, 1) if not holds(p, env)), None)
    if false_premise is not None:
        return Verdict(0.0, f"premise {false_premise} is false under the given assignment", canonical)
    if holds(problem.conclusion, env):
        return Verdict(0.0, "the conclusion is true under the given assignment", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: EntailmentProblem) -> str:
    """The truth table, restricted to the rows where every premise is true."""
    lines = [f"Check all {2 ** len(problem.variables)} assignments; keep those that make every premise true:"]
    for r in rows(problem.variables):
        if all(holds(p, r) for p in problem.premises):
            verdict = "true" if holds(problem.conclusion, r) else "FALSE"
            lines.append(f"{_assignment_text(problem.variables, r)}: conclusion {verdict}")
    if problem.answer == "valid":
        lines.append("The conclusion is true in every such row, so the argument is valid.")
    else:
        lines.append("A row with all premises true and the conclusion false is a counterexample.")
    lines.append(f"Answer: {problem.answer}")
    return "\n".join(lines)


EntailmentEnv = register_task(
    "thinkgym/Entailment-v0", family="logic", config=EntailmentConfig, generate=generate, verify=verify, explain=explain
)
