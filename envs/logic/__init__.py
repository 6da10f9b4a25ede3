"""The logic family: one module per task; importing this package registers them.

Single-turn: Circuit, Entailment, Hanoi, KnightsKnaves, NQueens, Satisfiability, Sudoku,
Syllogism, Zebra. Multi-turn: Mastermind.
"""

from thinkgym.envs.logic import (  # noqa: F401
    circuit,
    entailment,
    hanoi,
    knights_knaves,
    mastermind,
    n_queens,
    sat,
    sudoku,
    syllogism,
    zebra,
)
