"""The logic family: one module per task; importing this package registers them."""

from thinkgym.envs.logic import circuit, hanoi, entailment, knights_knaves, n_queens, sat, sudoku, syllogism, zebra  # noqa: F401
