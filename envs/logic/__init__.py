"""The logic family: one module per task; importing this package registers them."""

from thinkgym.envs.logic import circuit, hanoi, entailment, n_queens, sat  # noqa: F401
