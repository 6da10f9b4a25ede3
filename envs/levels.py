"""Difficulty as data: a task config declares its level table, and one function resolves it.

A task config subclasses :class:`TaskConfig` and sets ``LEVELS``, a :class:`Levels` table: the
names of its columns and, for each difficulty, a row of values::

    @dataclass(frozen=True)
    class ShortestPathConfig(TaskConfig):
        LEVELS = Levels(("min_nodes", "max_nodes"), {1: (5, 6), 2: (8, 10), 3: (12, 16)},
                        at_least={"max_nodes": "min_nodes"})
        min_nodes: int | None = None
        max_nodes: int | None = None

        def validate(self) -> None:
            ordered(self, "min_nodes", "max_nodes", 3, 200)

A field left at ``None`` takes its level's value; a value in the table that names no field is a
level parameter the generator reads as ``config.level["name"]``. A table value may be a function
of the config resolved so far (fields are resolved in declaration order), for a default derived
from other fields. The env's ``max_difficulty`` is the table's highest level. A bad level or a bad
field value raises ``ValueError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar


class Levels:
    """A difficulty table: the names of its columns (config fields and level parameters) and one
    row of values per level, numbered 1, 2, ...

    ``at_least`` maps a field to another whose resolved value is a floor for its level default:
    ``{"max_nodes": "min_nodes"}`` lifts a defaulted ``max_nodes`` to an explicit, larger
    ``min_nodes``, so that asking for bigger graphs than a level's range stays a valid range.
    """

    def __init__(
        self,
        names: tuple[str, ...],
        rows: Mapping[int, tuple[Any, ...]],
        *,
        at_least: Mapping[str, str] | None = None,
    ) -> None:
        if sorted(rows) != list(range(1, len(rows) + 1)):
            raise ValueError(f"levels must be numbered 1..n, got {sorted(rows)}")
        if any(len(row) != len(names) for row in rows.values()):
            raise ValueError(f"every level needs one value per name {names}")
        self.names = tuple(names)
        self.rows = {level: MappingProxyType(dict(zip(names, row))) for level, row in sorted(rows.items())}
        self.at_least = dict(at_least or {})

    @property
    def max_difficulty(self) -> int:
        return len(self.rows)

    def row(self, difficulty: int) -> Mapping[str, Any]:
        """The values of one level; ``ValueError`` naming the known levels for any other."""
        if isinstance(difficulty, bool) or difficulty not in self.rows:
            raise ValueError(f"difficulty must be one of {sorted(self.rows)}, got {difficulty!r}")
        return self.rows[difficulty]

    def __repr__(self) -> str:
        return f"Levels({self.names}, { {k: tuple(v.values()) for k, v in self.rows.items()} })"


PLAIN = Levels((), {1: (), 2: (), 3: ()})
"""Three levels and no table: for a generator that reads ``config.difficulty`` itself."""


@dataclass(frozen=True)
class TaskConfig:
    """Base of the task configs: ``difficulty`` picks a row of ``LEVELS``, which fills the
    fields left at ``None``; then :meth:`validate` checks the result."""

    difficulty: int = 1
    """Level of the problems, 1..max_difficulty."""
    LEVELS: ClassVar[Levels] = PLAIN

    def __post_init__(self) -> None:
        resolve(self)
        self.validate()

    def validate(self) -> None:
        """Check the resolved fields; raise ``ValueError`` saying what is allowed."""

    @property
    def level(self) -> Mapping[str, Any]:
        """This config's row of ``LEVELS`` (level parameters included)."""
        return self.LEVELS.row(self.difficulty)


def resolve(config: TaskConfig) -> None:
    """Fill the fields of a frozen config left at ``None`` from its level's row, in field order."""
    levels = type(config).LEVELS
    row = levels.row(config.difficulty)
    for field in dataclasses.fields(config):
        name = field.name
        if name not in row or getattr(config, name) is not None:
            continue
        value = row[name]
        if callable(value):
            value = value(config)
        floor = levels.at_least.get(name)
        if floor is not None:
            value = max(value, getattr(config, floor))
        object.__setattr__(config, name, value)  # the one place a frozen config is completed


def max_difficulty_of(config_cls: type) -> int | None:
    """The highest level of a config class's table, or None for a config without one."""
    levels = getattr(config_cls, "LEVELS", None)
    return levels.max_difficulty if isinstance(levels, Levels) else None


def within(config: Any, name: str, low: float, high: float) -> None:
    """``ValueError`` unless ``low <= config.<name> <= high`` (an int range, or a float interval)."""
    value = getattr(config, name)
    if not low <= value <= high:
        span = f"[{low:g}, {high:g}]" if isinstance(low, float) or isinstance(high, float) else f"{low}..{high}"
        raise ValueError(f"{name} must be in {span}, got {value}")


def ordered(config: Any, lo_name: str, hi_name: str, low: int, high: int) -> None:
    """``ValueError`` unless ``low <= config.<lo_name> <= config.<hi_name> <= high``."""
    lo, hi = getattr(config, lo_name), getattr(config, hi_name)
    if not low <= lo <= hi <= high:
        raise ValueError(f"need {low} <= {lo_name} <= {hi_name} <= {high}, got {lo}, {hi}")
