"""Hostile answers to the math task envs (issue 15, classes 1, 2, 3, 6 and the red-team list).

For each env, at levels 1 and 3 over several seeds, answers a lazy or devious policy would try
(the prompt's expression echoed back, unevaluated arithmetic, an unreduced fraction, the
prompt's polynomial plus a negligible term, two values for one unknown, decimals near the
value, the format example, numbers copied from the prompt, every candidate listed) must score
0, and each is shown wrong (or not in the asked form) *here*, by an independent computation:
Fractions over an ``ast`` walk of the generated expression, sympy polynomials, ``math.gcd``,
brute-force substitution, never the env's verifier. Correct alternative forms still score 1.
The generators are checked for degenerate problems over many seeds, again with sympy.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from fractions import Fraction

import gymnasium as gym
import pytest
import sympy

import thinkgym  # noqa: F401  (registers the envs)

X, Y = sympy.symbols("x y")
SEEDS = (0, 1, 2, 3, 4)
LEVELS = (1, 3)
GRID = [(level, seed) for level in LEVELS for seed in SEEDS]
INT_OR_FRACTION = re.compile(r"-?\d+(?:/\d+)?")


def make(name: str, level: int, seed: int):
    env = gym.make(f"thinkgym/{name}-v0", disable_env_checker=True, difficulty=level).unwrapped
    env.reset(seed=seed)
    return env, env.problem


def score(env, text: str) -> float:
    return env.score(f"<think>I worked it out.</think><answer>{text}</answer>")["reward_components"]["correctness"]


def zero(env, texts) -> None:
    hits = [t for t in texts if score(env, t) != 0.0]
    assert not hits, f"hostile answers earned credit: {hits}"


def one(env, texts) -> None:
    misses = [t for t in texts if score(env, t) != 1.0]
    assert not misses, f"correct answers lost credit: {misses}"


def show(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def fraction_eval(text: str) -> Fraction:
    """The value of a generated + - * / expression of integers, with Fractions (no eval)."""
    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return Fraction(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op)) if not isinstance(
                node.op, ast.Div) else a / b
        raise ValueError(ast.dump(node))

    return walk(ast.parse(text, mode="eval").body)


def operands_of(expression: str) -> list[int]:
    """The integers of a generated expression, negative ones written ``(-5)``."""
    return [int(n) for n in re.findall(r"(?<=\()-\d+|\d+", expression)]


def prompt_numbers(prompt: str) -> set[Fraction]:
    return {Fraction(n) for n in re.findall(r"\d+(?:/\d+)?", prompt)}


# -- class 1: a computed value, not the work ----------------------------------------------------

@pytest.mark.parametrize("level,seed", GRID)
def test_fraction_arithmetic_wants_one_fraction_in_lowest_terms(level, seed):
    env, p = make("FractionArithmetic", level, seed)
    value = fraction_eval(p.expression)
    assert value == p.value
    n, d = value.numerator, value.denominator
    hostile = [p.expression, f"{show(value)} + 0", f"{2 * n}/{2 * d}", f"0 + {show(value)}", f"({p.expression})",
               f"{show(value)} or {show(value + 1)}", f"{show(value + 1)}, {show(value)}", "-7/12"]
    if d > 1 and abs(n) > d:  # a mixed number reads as a sum
        hostile.append(f"{n // d if n > 0 else -(-n // d)}\\frac{{{abs(n) % d}}}{{{d}}}")
    if (d & (d - 1)) == 0 or d in (5, 10, 20, 25, 40, 50):  # a terminating decimal: the task asks for a fraction
        hostile.append(str(float(value)))
    for text in hostile:  # independent: not one integer or one reduced fraction, or not the value
        written = text.replace(" ", "")
        single = INT_OR_FRACTION.fullmatch(written)
        assert not single or Fraction(written) != value or math.gcd(*map(int, written.lstrip("-").split("/"))) != 1 \
            or written == "-7/12"
    assert value != Fraction(-7, 12)
    zero(env, hostile)
    one(env, [p.answer, f"\\frac{{{n}}}{{{d}}}", f"The answer is {p.answer}.", f"\\boxed{{{p.answer}}}",
              f"{-n}/({-d})" if d > 1 else p.answer])


@pytest.mark.parametrize("level,seed", GRID)
def test_arithmetic_wants_the_integer(level, seed):
    env, p = make("Arithmetic", level, seed)
    value = fraction_eval(p.expression.replace("(", " (").strip())
    assert value == p.value
    numbers = operands_of(p.expression)
    hostile = [p.expression, f"{p.value - 1} + 1", f"{p.value} + 0", f"{p.value} * 1", "-42",
               f"{p.value + 1} or {p.value}"] + [str(n) for n in set(numbers)]
    assert all(Fraction(n) != value for n in numbers) and value != -42
    zero(env, hostile)
    one(env, [p.answer, f"{p.value:,}", f"= {p.value}", f"\\boxed{{{p.value}}}", f"{p.value}.0"])


@pytest.mark.parametrize("level,seed", GRID)
def test_word_problem_wants_the_exact_number(level, seed):
    env, p = make("WordProblem", level, seed)
    v = p.value
    story = p.prompt.split("\nAnswer")[0]
    numbers = prompt_numbers(story)
    assert v not in numbers and v != 12
    hostile = [f"{show(v)}.0000007" if v.denominator == 1 else f"{float(v) + 1e-7}", f"{show(v - 1)} + 1",
               f"{2 * v.numerator}/{2 * v.denominator}", "12", f"{show(v)} or {show(v + 1)}", f"{show(v * 100)}%",
               ", ".join(show(n) for n in sorted(numbers))] + [show(n) for n in numbers]
    if v.denominator == 3:  # a rounded decimal of a third
        hostile.append(f"{float(v):.6f}")
    zero(env, hostile)
    correct = [p.answer, f"${p.answer}", f"The answer is {p.answer}.", f"\\boxed{{{p.answer}}}"]
    if 10**6 % v.denominator == 0:  # an exact decimal is fine
        correct.append(str(float(v)))
    one(env, correct)


@pytest.mark.parametrize("level,seed", GRID)
def test_number_theory_wants_the_number(level, seed):
    env, p = make("NumberTheory", level, seed)
    if p.kind == "factor":
        (n,) = p.numbers
        truth = sympy.factorint(n)
        assert math.prod(q**e for q, e in truth.items()) == n and n != 120
        composite = min(q for q in truth) ** 2 if sum(truth.values()) >= 2 else None
        hostile = [str(n), f"1 * {n}", "2^3 * 3 * 5"]
        if composite and n % composite == 0:
            hostile.append(f"{composite} * {n // composite}")
        zero(env, hostile)
        one(env, [p.answer, " * ".join(str(q) for q, e in sorted(truth.items(), reverse=True) for _ in range(e))])
        return
    truth = {"gcd": lambda a, b: math.gcd(a, b), "lcm": lambda a, b: math.lcm(a, b),
             "mod": lambda b, e, m: pow(b, e, m)}[p.kind](*p.numbers)
    assert truth == p.value and truth not in p.numbers and truth != 12
    hostile = [f"{truth + 1} - 1", f"{truth} + 0", "12", f"{truth} or {truth + 1}", f"{truth}.0000007",
               ", ".join(map(str, p.numbers))] + [str(n) for n in p.numbers]
    if p.kind != "mod":
        hostile.append(f"{p.kind}({p.numbers[0]}, {p.numbers[1]})")
    zero(env, hostile)
    one(env, [p.answer, f"The answer is {truth}.", f"\\boxed{{{truth}}}"])


@pytest.mark.parametrize("level,seed", GRID)
def test_polynomial_roots_want_exact_simplified_roots(level, seed):
    env, p = make("PolynomialRoots", level, seed)
    poly = sympy.Poly(p.polynomial, X)
    real = sorted(set(sympy.real_roots(poly)), key=float)
    assert len(real) == len(p.roots) and all(sympy.simplify(a - b) == 0 for a, b in zip(real, p.roots))
    texts = [str(r).replace("**", "^") for r in p.roots]
    stray = next(k for k in range(7, 99) if poly.eval(k) != 0)
    hostile = [", ".join(texts + [str(stray)]), ", ".join(texts[:-1]) or str(stray), "0",
               ", ".join(str(k) for k in range(-6, 7))]
    if any(not r.is_Rational for r in p.roots):  # decimals of irrational roots are not the roots
        hostile.append(", ".join(f"{float(r):.12f}" for r in p.roots))
    integer = next((r for r in p.roots if r.is_Integer and r != 0), None)
    if integer is not None:  # an integer root written as work still to do
        rest = [t for r, t in zip(p.roots, texts) if r != integer]
        hostile += [", ".join(rest + [f"{2 * integer}/2"]), ", ".join(rest + [f"{integer - 1} + 1"]),
                    ", ".join(rest + [f"sqrt({integer ** 2})"])]
    zero(env, hostile)
    one(env, [p.answer, ", ".join(reversed(texts)), " or ".join(f"x = {t}" for t in texts),
              "\\{" + ", ".join(texts) + "\\}"])


def test_polynomial_roots_radical_forms():
    from thinkgym.envs.math.polynomial_roots import PolynomialRootsProblem, verify

    roots = (-4 - sympy.sqrt(5), -4 + sympy.sqrt(5), sympy.Integer(-1))
    poly = sympy.expand((X + 1) * ((X + 4) ** 2 - 5))
    assert all(sympy.expand(poly.subs(X, r)) == 0 for r in roots)
    p = PolynomialRootsProblem("", "", poly, roots)
    for good in ("-4 - sqrt(5), -4 + sqrt(5), -1", "\\frac{-8 \\pm \\sqrt{20}}{2}, -1", "x = -4 \\pm \\sqrt{5} or x = -1"):
        assert verify(p, good).score == 1.0, good
    near = sympy.Rational(10**40 + 1, 10**40)  # -1 + 1e-40 away from the root -1 (and so on)
    assert sympy.expand(poly.subs(X, -4 + sympy.sqrt(5) + near - 1)) != 0
    for bad in ("-4 - sqrt(5), -4 + sqrt(5) + 1/10000000000000000000000000000000000000000, -1",
                "-6.2360679774997896964, -1.7639320225002103036, -1", "-4 - sqrt(5), -4 + sqrt(5), -1, 4 + sqrt(5)"):
        assert verify(p, bad).score == 0.0, bad


# -- class 2: the prompt's polynomial plus a negligible term; a factorisation of exactly it -------

def _text(expr: sympy.Expr) -> str:
    return sympy.sstr(expr).replace("**", "^")


@pytest.mark.parametrize("level,seed", GRID)
def test_factor_wants_exactly_the_polynomial_in_irreducible_factors(level, seed):
    env, p = make("Factor", level, seed)
    poly = sympy.Poly(p.polynomial, X)
    content, factors = sympy.factor_list(p.polynomial)
    assert sum(k for _, k in factors) >= 2  # never irreducible: the polynomial itself is never right
    tiny = sympy.Rational(1, 10**40)
    assert sympy.Poly(p.polynomial + tiny, X) != poly and sympy.Poly(p.factored + tiny, X) != poly
    first, rest = factors[0][0], sympy.Mul(*(f**k for f, k in factors[1:])) * content * factors[0][0] ** (factors[0][1] - 1)
    partial = sympy.expand(rest)  # (first)(everything else multiplied out): reducible when degree > 1
    hostile = [_text(p.polynomial), f"{_text(p.polynomial)} + 10^(-40)", f"{p.answer} + 0.0000000001",
               f"{p.answer} + 10^(-40)", f"({_text(first)})*({_text(partial)})" if sympy.degree(partial, X) > 1 else "x",
               f"1.0*{p.answer}", f"({_text(first)})^2*({_text(partial)})/({_text(first)})",
               "2(x - 1)^2 (x + 3)"]
    assert p.polynomial != sympy.expand(2 * (X - 1) ** 2 * (X + 3))
    zero(env, hostile)
    pieces = [f"({_text(f)})^{k}" if k > 1 else f"({_text(f)})" for f, k in factors]
    one(env, [p.answer, f"{content}*" + "*".join(reversed(pieces)), sympy.latex(p.factored)])


# -- class 3: no degenerate problems -------------------------------------------------------------

@pytest.mark.parametrize("level", (1, 2, 3))
def test_expand_problems_are_never_degenerate(level):
    env = gym.make("thinkgym/Expand-v0", disable_env_checker=True, difficulty=level).unwrapped
    for seed in range(60):
        env.reset(seed=seed)
        p = env.problem
        factors = [f.base if f.is_Pow else f for f in sympy.Mul.make_args(p.product)]
        assert len(factors) >= 2 or sympy.Mul.make_args(p.product)[0].is_Pow, p.product
        for f in factors:
            assert len(sympy.Add.make_args(sympy.expand(f))) >= 2, (seed, p.product)  # not 0, not a monomial
        assert p.expanded == sympy.expand(p.product) != 0
        assert p.expanded != sympy.expand((2 * X + 3) * (X - 1) ** 2)


@pytest.mark.parametrize("level,seed", GRID)
def test_expand_wants_the_collected_sum_of_monomials(level, seed):
    env, p = make("Expand", level, seed)
    gens = sorted(p.expanded.free_symbols | {X}, key=str)
    target = sympy.Poly(p.expanded, *gens)
    vanishing = sympy.expand((X - 1) * (X - 2) * (X - 3))  # zero at small positive sample points
    g = sympy.gcd_terms(p.expanded)
    hostile = [_text(p.product), f"{p.answer} + 10^(-40)", f"{p.answer} + 0", f"{p.answer} + x - x",
               _text(sympy.expand(p.expanded + vanishing)), f"1.0*({p.answer})"]
    assert sympy.Poly(p.expanded + vanishing, *gens) != target
    if g != p.expanded and not g.is_Add:  # a common factor taken out: equal, not expanded
        hostile.append(_text(g))
    zero(env, hostile)
    terms = sympy.Add.make_args(p.expanded)
    one(env, [p.answer, sympy.latex(p.expanded), " + ".join(_text(t) for t in reversed(terms))])


@pytest.mark.parametrize("name", ["FractionArithmetic", "Arithmetic", "Factor", "LinearSystem", "NumberTheory",
                                  "PolynomialRoots", "Countdown", "WordProblem"])
@pytest.mark.parametrize("level", (1, 2, 3))
def test_generators_pose_no_trivial_problem(name, level):
    env = gym.make(f"thinkgym/{name}-v0", disable_env_checker=True, difficulty=level).unwrapped
    for seed in range(40):
        env.reset(seed=seed)
        p = env.problem
        if name == "FractionArithmetic":
            v = fraction_eval(p.expression)
            operands = [fraction_eval(t) for t in re.findall(r"-?\d+/\d+", p.expression)]
            assert v == p.value and v != 0 and v not in operands and v != Fraction(-7, 12)
        elif name == "Arithmetic":
            assert fraction_eval(p.expression) == p.value != -42 and p.value not in operands_of(p.expression)
        elif name == "Factor":
            assert sum(k for _, k in sympy.factor_list(p.polynomial)[1]) >= 2
        elif name == "LinearSystem":
            matrix = sympy.Matrix(p.matrix)
            assert matrix.det() != 0 and list(matrix * sympy.Matrix(p.solution)) == list(p.rhs)
            assert not re.search(r"^[xyz] = ", p.prompt, re.M)  # no line states a value
            assert all(sum(1 for a in row if a) >= 2 for row in p.matrix) or level == 1
        elif name == "NumberTheory":
            assert p.kind == "factor" or p.value not in p.numbers
        elif name == "PolynomialRoots":
            assert any(r != 0 for r in p.roots)
            assert all(sympy.expand(p.polynomial.subs(X, r)) == 0 for r in p.roots)
        elif name == "Countdown":
            assert p.target not in p.numbers
            assert p.target != 16 or Counter([3, 5, 2]) - Counter(p.numbers)
        elif name == "WordProblem":
            assert p.value not in prompt_numbers(p.prompt.split("\nAnswer")[0]) and p.value != 12


# -- class 6 and LinearSystem forms ------------------------------------------------------------

@pytest.mark.parametrize("level,seed", GRID)
def test_linear_system_one_value_per_unknown(level, seed):
    env, p = make("LinearSystem", level, seed)
    names = "xyz"[: len(p.solution)]
    sol = [Fraction(v) for v in p.solution]

    def satisfies(values) -> bool:  # brute substitution into the equations
        return all(sum(a * v for a, v in zip(row, values)) == r for row, r in zip(p.matrix, p.rhs))

    assert satisfies(sol) and not satisfies([sol[0] + 1] + sol[1:])
    named = [f"{n} = {show(v)}" for n, v in zip(names, sol)]
    wrong_first = f"x = {show(sol[0] + 1)}"
    hostile = [
        ", ".join([wrong_first, named[0]] + named[1:]),  # two values for x, the right one last
        ", ".join([named[0], wrong_first] + named[1:]),
        ", ".join(named + [named[0]]),  # x given twice (documented: 0)
        f"{wrong_first} or {named[0]}" + "".join(", " + t for t in named[1:]),
        ", ".join(named[1:]) if len(names) > 1 else "y = 1",  # a missing unknown
        "(" + ", ".join(f"{show(v)}.0000007" for v in sol) + ")" if len(sol) > 1 else f"{show(sol[0])}.0000007",
        "(" + ", ".join([f"{show(sol[0] - 1)} + 1"] + [show(v) for v in sol[1:]]) + ")" if len(sol) > 1
        else f"{show(sol[0] - 1)} + 1",
        "\\{" + ", ".join(show(v) for v in sol) + "\\}" if len(sol) > 1 else f"{show(sol[0])} or {show(sol[0] + 1)}",
        "(" + ", ".join(["1", "-2", "3"][: len(sol)]) + ")" if len(sol) > 1 else "-3",
    ]
    example = [Fraction(v) for v in (1, -2, 3)[: len(sol)]] if len(sol) > 1 else [Fraction(-3)]
    assert not satisfies(example)
    zero(env, hostile)
    tuple_text = "(" + ", ".join(show(v) for v in sol) + ")" if len(sol) > 1 else show(sol[0])
    one(env, [p.answer, tuple_text, ", ".join(reversed(named)), ", ".join(f"{n} = {show(v)}.0" for n, v in zip(names, sol))])


# -- Countdown: its own rules -------------------------------------------------------------------

@pytest.mark.parametrize("level,seed", GRID)
def test_countdown_hostile_answers(level, seed):
    env, p = make("Countdown", level, seed)
    assert fraction_eval(p.answer) == p.target
    used = Counter(int(n) for n in re.findall(r"\d+", p.answer))
    assert not used - Counter(p.numbers)
    first = re.findall(r"\d+", p.answer)[0]
    hostile = [str(p.target), ", ".join(map(str, p.numbers)), f"{p.answer} = {p.target + 1}",
               f"{p.answer} + {first} - {first}" if Counter(p.numbers)[int(first)] < used[int(first)] + 2 else "1/0",
               f"{p.answer} + 0", f"{p.answer} * 1" if 1 not in p.numbers else f"{p.answer} * 0",
               f"{p.answer} or {p.target}", "(3 + 5) * 2", f"{p.answer}, {p.answer}", f"{p.target}.0"]
    assert p.target != 16 or Counter([3, 5, 2]) - Counter(p.numbers)
    zero(env, hostile)
    one(env, [p.answer, f"{p.answer} = {p.target}", p.answer.replace("*", "\\times"), f"\\boxed{{{p.answer}}}"])


# -- WordProblem levels -------------------------------------------------------------------------

def test_word_problem_levels_pose_different_harder_problems():
    for seed in range(40):
        problems = [make("WordProblem", level, seed)[1] for level in (1, 2, 3)]
        assert len({p.prompt for p in problems}) == 3, seed
        assert len(problems[0].steps) < len(problems[1].steps) < len(problems[2].steps), seed


# -- class 5/8/10 through the shared reader, in these tasks -------------------------------------

@pytest.mark.parametrize("name", ["Arithmetic", "FractionArithmetic", "WordProblem", "NumberTheory", "LinearSystem",
                                  "PolynomialRoots"])
def test_negated_hedged_and_near_answers_score_zero(name):
    for level, seed in GRID:
        env, p = make(name, level, seed)
        a = p.answer
        zero(env, [f"{a} is not the answer", f"wrong: {a}", f"{a} or more", f"not {a}", f"{a} is wrong, 1 is right"])
        if INT_OR_FRACTION.fullmatch(a) and "/" not in a:  # an integer reference needs the integer
            zero(env, [f"{a}.0000007", f"{a}.000000001"])


def test_dataset_percent_reads_two_ways_only_in_percentage_problems():
    from thinkgym.envs.math.dataset import DatasetProblem, verify

    about = DatasetProblem("", "25", "What percent of 80 is 20?", 1, percent=True)
    other = DatasetProblem("", "10", "What is 5 + 5?", 1, percent=False)
    assert Fraction(20, 80) * 100 == 25 and Fraction(10, 100) != 10
    assert verify(about, "25%").score == 1.0 and verify(about, "25").score == 1.0
    assert verify(other, "10%").score == 0.0 and verify(other, "10").score == 1.0
