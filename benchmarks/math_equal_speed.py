"""Throughput of ``math_equal`` on realistic answer pairs, and its worst case on hostile input.

Run: ``python benchmarks/math_equal_speed.py`` (a few seconds). Each group is timed over fresh
strings (the parse cache is cleared first, and every pair is distinct) so that caching does not
flatter the numbers; each group reports the best of five runs.
"""

from __future__ import annotations

import time

from thinkgym.rewards import equivalence
from thinkgym.rewards.equivalence import math_equal


def _groups(n: int) -> dict[str, list[tuple[str, str]]]:
    return {
        "plain integers": [(str(i), str(i)) for i in range(n)],
        "plain integers, wrong": [(str(i), str(i + 1)) for i in range(n)],
        "sentence 'The answer is N.'": [(f"The answer is {i}.", str(i)) for i in range(n)],
        "LaTeX fractions": [(f"\\frac{{{i}}}{{{i + 7}}}", f"{i}/{i + 7}") for i in range(1, n + 1)],
        "boxed radicals": [(f"\\boxed{{{i}\\sqrt{{2}}}}", f"sqrt({2 * i * i})") for i in range(1, n + 1)],
        "polynomial identities": [(f"(x+{i})^2", f"x^2 + {2 * i}x + {i * i}") for i in range(1, n + 1)],
        "trig functions": [(f"{i}\\sin(x)\\cos(x)", f"{i}/2*sin(2x)") for i in range(1, n + 1)],
    }


HOSTILE = [
    ("+".join(f"\\sin(x^{k})" for k in range(1, 60)), "+".join(f"\\sin(x^{k})" for k in range(1, 60))),
    ("((x+1)^1000)^1000", "x"),
    ("(x+1)^1000 - (x-1)^1000", "(x-1)^1000"),
    ("(" + "+".join(f"x_{k}" for k in range(8)) + ")^40", "1"),
    ("e^{e^{e^{e^{10}}}}", "1"),
    ("\\sin(10^{300})", "0"),
    ("2^{1000} + 10^{-400}", "2^{1000}"),
    ("(" * 40 + "x" + ")" * 40, "x"),
    ("9**9**9**9", "1"),
]


def main(n: int = 400) -> None:
    for name, pairs in _groups(n).items():
        best = float("inf")
        for _ in range(5):  # the best of five runs: the machine may be shared
            equivalence._parse_cached.cache_clear()
            start = time.perf_counter()
            for a, b in pairs:
                math_equal(a, b)
            best = min(best, time.perf_counter() - start)
        print(f"{name:32s} {len(pairs) / best:10.0f} checks/s")
    worst = 0.0
    for a, b in HOSTILE:
        equivalence._parse_cached.cache_clear()
        start = time.perf_counter()
        math_equal(a, b)
        math_equal(b, a)
        worst = max(worst, time.perf_counter() - start)
    print(f"{'hostile worst case (2 calls)':32s} {worst:10.3f} s")


if __name__ == "__main__":
    main()
