"""The math family: one module per task; importing this package registers them."""

from thinkgym.envs.math import (  # noqa: F401
    arithmetic,
    countdown,
    dataset,
    derivative,
    expand,
    factor,
    integral,
    limit,
    linear_system,
    number_theory,
    polynomial_roots,
    rationals,
    word_problem,
)
