"""What a verifier returns, and the error a parser raises for an answer it cannot read."""

from __future__ import annotations

from dataclasses import dataclass


class InvalidAnswer(ValueError):
    """The answer text could not be parsed into the task's answer format.

    Verifiers raise it with a short reason ("node 'Q' is not in the graph"); the env turns it
    into reward 0 and puts the reason in ``info["reason"]``.
    """


@dataclass(frozen=True)
class Verdict:
    """A verifier's judgement of one parsed answer.

    score: reward in [0, 1]; 1.0 means correct.
    reason: why the score is below 1 (empty when correct).
    canonical: the parsed answer in a canonical text form (for majority voting and logs).
    """

    score: float
    reason: str = ""
    canonical: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")

    @classmethod
    def of(cls, result: "float | bool | Verdict") -> "Verdict":
        """Normalise what a verifier returned (a float, a bool or a Verdict) to a Verdict."""
        if isinstance(result, Verdict):
            return result
        score = float(result)
        return cls(score, "" if score >= 1.0 else "wrong answer")
