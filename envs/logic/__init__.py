"""The logic family: one module per task, imported when one of its envs is made or described.

Single-turn: Circuit, Entailment, Hanoi, KnightsKnaves, NQueens, Satisfiability, Sudoku,
Syllogism, Zebra. Multi-turn: Mastermind.
"""

from thinkgym.envs.registry import declare_family

TASKS = {
    "thinkgym/Circuit-v0": "circuit:CircuitEnv",
    "thinkgym/Entailment-v0": "entailment:EntailmentEnv",
    "thinkgym/Hanoi-v0": "hanoi:HanoiEnv",
    "thinkgym/KnightsKnaves-v0": "knights_knaves:KnightsKnavesEnv",
    "thinkgym/Mastermind-v0": "mastermind:MastermindEnv",
    "thinkgym/NQueens-v0": "n_queens:NQueensEnv",
    "thinkgym/Satisfiability-v0": "sat:SatisfiabilityEnv",
    "thinkgym/Sudoku-v0": "sudoku:SudokuEnv",
    "thinkgym/Syllogism-v0": "syllogism:SyllogismEnv",
    "thinkgym/Zebra-v0": "zebra:ZebraEnv",
}
"""Env id -> ``module:Class`` of each task in this package."""

declare_family("logic", __name__, TASKS)
