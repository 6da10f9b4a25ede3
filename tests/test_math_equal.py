"""math_equal: every answer form in both directions, the near misses a naive checker accepts,
hostile input, time limits and thread safety."""

from __future__ import annotations

import os
import threading
import time

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkgym.rewards import math_equal
from thinkgym.rewards.mathparse import Interval, ParseError, SetOf, Tup, parse_answer, parse_expression

EQUAL = [
    ("7", "7"),
    ("-12", "-12"),
    ("0.5", "1/2"),
    ("\\frac{1}{2}", "0.5"),
    ("\\dfrac{3}{4}", "0.75"),
    ("\\dfrac12", "1/2"),
    ("\\tfrac{6}{8}", "3/4"),
    ("2\\frac{1}{2}", "5/2"),
    ("7.0", "7"),
    ("2\\sqrt{2}", "\\sqrt{8}"),
    ("\\sqrt[3]{27}", "3"),
    ("\\sqrt{2}/2", "1/\\sqrt{2}"),
    ("2^{10}", "1024"),
    ("x**2", "x^2"),
    ("\\pi", "pi"),
    ("2\\pi r", "2 r \\pi"),
    ("e^{\\ln 2}", "2"),
    ("i^2", "-1"),
    ("\\sqrt{-1}", "i"),
    ("3+4i", "4i+3"),
    ("(x+1)^2", "x^2+2x+1"),
    ("x^2-1", "(x-1)(x+1)"),
    ("\\frac{x}{2}", "0.5x"),
    ("1/x", "x^{-1}"),
    ("\\ln(xy)", "\\ln x + \\ln y"),
    ("\\sin^2 x + \\cos^2 x", "1"),
    ("\\sin x \\cos x", "\\frac{\\sin(2x)}{2}"),
    ("\\sin(\\pi/6)", "1/2"),
    ("\\arctan 1", "\\pi/4"),
    ("\\sin^{-1}(1)", "\\pi/2"),
    ("\\log_2 8", "3"),
    ("\\exp(0)", "1"),
    ("x = 5", "5"),
    ("y = 2x+1", "2x+1"),
    ("x \\in [1,2]", "[1,2]"),
    ("50\\%", "0.5"),
    ("10%", "0.1"),
    ("1,000", "1000"),
    ("1{,}000", "1000"),
    ("5\\,000", "5000"),
    ("\\$1,234.50", "1234.5"),
    ("1.5e3", "1500"),
    ("1.5 \\times 10^{3}", "1500"),
    ("2.5 \\cdot 10^{-2}", "0.025"),
    ("5!", "120"),
    ("\\binom{5}{2}", "10"),
    ("\\dbinom{6}{3}", "20"),
    ("30^\\circ", "30"),
    ("\\$5", "5"),
    ("5 \\text{ cm}", "5"),
    ("12 km/h", "12"),
    ("4 square units", "4"),
    ("2 apples", "2"),
    ("The answer is 7.", "7"),
    ("The final answer is $\\boxed{12}$", "12"),
    ("\\boxed{12}", "12"),
    ("$\\frac{7}{8}$", "7/8"),
    ("(3, -2)", "(3,-2)"),
    ("\\{1,2\\}", "\\{2,1\\}"),
    ("x=1 or x=2", "2, 1"),
    ("1 \\text{ or } 2", "\\{1, 2\\}"),
    ("x=2 \\text{ and } x=3", "2,3"),
    ("\\frac{1\\pm\\sqrt{5}}{2}", "\\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}"),
    ("[0,1)", "[0, 1)"),
    ("\\left[ 0, 1 \\right)", "[0,1)"),
    ("(-\\infty, 3)", "x<3"),
    ("[2, \\infty)", "x \\ge 2"),
    ("(1, 4]", "1 < x \\le 4"),
    ("[1,2] \\cup [3,4]", "[3,4]\\cup[1,2]"),
    ("\\infty", "oo"),
    ("-\\infty", "-oo"),
    ("\\emptyset", "\\{\\}"),
    ("x + y = 3", "y = 3 - x"),
    ("x is 5", "5"),
    ("Answer: 5", "5"),
    ("The roots are 2 and 3", "3, 2"),
    ("x = 2 is the answer", "2"),
    ("x = 1, y = 2", "y = 2, x = 1"),
    ("\\{\\sqrt{2}, -\\sqrt{2}\\}", "\\pm\\sqrt{2}"),
    ("f(x) = 2x", "2x"),
    ("x \\in (-\\infty, -2] \\cup [3, \\infty)", "(-\\infty,-2]\\cup[3,\\infty)"),
    ("(x-2)^2 + (y+1)^2 = 25", "x^2 - 4x + y^2 + 2y = 20"),
]

