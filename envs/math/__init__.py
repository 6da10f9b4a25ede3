"""The math family: one module per task; importing this package registers them."""

from thinkgym.envs.math import arithmetic, linear_system, number_theory, rationals  # noqa: F401
