"""Boolean circuit evaluation: given input values and a list of gates, compute some gate outputs.

Prompt: the inputs (``x1 = 1``), then one gate a line in evaluation order
(``g3 = XOR(x1, g2)``; gates AND, OR, XOR, NAND, NOR with two inputs and NOT with one), and the
gates whose values are asked for.
Answer: ``gate=value`` for each asked gate, values 0/1 (true/false also read), separated by
commas, any order, e.g. ``<answer>g4=1, g6=0</answer>``. Reward 1.0 when every asked value is
right, else 0.

Difficulty: 1 = 2 inputs, 3 gates, 1 output (a two-way answer: a coin scores 50%);
2 = 2 inputs, 4 gates, every gate asked (16 possible answers; the most frequent reference answer
of a held-out set is about 10%: the level where a small model's accuracy is not chance, see
``benchmarks/results/learnability_focused.json``); 3 = 3 or 4 inputs, 6 gates, 2 outputs;
4 = 5 inputs, 10 or 11 gates, 3 outputs. (Before 2026-12, levels 3 and 4 were numbered 2 and 3.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thinkgym.envs.levels import Levels, TaskConfig, within
from thinkgym.envs.logic.common import TRUTH_WORDS, parse_assignment
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

MAX_GATES = 60
_BINARY = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "XOR": lambda a, b: a ^ b,
    "NAND": lambda a, b: 1 - (a & b),
    "NOR": lambda a, b: 1 - (a | b),
}


@dataclass(frozen=True)
class CircuitConfig(TaskConfig):
    LEVELS = Levels(
        ("min_inputs", "max_inputs", "min_gates", "max_gates", "outputs"),
        {1: (2, 2, 3, 3, 1), 2: (2, 2, 4, 4, 4), 3: (3, 4, 6, 6, 2), 4: (5, 5, 10, 11, 3)},
    )
    inputs: int | None = None
    """Number of inputs (default: drawn from the difficulty's range)."""
    gates: int | None = None
    """Number of gates (default: drawn from the difficulty's range)."""
    outputs: int | None = None
    """How many gate values are asked for (default from difficulty)."""

    def validate(self) -> None:
        if self.inputs is not None:
            within(self, "inputs", 1, 12)
        if self.gates is not None:
            within(self, "gates", 1, MAX_GATES)
        most = self.gates if self.gates is not None else self.level["min_gates"]
        if not 1 <= self.outputs <= most:
            raise ValueError(f"outputs must be in 1..gates ({most}), got {self.outputs}")


@dataclass(frozen=True)
class Gate:
    name: str
    op: str
    args: tuple[str, ...]

    def text(self) -> str:
        return f"{self.name} = {self.op}({', '.join(self.args)})"


@dataclass(frozen=True)
class CircuitProblem:
    prompt: str
    answer: str
    inputs: tuple[tuple[str, int], ...]
    gates: tuple[Gate, ...]
    asked: tuple[str, ...]


def evaluate(inputs: tuple[tuple[str, int], ...], gates: tuple[Gate, ...]) -> dict[str, int]:
    values = dict(inputs)
    for g in gates:
        args = [values[a] for a in g.args]
        values[g.name] = 1 - args[0] if g.op == "NOT" else _BINARY[g.op](*args)
    return values


def generate(rng: np.random.Generator, config: CircuitConfig) -> CircuitProblem:
    in_lo, in_hi, g_lo, g_hi, _ = config.level.values()
    n_in = config.inputs or int(rng.integers(in_lo, in_hi + 1))
    n_gates = config.gates or int(rng.integers(g_lo, g_hi + 1))
    inputs = tuple((f"x{i}", int(rng.integers(2))) for i in range(1, n_in + 1))
    signals = [name for name, _ in inputs]
    gates: list[Gate] = []
    ops = list(_BINARY) + ["NOT"]
    for i in range(1, n_gates + 1):
        op = ops[int(rng.integers(len(ops)))] if len(signals) >= 2 else "NOT"
        # Prefer recent signals so that the circuit is deep rather than a flat row of gates.
        weights = np.arange(1, len(signals) + 1, dtype=float) ** 2
        picks = rng.choice(len(signals), size=1 if op == "NOT" else 2, replace=False, p=weights / weights.sum())
        gates.append(Gate(f"g{i}", op, tuple(signals[int(k)] for k in picks)))
        signals.append(f"g{i}")
    values = evaluate(inputs, tuple(gates))
    # Always ask for the final gate, the circuit's real output, plus others drawn from the rest.
    others = rng.choice(n_gates - 1, size=config.outputs - 1, replace=False) if config.outputs > 1 else []
    asked = sorted([gates[int(k)].name for k in others] + [gates[-1].name], key=lambda s: int(s[1:]))
    answer = ", ".join(f"{g}={values[g]}" for g in asked)
    prompt = (
        "A boolean circuit has these inputs:\n"
        + "\n".join(f"{name} = {v}" for name, v in inputs)
        + "\nand these gates, evaluated in order (AND, OR, XOR, NAND, NOR take two inputs, NOT takes one):\n"
        + "\n".join(g.text() for g in gates)
        + f"\nWhat {'is the value' if len(asked) == 1 else 'are the values'} of {', '.join(asked)}? Answer with name=value pairs (values 0 or 1) "
        f"separated by commas, e.g. <answer>{', '.join(f'{g}=?' for g in asked)}</answer> with each ? replaced by 0 or 1."
    )
    return CircuitProblem(prompt, answer, inputs, tuple(gates), tuple(asked))


def verify(problem: CircuitProblem, answer: str) -> Verdict:
    keys = {g.lower(): g for g in problem.asked}
    got = parse_assignment(answer, keys, {k: int(v) for k, v in TRUTH_WORDS.items()}, what="value 0 or 1")
    canonical = ", ".join(f"{g}={got[g]}" for g in problem.asked)
    values = evaluate(problem.inputs, problem.gates)
    wrong = [g for g in problem.asked if got[g] != values[g]]
    if wrong:
        return Verdict(0.0, f"wrong value for {', '.join(wrong)}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: CircuitProblem) -> str:
    values = evaluate(problem.inputs, problem.gates)
    lines = ["Evaluate the gates in order:"]
    for g in problem.gates:
        args = ", ".join(str(values[a]) for a in g.args)
        lines.append(f"{g.name} = {g.op}({args}) = {values[g.name]}")
    lines.append(f"So {problem.answer}")
    return "\n".join(lines)


CircuitEnv = register_task(
    "thinkgym/Circuit-v0", family="logic", config=CircuitConfig, generate=generate, verify=verify, explain=explain
)
