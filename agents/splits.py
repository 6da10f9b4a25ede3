"""Moved to :mod:`thinkgym.splits` (the problem streams live below the trainer); kept importable here."""

from thinkgym.splits import EVAL_SHARE, MAX_SKIPS, SPLIT_TAGS, ProblemRef, check_split, derive_seed, problem_stream, split_of

__all__ = ["EVAL_SHARE", "MAX_SKIPS", "SPLIT_TAGS", "ProblemRef", "check_split", "derive_seed", "problem_stream", "split_of"]
