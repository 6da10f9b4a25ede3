"""Number theory: gcd, lcm, modular arithmetic and prime factorisation.

Prompt: one question, e.g. ``Find gcd(84, 120).``, ``Compute 7^45 mod 11.`` or ``Write 360 as a
product of primes.``, with the answer format.
Answer: an integer (``<answer>12</answer>``); for factorisation a product of primes and prime
powers in any order, e.g. ``<answer>2^3 * 3^2 * 5</answer>`` (``2*2*2*3*3*5`` and
``2^{3} \\cdot 3^{2} \\cdot 5`` also read). Reward 1.0 when correct. An integer must be written
as one (``84 - 72`` or ``gcd(84, 120)`` is not an answer); a factorisation must be written with
primes only: writing the number itself, or a composite factor, scores 0. The answer is never
one of the question's numbers nor the format example.

Difficulty: 1 = numbers below 100 and small moduli; 2 = below 1000; 3 = below 100000 and
exponents up to 1000 in the modular questions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from thinkgym.envs.levels import Levels, TaskConfig
from thinkgym.envs.math.common import pick, read_number
from thinkgym.envs.registry import register_task
from thinkgym.rewards.mathparse import parse_expression
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

KINDS = ("gcd", "lcm", "mod", "factor")


@dataclass(frozen=True)
class NumberTheoryConfig(TaskConfig):
    LEVELS = Levels(("top", "max_exponent"), {1: (100, 20), 2: (1000, 100), 3: (100_000, 1000)})
    """The largest number, the largest exponent."""
    kinds: tuple[str, ...] = KINDS
    """Which questions to ask, a subset of ("gcd", "lcm", "mod", "factor")."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", tuple(self.kinds))  # a list (from YAML) becomes a tuple: hashable
        super().__post_init__()

    def validate(self) -> None:
        if not self.kinds or not set(self.kinds) <= set(KINDS):
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {self.kinds!r}")


@dataclass(frozen=True)
class NumberTheoryProblem:
    prompt: str
    answer: str
    kind: str
    numbers: tuple[int, ...]
    value: int


EXAMPLES = {"gcd": 12, "lcm": 12, "mod": 12, "factor": 120}  # the values of the format line's answers


def generate(rng: np.random.Generator, config: NumberTheoryConfig) -> NumberTheoryProblem:
    """Draw until the answer is not one of the question's numbers (``gcd(12, 36)``, ``5^1 mod 7``)
    and not the format example, so copying a number from the prompt never scores."""
    while True:
        problem = _draw(rng, config)
        if problem.value != EXAMPLES[problem.kind] and (problem.kind == "factor" or problem.value not in problem.numbers):
            return problem


def _draw(rng: np.random.Generator, config: NumberTheoryConfig) -> NumberTheoryProblem:
    top, max_exp = config.level.values()
    kind = pick(rng, config.kinds)
    fmt = "Answer with an integer, e.g. <answer>12</answer>."
    if kind in ("gcd", "lcm"):
        common = int(rng.integers(1, max(2, int(math.isqrt(top)))))
        a, b = (common * int(rng.integers(1, max(2, top // common))) for _ in range(2))
        value = math.gcd(a, b) if kind == "gcd" else math.lcm(a, b)
        name = "greatest common divisor" if kind == "gcd" else "least common multiple"
        return NumberTheoryProblem(f"Find the {name} {kind}({a}, {b}).\n{fmt}", str(value), kind, (a, b), value)
    if kind == "mod":
        base, exp = int(rng.integers(2, top)), int(rng.integers(2, max_exp + 1))
        modulus = int(rng.integers(3, min(top, 1000)))
        value = pow(base, exp, modulus)
        prompt = f"Compute {base}^{exp} mod {modulus}, the remainder of {base}^{exp} divided by {modulus}.\n{fmt}"
        return NumberTheoryProblem(prompt, str(value), kind, (base, exp, modulus), value)
    n = int(rng.integers(12, top * 4))
    while sympy.isprime(n):
        n += 1
    answer = _factor_text(n)
    prompt = (
        f"Write {n} as a product of prime numbers.\n"
        "Answer with the prime factorisation using ^ for repeated factors, e.g. <answer>2^3 * 3 * 5</answer>."
    )
    return NumberTheoryProblem(prompt, answer, kind, (n,), n)


def _factor_text(n: int) -> str:
    return " * ".join(f"{p}^{e}" if e > 1 else str(p) for p, e in sorted(sympy.factorint(n).items()))


def verify(problem: NumberTheoryProblem, answer: str) -> Verdict:
    if problem.kind != "factor":
        value = int(read_number(answer, integer=True))
        if value == problem.value:
            return Verdict(1.0, canonical=str(value))
        return Verdict(0.0, f"{value} is not the {problem.kind} asked for", str(value))
    factors = _prime_factors(parse_expression(answer, evaluate=False))
    canonical = " * ".join(f"{p}^{e}" if e > 1 else str(p) for p, e in sorted(factors.items()))
    composite = [p for p in factors if not sympy.isprime(p)]
    if composite:
        return Verdict(0.0, f"{composite[0]} is not a prime", canonical)
    if math.prod(p**e for p, e in factors.items()) != problem.value:
        return Verdict(0.0, f"the product is not {problem.value}", canonical)
    return Verdict(1.0, canonical=canonical)


def _prime_factors(expr: sympy.Expr) -> dict[int, int]:
    """{base: exponent} of a product of integer powers as written; raises InvalidAnswer otherwise."""
    factors: dict[int, int] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.is_Mul:
            stack.extend(node.args)
            continue
        base, exp = node.args if node.is_Pow else (node, sympy.Integer(1))
        if not (base.is_Integer and exp.is_Integer and 1 < int(base) < 10**12 and 0 < int(exp) <= 64):
            raise InvalidAnswer("write the factorisation as a product of primes and prime powers")
        factors[int(base)] = factors.get(int(base), 0) + int(exp)
        if len(factors) > 64:
            raise InvalidAnswer("too many factors")
    return factors


def explain(problem: NumberTheoryProblem) -> str:
    if problem.kind == "gcd":
        a, b = problem.numbers
        lines = ["Euclid's algorithm:"]
        while b:
            lines.append(f"{a} = {a // b} * {b} + {a % b}")
            a, b = b, a % b
        return "\n".join(lines + [f"The gcd is {problem.answer}."])
    if problem.kind == "lcm":
        a, b = problem.numbers
        g = math.gcd(a, b)
        return f"gcd({a}, {b}) = {g}, so lcm = {a} * {b} / {g} = {problem.answer}."
    if problem.kind == "mod":
        base, exp, m = problem.numbers
        lines = [f"Square and multiply modulo {m}, reading the exponent {exp} in binary ({exp:b}):"]
        result, square = 1, base % m
        for bit in reversed(f"{exp:b}"):
            if bit == "1":
                result = result * square % m
            square = square * square % m
        lines.append(f"{base}^{exp} mod {m} = {result}.")
        return "\n".join(lines + [f"The remainder is {problem.answer}."])
    n = problem.numbers[0]
    lines, rest = [f"Divide {n} by primes in increasing order:"], n
    for p, e in sorted(sympy.factorint(n).items()):
        for _ in range(e):
            lines.append(f"{rest} = {p} * {rest // p}")
            rest //= p
    return "\n".join(lines + [f"So {n} = {problem.answer}"])


NumberTheoryEnv = register_task(
    "thinkgym/NumberTheory-v0", family="math", config=NumberTheoryConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