NOT_EQUAL = [
    ("1-1/e", "1+1/e"),
    ("[0,1]", "[0,1)"),
    ("(1,2]", "(1,2)"),
    ("1/3", "0.333"),
    ("\\dfrac{1}{3}", "0.3333"),
    ("3.14159", "\\pi"),
    ("e", "2.718281828"),
    ("\\frac{\\sqrt{3}}{2}", "0.866025"),
    ("(1,2)", "(2,1)"),
    ("\\{1,2,3\\}", "\\{1,2\\}"),
    ("2", "3"),
    ("-7", "7"),
    ("x^2", "x^3"),
    ("(x+1)^2", "x^2+1"),
    ("0", "0.0000001"),
    ("10^{-7}", "0"),
    ("\\infty", "-\\infty"),
    ("14", "4"),
    ("x = 5", "y = 5"),
    ("not 7", "7"),
    ("1 \\cup 2", "1"),
    ("\\sin x", "\\cos x"),
    ("\\log_2 8", "\\ln 8"),
    ("7!", "5040.5"),
    ("x = 1, y = 2", "y = 1, x = 2"),
    ("\\sqrt{2}, 1", "1.41421356, 1"),
]


# The reference decides how exact the answer must be: a decimal reference allows a relative
# tolerance of 1e-6, an exact one needs the exact value (a decimal answer is the rational it writes).
DECIMAL_REFERENCE_ONLY = [
    ("1/3", "0.3333333"),
    ("\\frac{2}{3}", "0.6666667"),
    ("7", "7.0000001"),
]


@pytest.mark.parametrize("a,b", DECIMAL_REFERENCE_ONLY, ids=[f"{a} ~ {b}" for a, b in DECIMAL_REFERENCE_ONLY])
def test_tolerance_only_when_the_reference_is_a_decimal(a, b):
    assert math_equal(a, b)
    assert not math_equal(b, a)


def test_percent_is_a_fraction_unless_the_problem_is_about_percentages():
    assert math_equal("50%", "0.5") and math_equal("50\\%", "1/2")
    assert not math_equal("50%", "50") and not math_equal("50", "50%")
    assert math_equal("50%", "50", percent=True) and math_equal("50", "50%", percent=True)
    assert math_equal("50%", "1/2", percent=True)


@pytest.mark.parametrize("a,b", EQUAL, ids=[f"{a} == {b}" for a, b in EQUAL])
def test_equal_forms_both_directions(a, b):
    assert math_equal(a, b)
    assert math_equal(b, a)


@pytest.mark.parametrize("a,b", NOT_EQUAL, ids=[f"{a} != {b}" for a, b in NOT_EQUAL])
def test_near_misses_are_not_equal_in_either_direction(a, b):
    assert not math_equal(a, b)
    assert not math_equal(b, a)


def test_structures_parse_to_the_right_kinds():
    assert isinstance(parse_answer("(1, 2)"), Tup)
    assert parse_answer("[0, 1)") == Interval(sympy.Integer(0), sympy.Integer(1), True, False)
    assert isinstance(parse_answer("\\{1, 2\\}"), SetOf) and parse_answer("\\{1, 2\\}").braced
    assert parse_expression("y = 3x") == 3 * sympy.Symbol("x")
    two_x = parse_expression("2x", evaluate=False)
    assert two_x.is_Mul and two_x.args[0] == 2


def test_unevaluated_parse_keeps_the_written_structure():
    expr = parse_expression("2^3 * 5", evaluate=False)
    assert expr.is_Mul and any(a.is_Pow for a in expr.args)
    assert parse_expression("2^3 * 5") == 40


@pytest.mark.parametrize(
    "text",
    ["9**9**9**9", "2^2^2^2^2^2", "(2^1000)^1000", "10^{10^{10}}", "1001!", "(10^100)!", "\\binom{10^9}{5}",
     "(" * 5000, "\\sqrt{" * 500, "1/0", "x_{" * 50, "a" * 3000, "1e999999999", "\\unknowncommand{2}"],
)
def test_parser_limits_raise_parse_error(text):
    with pytest.raises(ParseError):
        parse_answer(text)


