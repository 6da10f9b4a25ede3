"""Red-team answers against the shared math reader and equality (issue 15, classes 5, 7, 8, 9
and 10): every hostile answer scores 0 and is shown wrong by a computation of the test's own
(Fractions, sympy on hand-built objects, mpmath at high precision, plain arithmetic), and the
honest forms around it still score."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import mpmath
import pytest
import sympy

from thinkgym.envs.math.common import X
from thinkgym.rewards import equivalence, math_equal
from thinkgym.rewards.mathparse import MAX_CHARS, ParseError, parse_answer

# -- class 5: negated, hedged and contradictory sentences --------------------------------------

HEDGED = [
    ("7 is not the answer", "not"), ("not 7", "not"), ("wrong: 7", "wrong"), ("7 is wrong", "wrong"),
    ("7 or more", "more"), ("at least 7", "least"), ("about 7", "about"), ("approximately 7", "approximately"),
    ("7?", "question"), ("maybe 7", "maybe"), ("7 is wrong, 8 is right", "wrong"), ("7 (or 8)", "or"),
    ("I think 7 but maybe 8", "think"), ("the answer isn't 7", "isn't"), ("7 is incorrect", "incorrect"),
    ("less than 7", "less"), ("7 at most", "most"), ("~7", "approximate"), ("x \\approx 7", "approximate"),
    ("\u2248 7", "approximate"), ("NOT 7", "NOT"), ("Wrong: \\boxed{7}", "Wrong"), ("\\boxed{7} is wrong", "wrong"),
    ("7 \\text{ or more}", "more"), ("7 \\text{ is not it}", "not"), ("supposedly 7", "supposedly"),
    ("7, unless x < 0", "unless"), ("7 if x > 0", "if"), ("between 7 and 9", "between"), ("roughly 7", "roughly"),
    ("The answer is 5, or the answer is 7", "several statements"), ("it is 5 and it is 7", "several statements"),
    ("\\boxed{5} \\boxed{7}", "several different boxed"), ("7 is what I got", "cannot read"),
    ("7 plus 1", "plus"), ("3 over 4", "over"),
]


@pytest.mark.parametrize("text,why", HEDGED, ids=[t for t, _ in HEDGED])
def test_negated_hedged_and_contradictory_answers_are_refused_with_a_reason(text, why):
    with pytest.raises(ParseError, match=why):
        parse_answer(text)
    for reference in ("7", "5", "8", "9"):
        assert not math_equal(text, reference)


def test_a_list_of_candidates_is_not_one_of_them():
    candidates = [7, 8, 9]
    assert len(set(candidates)) > 1  # several different values: not the single reference
    for c in candidates:
        assert not math_equal("7, 8, 9", str(c))
        assert not math_equal("7 or 8 or 9", str(c))
        assert not math_equal("\\{7, 8, 9\\}", str(c))


HONEST = [
    ("The answer is 7.", "7"), ("x = 5", "5"), ("The final answer is $\\frac{1}{2}$", "1/2"), ("5 cm", "5"),
    ("x = 1 or x = 2", "2, 1"), ("\\boxed{7}", "7"), ("The answer is \\boxed{7}", "7"), ("7 is the answer", "7"),
    ("x = 2 is the answer", "2"), ("7 is correct", "7"), ("So the answer is 7", "7"), ("Thus x = 7", "7"),
    ("Mia spends 24 dollars", "24"), ("Each child gets 7 candies", "7"), ("exactly 7", "7"),
    ("\\boxed{7} and \\boxed{7}", "7"), ("5~\\text{cm}", "5"), ("The roots are 2 and 3", "3, 2"), ("(7, 8)", "(7, 8)"),
]


@pytest.mark.parametrize("text,reference", HONEST, ids=[t for t, _ in HONEST])
def test_honest_sentences_still_score(text, reference):
    assert math_equal(text, reference)


# -- class 7: exact values are equal only when exactly equal -----------------------------------

def _convergent(n: int, digits: int) -> Fraction:
    """A continued-fraction convergent p/q of sqrt(n) with about ``digits`` digits (integers only)."""
    a0 = math.isqrt(n)
    m, d, a = 0, 1, a0
    p0, p1, q0, q1 = 1, a0, 0, 1
    while len(str(q1)) < digits:
        m = d * a - m
        d = (n - m * m) // d
        a = (a0 + m) // d
        p0, p1 = p1, a * p1 + p0
        q0, q1 = q1, a * q1 + q0
    return Fraction(p1, q1)


def test_a_negligible_rational_term_is_not_nothing():
    assert Fraction(-26) + Fraction(1, 10**40) != Fraction(-26)
    assert not math_equal("-26 + 10^(-40)", "-26")
    assert not math_equal("-26 + 10^{-400}", "-26")
    assert not math_equal("\\frac{1}{3} + 10^{-60}", "1/3")


@pytest.mark.parametrize("answer,reference,extra", [
    ("e^3 + 10^(-40)", "e^3", sympy.Rational(1, 10**40)),
    ("e^3 + 10^{-1000}", "e^3", sympy.Rational(1, 10**1000)),
    ("\\pi + 10^{-60}", "\\pi", sympy.Rational(1, 10**60)),
    ("\\sqrt{2}(1 + 10^{-45})", "\\sqrt{2}", sympy.sqrt(2) / 10**45),
    ("\\ln 2 - 10^{-30}", "\\ln 2", -sympy.Rational(1, 10**30)),
])
def test_an_irrational_plus_a_negligible_term_is_not_the_irrational(answer, reference, extra):
    assert extra != 0  # the answer is the reference plus this nonzero amount
    assert not math_equal(answer, reference)
    assert not math_equal(reference, answer)


def test_functions_that_hide_a_tiny_argument_are_seen_through():
    with mpmath.workdps(200):  # cos(t) < 1 and exp(t) > 1 for 0 < t, visible at 200 digits
        assert mpmath.cos(mpmath.mpf(10) ** -30) < 1 and mpmath.exp(mpmath.mpf(10) ** -40) > 1
    assert not math_equal("e^3 \\cos(10^{-30})", "e^3")
    assert not math_equal("e^{3 + 10^{-40}}", "e^3")
    assert not math_equal("\\cos(e^{-100})", "1")


def test_rational_approximations_of_irrationals_are_not_equal():
    for n, digits in ((2, 60), (3, 120), (5, 200)):
        c = _convergent(n, digits)
        assert c.numerator**2 != n * c.denominator**2  # p/q is not sqrt(n)
        assert not math_equal(f"{c.numerator}/{c.denominator}", f"\\sqrt{{{n}}}")
    c = _convergent(3, 100)  # sqrt(2) + (sqrt(3) - p/q): off by about 10^-200
    assert c.numerator**2 != 3 * c.denominator**2
    assert not math_equal(f"\\sqrt{{2}} + \\sqrt{{3}} - {c.numerator}/{c.denominator}", "\\sqrt{2}")


@pytest.mark.parametrize("answer,reference", [
    ("\\sqrt{8}", "2\\sqrt{2}"), ("\\frac{\\sqrt{3}}{3}", "1/\\sqrt{3}"), ("\\log(8)/\\log(2)", "3"),
    ("(1+\\sqrt{2})^2", "3 + 2\\sqrt{2}"), ("\\sqrt{5 + 2\\sqrt{6}}", "\\sqrt{2} + \\sqrt{3}"),
    ("e^{\\ln 2}", "2"), ("\\sin(\\pi/6)", "1/2"), ("2\\sin(\\pi/8)\\cos(\\pi/8)", "\\frac{\\sqrt{2}}{2}"),
    ("e^{3}e^{-1}", "e^2"), ("\\frac{\\pi}{4}", "\\arctan 1"),
])
def test_exact_equalities_still_hold(answer, reference):
    assert math_equal(answer, reference)
    assert math_equal(reference, answer)


# -- class 8: an exact reference needs the exact value ------------------------------------------

_SQRT2, _PI = mpmath.sqrt(2), mpmath.pi


@pytest.mark.parametrize("answer,reference,differs", [
    ("7.0000007", "7", Fraction("7.0000007") != 7),
    ("0.3333333", "1/3", Fraction("0.3333333") != Fraction(1, 3)),
    ("2.5000001", "5/2", Fraction("2.5000001") != Fraction(5, 2)),
    ("x = 7.0000007", "7", Fraction("7.0000007") != 7),
    ("3.1416", "\\pi", mpmath.mpf("3.1416") != _PI),
    ("1.41421356", "\\sqrt{2}", Fraction("1.41421356") ** 2 != 2),
    ("0.6666667", "\\frac{2}{3}", Fraction("0.6666667") != Fraction(2, 3)),
    ("-25.9999999", "-26", Fraction("-25.9999999") != -26),
    ("(3.0000001, 2)", "(3, 2)", Fraction("3.0000001") != 3),
    ("7.0000007 cm", "7", Fraction("7.0000007") != 7),
])
def test_decimals_close_to_an_exact_reference_score_zero(answer, reference, differs):
    assert differs
    assert not math_equal(answer, reference)


@pytest.mark.parametrize("answer,reference", [
    ("2.5", "5/2"), ("0.125", "\\frac{1}{8}"), ("7.0", "7"), ("1.5e3", "1500"), ("-0.75", "-3/4"),
    ("0.5x", "\\frac{x}{2}"), ("x = 2.5", "5/2"), ("0.5\\sqrt{2}", "\\frac{\\sqrt{2}}{2}"),
])
def test_decimals_that_equal_the_reference_exactly_score(answer, reference):
    assert math_equal(answer, reference)


def test_a_decimal_reference_keeps_its_tolerance():
    assert math_equal("1/3", "0.3333333") and math_equal("0.33333334", "0.3333333")
    assert not math_equal("0.3334", "0.3333333")


# -- class 9: identities of functions -------------------------------------------------------

def _vanishing_at_fixed_points() -> str:
    a, b, c = (row[0] for row in equivalence._fixed_points(1))
    return f"(x - {a})(x - {b})(x - {c})"


def test_a_polynomial_vanishing_at_the_fixed_points_does_not_pass():
    bump = _vanishing_at_fixed_points()
    for reference in ("x", "x^2 + 1", "\\sin(x)", "e^x"):
        answer = f"{reference} + {bump}"
        difference = sympy.expand(parse_answer(answer) - parse_answer(reference))
        assert difference != 0 and sympy.Poly(difference, X).degree() == 3
        assert not math_equal(answer, reference)


@pytest.mark.parametrize("answer,reference", [
    ("|x|", "x"), ("\\sqrt{x^2}", "x"), ("x^2 + 10^{-40}", "x^2"), ("\\sin(x) + 10^{-40}", "\\sin x"),
    ("x \\cdot |y|", "xy"), ("\\sqrt{x^2}\\sqrt{y^2}", "xy"), ("\\frac{x^2 - 1}{x - 1} + 10^{-30}", "x + 1"),
    ("\\ln|x| + (x-1)(x-2)(x-3)(x-4)", "\\ln|x|"),
])
def test_functions_that_differ_somewhere_are_not_equal(answer, reference):
    a, b = parse_answer(answer), parse_answer(reference)
    y = sympy.Symbol("y")
    points = [(-1.5, 1.25), (1.5, -1.25), (7, 5)]  # negative and non-integer coordinates
    assert any(sympy.N((a - b).subs({X: sympy.nsimplify(u), y: sympy.nsimplify(v)}), 60) != 0 for u, v in points)
    assert not math_equal(answer, reference)


def test_polynomial_identity_cannot_be_fooled_by_multiples_of_the_primes():
    product = math.prod(equivalence._primes())
    assert len(str(product)) > MAX_CHARS  # no answer can carry a multiple of all of them
    assert not math_equal(f"x^2 + {equivalence._primes()[0]}x", "x^2")


@pytest.mark.parametrize("answer,reference", [
    ("(x+1)^2", "x^2+2x+1"), ("\\frac{x^2-1}{x-1}", "x+1"), ("(x+y)^3", "x^3 + 3x^2y + 3xy^2 + y^3"),
    ("\\sin^2 x + \\cos^2 x", "1"), ("\\ln(xy)", "\\ln x + \\ln y"), ("\\frac{2}{3}\\sqrt{x^3}", "\\frac{2}{3}x^{3/2}"),
    ("e^{2\\ln x}", "x^2"), ("\\frac{1}{2}x^2 + \\frac{1}{3}", "\\frac{3x^2 + 2}{6}"), ("(x+1)^{40}", "(1+x)^{40}"),
])
def test_identities_still_hold(answer, reference):
    assert math_equal(answer, reference)


def test_calculus_envs_use_the_identity_test():
    from thinkgym.envs.math.derivative import DerivativeProblem
    from thinkgym.envs.math.derivative import verify as derivative
    from thinkgym.envs.math.integral import IntegralProblem
    from thinkgym.envs.math.integral import verify as integral
    from thinkgym.envs.math.limit import LimitProblem
    from thinkgym.envs.math.limit import verify as limit

    bump = _vanishing_at_fixed_points()
    p = DerivativeProblem("", "", X**2 / 2, X)
    assert derivative(p, "x").score == 1.0
    for bad in ("|x|", "\\sqrt{x^2}", f"x + {bump}", "x + 10^{-40}"):
        assert derivative(p, bad).score == 0.0, bad
    q = IntegralProblem("", "", X, X**2 / 2)
    assert integral(q, "x^2/2 + C").score == 1.0
    for bad in ("x*|x|/2", f"x^2/2 + {bump}", "x^2/2 + 10^{-40}x"):  # derivatives |x|, x + 3 x^2 ..., x + 10^-40
        assert sympy.diff(parse_answer(bad.replace("|x|", "Abs(x)")).subs(X, sympy.Symbol("r", real=True)), sympy.Symbol("r", real=True)).subs(sympy.Symbol("r", real=True), -2) != -2
        assert integral(q, bad).score == 0.0, bad
    r = IntegralProblem("", "", 1 / X, sympy.log(X))
    for good in ("\\ln|x|", "\\ln x + C", "\\ln(-x)", "\\ln(5x) + 2"):
        assert integral(r, good).score == 1.0, good
    e2 = LimitProblem("", "e^2", (1 + 2 / X) ** X, sympy.oo, sympy.exp(2), "")
    for bad in ("7.389056", "e^2 + 10^{-40}", "7.38905609893065"):
        assert limit(e2, bad).score == 0.0, bad
    seven = LimitProblem("", "7", X + 5, sympy.Integer(2), sympy.Integer(7), "")
    assert limit(seven, "7.0000007").score == 0.0 and limit(seven, "7.0").score == 1.0


# -- class 10: percent -----------------------------------------------------------------------

def test_percent_reads_as_a_fraction_unless_asked():
    assert Fraction(10, 100) != 10
    assert not math_equal("10%", "10") and not math_equal("10\\%", "10")
    assert math_equal("10%", "0.1") and math_equal("10%", "1/10")
    assert math_equal("10%", "10", percent=True)


# -- work stays bounded ------------------------------------------------------------------------

HOSTILE = [
    ("e^3 + 10^{-5000}", "e^3"), ("\\cos(10^{-4000})", "1"), ("\\cos(e^{-3000})", "1"), ("\\cos(e^{-1000})", "1"),
    ("\\sin(x) + 10^{-1500}", "\\sin(x)"), ("((x+1)^{1000})^{1000}", "(x+1)^{1000000}"),
    ("(x+1)^{1000} - (x-1)^{1000}", "(x-1)^{1000}"), ("\\arctan(10^{300})", "\\pi/2"), ("\\tanh(1000)", "1"),
    ("+".join(f"\\sqrt{{{p}}}" for p in sympy.primerange(2, 60)), "+".join(f"\\sqrt{{{p}}}" for p in sympy.primerange(2, 60))),
]


@pytest.mark.parametrize("answer,reference", HOSTILE, ids=[a[:40] for a, _ in HOSTILE])
def test_hostile_comparisons_finish_within_a_second(answer, reference):
    equivalence._parse_cached.cache_clear()
    start = time.perf_counter()
    math_equal(answer, reference)
    math_equal(reference, answer)
    assert time.perf_counter() - start < 2.0  # two calls
    if reference in ("1", "e^3", "\\pi/2", "\\sin(x)"):
        assert not math_equal(answer, reference)
