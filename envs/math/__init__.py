"""The math family: one module per task, imported when one of its envs is made or described."""

from thinkgym.envs.registry import declare_family

TASKS = {
    "thinkgym/Arithmetic-v0": "arithmetic:ArithmeticEnv",
    "thinkgym/Countdown-v0": "countdown:CountdownEnv",
    "thinkgym/Derivative-v0": "derivative:DerivativeEnv",
    "thinkgym/Expand-v0": "expand:ExpandEnv",
    "thinkgym/Factor-v0": "factor:FactorEnv",
    "thinkgym/FractionArithmetic-v0": "rationals:FractionArithmeticEnv",
    "thinkgym/Integral-v0": "integral:IntegralEnv",
    "thinkgym/Limit-v0": "limit:LimitEnv",
    "thinkgym/LinearSystem-v0": "linear_system:LinearSystemEnv",
    "thinkgym/MathDataset-v0": "dataset:MathDatasetEnv",
    "thinkgym/NumberTheory-v0": "number_theory:NumberTheoryEnv",
    "thinkgym/PolynomialRoots-v0": "polynomial_roots:PolynomialRootsEnv",
    "thinkgym/WordProblem-v0": "word_problem:WordProblemEnv",
}
"""Env id -> ``module:Class`` of each task in this package."""

declare_family("math", __name__, TASKS)
