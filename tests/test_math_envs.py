"""Math tasks: other correct forms earn full reward, wrong or wrongly-shaped answers do not,
and MathDataset reads local files with stable splits."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import sympy

import thinkgym
from thinkgym.envs.math import countdown, dataset, expand, factor, number_theory
from thinkgym.envs.math.common import X

MATH_IDS = thinkgym.list_envs(family="math")


def test_at_least_ten_math_tasks():
    assert len(MATH_IDS) >= 11
    assert "thinkgym/MathDataset-v0" in MATH_IDS


def reward(env, text: str) -> float:
    return env.unwrapped.score(f"<answer>{text}</answer>")["reward_components"]["correctness"]


def make(env_id: str, seed: int = 0, **kwargs):
    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    env.reset(seed=seed)
    return env, env.unwrapped.problem


@pytest.mark.parametrize("env_id", [e for e in MATH_IDS if e != "thinkgym/MathDataset-v0"])
def test_explain_ends_in_the_answer_and_earns_full_reward(env_id):
    for difficulty in (1, 2, 3):
        env, problem = make(env_id, seed=difficulty, difficulty=difficulty)
        explanation = env.unwrapped.explain()
        assert problem.answer.rstrip(".") in explanation.splitlines()[-1]
        completion = f"<think>{explanation}</think><answer>{problem.answer}</answer>"
        assert env.step(completion)[1] == 1.0


def test_arithmetic_reads_sentences_but_not_expressions():
    env, problem = make("thinkgym/Arithmetic-v0", seed=3, difficulty=2)
    assert reward(env, f"The answer is {problem.value}.") == 1.0
    assert reward(env, f"\\boxed{{{problem.value}}}") == 1.0
    assert reward(env, problem.expression) == 0.0


def test_fractions_accept_latex_but_not_unreduced_or_decimals():
    env, problem = make("thinkgym/FractionArithmetic-v0", seed=1, difficulty=2)
    v = problem.value
    assert reward(env, f"\\frac{{{v.numerator}}}{{{v.denominator}}}") == 1.0
    assert reward(env, f"{-v.numerator}/({-v.denominator})") == 1.0  # signs on both parts
    assert reward(env, f"{2 * v.numerator}/{2 * v.denominator}") == 0.0  # the prompt asks for lowest terms
    assert reward(env, f"{float(v):.3f}") == 0.0
    assert reward(env, f"{v.numerator + 1}/{v.denominator}") == 0.0


def test_number_theory_factorisation_must_be_primes():
    p = number_theory.NumberTheoryProblem("", "2^3 * 3^2 * 5", "factor", (360,), 360)
    for good in ("2^3 * 3^2 * 5", "5 * 3^2 * 2^3", "2*2*2*3*3*5", "2^{3} \\cdot 3^{2} \\cdot 5", "2^3 \u00d7 3^2 \u00d7 5"):
        assert number_theory.verify(p, good).score == 1.0, good
    assert number_theory.verify(p, "2^3 * 9 * 5").score == 0.0  # 9 is not prime
    assert number_theory.verify(p, "2^3 * 3 * 5").score == 0.0
    assert number_theory.verify(p, "360").score == 0.0  # the number itself is not a product of primes
    gcd = number_theory.NumberTheoryProblem("", "12", "gcd", (84, 120), 12)
    assert number_theory.verify(gcd, "12").score == 1.0
    with pytest.raises(thinkgym.rewards.InvalidAnswer):
        number_theory.verify(gcd, "gcd(84, 120)")


def test_linear_system_accepts_tuples_and_named_equations():
    env, problem = make("thinkgym/LinearSystem-v0", seed=4, difficulty=3)
    x, y, z = problem.solution
    assert reward(env, f"({x}, {y}, {z})") == 1.0
    assert reward(env, f"z = {z}, x = {x}, y = {y}") == 1.0
    assert reward(env, f"({y}, {x}, {z})") == (1.0 if x == y else 0.0)
    assert reward(env, f"({x}, {y})") == 0.0
    env1, p1 = make("thinkgym/LinearSystem-v0", seed=4, difficulty=1)
    assert reward(env1, f"x = {p1.solution[0]}") == 1.0
    assert reward(env1, f"{p1.solution[0] + 1}") == 0.0


def test_polynomial_roots_are_a_set():
    env, problem = make("thinkgym/PolynomialRoots-v0", seed=2, difficulty=2)
    roots = [str(r) for r in problem.roots]
    assert reward(env, ", ".join(reversed(roots))) == 1.0
    assert reward(env, " or ".join(f"x = {r}" for r in roots)) == 1.0
    assert reward(env, "\\{" + ", ".join(roots) + "\\}") == 1.0
    assert reward(env, ", ".join(roots[:-1])) == 0.0
    assert reward(env, ", ".join(roots + ["100"])) == 0.0


def test_polynomial_roots_accept_plus_minus():
    from thinkgym.envs.math.polynomial_roots import PolynomialRootsProblem, verify

    p = PolynomialRootsProblem("", "", sympy.expand((X - 1) ** 2 - 2), (1 - sympy.sqrt(2), 1 + sympy.sqrt(2)))
    assert verify(p, "x = 1 \\pm \\sqrt{2}").score == 1.0
    assert verify(p, "1.41421356, -0.41421356").score == 0.0  # decimals are not the exact roots


def test_expand_rejects_the_unexpanded_product():
    env, problem = make("thinkgym/Expand-v0", seed=0, difficulty=2)
    assert reward(env, sympy.latex(problem.expanded)) == 1.0
    assert reward(env, str(problem.product).replace("**", "^")) == 0.0
    assert expand.is_expanded(sympy.expand((X + 1) ** 3))
    assert not expand.is_expanded((X + 1) ** 2)
    assert not expand.is_expanded(X * (X + 1))


def test_factor_rejects_the_polynomial_and_partial_factorisations():
    p = factor.FactorProblem("", "", sympy.expand((X - 1) * (X + 2) * (X - 3)), (X - 1) * (X + 2) * (X - 3))
    for good in ("(x-1)(x+2)(x-3)", "(x - 3)*(x + 2)*(x - 1)", "(x+2)(x-3)(x-1)", "-(1-x)(x+2)(x-3)"):
        assert factor.verify(p, good).score == 1.0, good
    assert factor.verify(p, "x^3 - 2x^2 - 5x + 6").score == 0.0
    assert factor.verify(p, "(x-1)(x^2 - x - 6)").score == 0.0
    assert factor.verify(p, "(x-1)(x+2)(x+3)").score == 0.0
    q = factor.FactorProblem("", "", sympy.expand(2 * (X - 1) * (X**2 + 1)), 2 * (X - 1) * (X**2 + 1))
    assert factor.verify(q, "2(x-1)(x^2+1)").score == 1.0


def test_derivative_accepts_equivalent_forms():
    from thinkgym.envs.math.derivative import DerivativeProblem, verify

    f = X**2 * sympy.sin(3 * X)
    p = DerivativeProblem("", "", f, sympy.diff(f, X))
    for good in ("2x sin(3x) + 3x^2 cos(3x)", "x(2\\sin 3x + 3x\\cos 3x)", "f'(x) = 3x^2\\cos(3x) + 2x\\sin(3x)",
                 "\\frac{dy}{dx} = 2x\\sin(3x) + 3x^2\\cos(3x)"):
        assert verify(p, good).score == 1.0, good
    assert verify(p, "2x sin(3x) + x^2 cos(3x)").score == 0.0
    with pytest.raises(thinkgym.rewards.InvalidAnswer):
        verify(p, "2t sin(3t)")


def test_integral_accepts_any_constant_and_checks_by_differentiation():
    from thinkgym.envs.math.integral import IntegralProblem, verify

    p = IntegralProblem("", "", 3 * X**2 + 1 / X, X**3 + sympy.log(X))
    for good in ("x^3 + \\ln x", "x^3 + \\ln|x| + C", "x^3 + log(x) + 17", "x^3 + \\ln(2x)", "F(x) = x^3 + \\ln x",
                 "\\int (3x^2 + 1/x) dx = x^3 + \\ln x + C"):
        assert verify(p, good).score == 1.0, good
    assert verify(p, "6x - 1/x^2").score == 0.0  # the derivative, not an antiderivative
    assert verify(p, "x^3").score == 0.0


def test_limit_accepts_infinity_and_exact_forms():
    env, problem = make("thinkgym/Limit-v0", seed=1, difficulty=3)
    assert reward(env, sympy.latex(problem.value)) == 1.0
    from thinkgym.envs.math.limit import LimitProblem, verify

    p = LimitProblem("", "oo", X**2, sympy.oo, sympy.oo, "")
    assert verify(p, "\\infty").score == 1.0
    assert verify(p, "-\\infty").score == 0.0
    e2 = LimitProblem("", "exp(2)", (1 + 2 / X) ** X, sympy.oo, sympy.exp(2), "")
    assert verify(e2, "e^2").score == 1.0
    assert verify(e2, "7.389056").score == 0.0  # a rounded decimal is not e^2


def test_countdown_counts_numbers_and_never_evaluates_code():
    p = countdown.CountdownProblem("", "", (3, 7, 25, 50), 181, ())
    assert countdown.verify(p, "7 * 25 + 3 + 3").score == 0.0  # 3 used twice
    assert countdown.verify(p, "(50 - 25) * 7 + 3 + 3").score == 0.0
    p2 = countdown.CountdownProblem("", "", (3, 3, 7, 25), 181, ())
    assert countdown.verify(p2, "7 * 25 + 3 + 3").score == 1.0
    assert countdown.verify(p2, "3 + 3 + 25 \\times 7 = 181").score == 1.0
    assert countdown.verify(p2, "7 * 25 + 3 + 3 = 180").score == 0.0
    for bad in ("7^2", "3.5 * 2", "x + 1", "__import__('os')"):
        with pytest.raises(thinkgym.rewards.InvalidAnswer):
            countdown.verify(p2, bad)


def test_word_problem_accepts_units_and_sentences():
    env, problem = make("thinkgym/WordProblem-v0", seed=5, difficulty=3)
    assert reward(env, f"The answer is {problem.answer}.") == 1.0
    assert reward(env, f"{float(problem.value)}") == 1.0
    assert reward(env, f"{problem.value + 1}") == 0.0


# -- MathDataset ---------------------------------------------------------------------------

def test_dataset_default_is_the_shipped_sample():
    env, problem = make("thinkgym/MathDataset-v0")
    assert env.unwrapped.config.path == dataset.DEFAULT_PATH
    assert problem.problem in problem.prompt and "<answer>" in problem.prompt
    assert env.step(f"<answer>{problem.answer}</answer>")[1] == 1.0


def test_dataset_splits_are_disjoint_stable_and_deterministic():
    seen = {}
    for split in ("train", "eval"):
        env = gym.make("thinkgym/MathDataset-v0", split=split, disable_env_checker=True)
        prompts = [env.reset(seed=s)[0] for s in range(30)]
        again = gym.make("thinkgym/MathDataset-v0", split=split, disable_env_checker=True)
        assert prompts == [again.reset(seed=s)[0] for s in range(30)]
        seen[split] = {p.split("\n\n")[0] for p in prompts}
        assert all(dataset.split_of(text) == split for text in seen[split])
    assert not seen["train"] & seen["eval"]


def test_dataset_index_option_sweeps_the_split_in_file_order():
    env = gym.make("thinkgym/MathDataset-v0", split="eval", difficulty=1, disable_env_checker=True)
    problems = dataset.pool(env.unwrapped.config)
    assert problems and all(dataset.split_of(p.problem) == "eval" for p in problems)
    for i, expected in enumerate(problems):
        prompt, info = env.reset(options={"index": i})
        assert prompt == expected.prompt and info["answer"] == expected.answer
    with pytest.raises(ValueError, match="index"):
        env.reset(options={"index": len(problems)})


def test_dataset_reads_jsonl_with_boxed_solutions_and_parquet(tmp_path):
    rows = [
        {"problem": f"What is {i} + {i}?", "solution": f"Add: $\\boxed{{{2 * i}}}$", "level": "Level 1"} for i in range(10)
    ] + [{"problem": "Skip me", "level": 1}, {"problem": "caf\u00e9 \u2603", "answer": "1", "level": 1}]
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    env, problem = make("thinkgym/MathDataset-v0", seed=3, path=str(path))
    assert problem.answer == str(2 * int(problem.problem.split()[2]))
    assert reward(env, f"{problem.answer}.0") == 1.0
    assert len(dataset._load(str(path.resolve()), path.stat().st_mtime_ns)) == 10
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    parquet = tmp_path / "tiny.parquet"
    pq.write_table(pa.Table.from_pylist([{"problem": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(10)]), parquet)
    env2, p2 = make("thinkgym/MathDataset-v0", seed=3, path=str(parquet))
    assert reward(env2, p2.answer) == 1.0


def test_dataset_bad_options_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="split"):
        gym.make("thinkgym/MathDataset-v0", split="test")
    with pytest.raises(ValueError, match="no dataset file"):
        gym.make("thinkgym/MathDataset-v0", path=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="jsonl"):
        gym.make("thinkgym/MathDataset-v0", path=str(tmp_path / "data.csv"))