HOSTILE = [
    "__import__('os').system('touch /tmp/thinkgym_math_pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/tmp/thinkgym_math_pwned', 'w').write('x')",
    "exec('import os')",
    "eval('1+1')",
    "lambda: __import__('os')",
    "import os; os.remove('x')",
    "globals()['__builtins__']",
    "Symbol('x').__class__",
    "sympify('x')",
    "9**9**9**9",
    "e^{e^{e^{e^{10}}}}",
    "\\sin(10^{300})",
    "((x+1)^1000)^1000",
    "\\binom{1000}{500}^{1000}",
    "(" * 5000,
    "\x00\x01\x1b[31m",
    "\u202e\ufeff\U0001f600",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_returns_false_fast_and_runs_nothing(text, tmp_path):
    marker = "/tmp/thinkgym_math_pwned"
    before = set(os.listdir(tmp_path))
    for reference in ("0", "2", "x^2 + 1", "[0, 1)"):
        start = time.perf_counter()
        assert math_equal(text, reference) is False
        assert math_equal(reference, text) is False
        assert time.perf_counter() - start < 1.0
    assert not os.path.exists(marker)
    assert set(os.listdir(tmp_path)) == before


def test_no_eval_or_exec_runs_during_checks(monkeypatch):
    import builtins

    from thinkgym.rewards import equivalence

    equivalence._parse_cached.cache_clear()  # parse everything again under the patch
    calls: list[str] = []
    real_eval, real_exec = builtins.eval, builtins.exec

    def spy(name, real):  # imports run module code objects through exec; source text never should
        def wrapper(source, *args, **kwargs):
            if isinstance(source, (str, bytes)):
                calls.append(f"{name}({source!r:.60})")
            return real(source, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "eval", spy("eval", real_eval))
    monkeypatch.setattr(builtins, "exec", spy("exec", real_exec))
    for a, b in EQUAL[:40] + NOT_EQUAL + [(h, "1") for h in HOSTILE]:
        math_equal(a, b)
    assert calls == []


def test_code_strings_do_not_even_parse():
    for text in HOSTILE[:8]:
        with pytest.raises(ParseError):
            parse_answer(text)


def test_works_from_worker_threads():
    results: list[bool] = []

    def check() -> None:
        results.append(math_equal("(x+1)^2", "x^2+2x+1"))
        results.append(not math_equal("9^9^9^9", "1"))
        results.append(math_equal("\\frac{1}{3}", "0.3333333"))

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [True] * 12


def test_plain_numbers_are_fast():
    start = time.perf_counter()
    for i in range(2000):
        assert math_equal(str(i), str(i))
    assert time.perf_counter() - start < 1.0  # thousands of checks per second


def test_timeout_is_respected():
    start = time.perf_counter()
    math_equal("+".join(f"\\sin(x^{k})" for k in range(1, 60)), "+".join(f"\\sin(x^{k})" for k in range(1, 60)), timeout=0.05)
    assert time.perf_counter() - start < 0.5


# -- property tests ------------------------------------------------------------------------

X, Y = sympy.symbols("x y")
_atoms = st.sampled_from([X, Y, sympy.Integer(2), sympy.Integer(3), sympy.Rational(1, 2), sympy.Integer(-1)])


def _combine(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, st.integers(0, 3)).map(lambda ab: ab[0] ** ab[1]),
    )


expressions = st.recursive(_atoms, _combine, max_leaves=8)


def _latex(expr: sympy.Expr) -> str:
    return sympy.latex(expr)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_expression_equals_its_expansion_and_factorisation(expr):
    text = sympy.sstr(expr).replace("**", "^")
    assert math_equal(text, sympy.sstr(sympy.expand(expr)).replace("**", "^"))
    assert math_equal(_latex(sympy.factor(expr)), text)
    assert not math_equal(text, sympy.sstr(expr + 1).replace("**", "^"))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200), st.sampled_from(["1", "x", "[0,1]"]))
def test_random_strings_never_raise_and_finish_in_time(text, reference):
    start = time.perf_counter()
    assert math_equal(text, reference) in (True, False)
    assert time.perf_counter() - start < 1.0


_grammar_tokens = st.sampled_from(list("0123456789xy+-*/^()[]{},.!%|=<> ") + ["\\frac", "\\sqrt", "\\pi", "\\sin", "^{", "**", "e", "i"])


@settings(max_examples=80, deadline=None)
@given(st.lists(_grammar_tokens, max_size=60).map("".join))
def test_random_token_soup_never_raises_and_finishes_in_time(text):
    start = time.perf_counter()
    assert math_equal(text, text) in (True, False)
    assert time.perf_counter() - start < 1.0
