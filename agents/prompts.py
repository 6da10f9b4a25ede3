"""Moved to :mod:`thinkgym.prompts` (the R1 prompt lives beside the R1 format reward, below the trainer); kept importable here."""

from thinkgym.prompts import R1_SYSTEM_PROMPT, build_messages

__all__ = ["R1_SYSTEM_PROMPT", "build_messages"]
