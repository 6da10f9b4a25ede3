"""Levels as data: one table per task config, resolved by one function, validated with ValueError."""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass

import gymnasium as gym
import pytest

import thinkgym
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import env_info

ENV_IDS = thinkgym.list_envs()


def config_cls(env_id: str) -> type:
    return registry_class(env_id).config_cls


def registry_class(env_id: str) -> type:
    module, _, name = env_info(env_id).entry_point.partition(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_every_task_config_is_a_level_table(env_id):
    cls = config_cls(env_id)
    assert issubclass(cls, TaskConfig)
    assert env_info(env_id).max_difficulty == cls.LEVELS.max_difficulty
    for bad in (0, cls.LEVELS.max_difficulty + 1, True):
        with pytest.raises(ValueError, match="difficulty must be one of"):
            cls(difficulty=bad)


@pytest.mark.parametrize("env_id", ENV_IDS, ids=ENV_IDS)
def test_levels_fill_only_fields_left_unset(env_id):
    cls = config_cls(env_id)
    names = {f.name for f in dataclasses.fields(cls)}
    for level in range(1, cls.LEVELS.max_difficulty + 1):
        config = cls(difficulty=level)
        row = cls.LEVELS.row(level)
        for name in set(row) & names:
            assert getattr(config, name) is not None, name
        # an explicit value wins over the table: rebuilding from the resolved fields is a fixed point
        again = cls(**dataclasses.asdict(config))
        assert again == config


@dataclass(frozen=True)
class _Toy(TaskConfig):
    LEVELS = Levels(
        ("min_size", "max_size", "rate", "turns"),
        {1: (2, 3, 0.5, lambda c: c.max_size + 1), 2: (4, 6, 0.25, lambda c: c.max_size + 1)},
        at_least={"max_size": "min_size"},
    )
    min_size: int | None = None
    max_size: int | None = None
    turns: int | None = None
    share: float = 0.5

    def validate(self) -> None:
        ordered(self, "min_size", "max_size", 1, 10)
        within(self, "share", 0.0, 1.0)


def test_resolution_by_hand():
    assert _Toy(difficulty=2) == _Toy(difficulty=2, min_size=4, max_size=6, turns=7, share=0.5)
    assert _Toy(difficulty=2).level["rate"] == 0.25  # a level parameter, not a field
    assert _Toy(min_size=5).max_size == 5  # a defaulted max is lifted to an explicit, larger min
    assert _Toy(min_size=5).turns == 6  # derived from the fields resolved before it
    assert _Toy(max_size=9).turns == 10
    with pytest.raises(ValueError, match=r"need 1 <= min_size <= max_size <= 10, got 5, 4"):
        _Toy(min_size=5, max_size=4)
    with pytest.raises(ValueError, match=r"share must be in \[0, 1\], got 1.5"):
        _Toy(share=1.5)
    with pytest.raises(ValueError, match=r"difficulty must be one of \[1, 2\], got 3"):
        _Toy(difficulty=3)


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="numbered 1..n"):
        Levels(("a",), {1: (1,), 3: (2,)})
    with pytest.raises(ValueError, match="one value per name"):
        Levels(("a", "b"), {1: (1, 2), 2: (3,)})


def test_register_task_derives_max_difficulty_and_refuses_a_mismatch():
    from thinkgym.envs.registry import register_task

    with pytest.raises(ValueError, match="has 2 levels"):
        register_task("test/ToyLevels-v0", family="toy", config=_Toy, generate=None, verify=None, max_difficulty=3)
    assert "test/ToyLevels-v0" not in gym.registry


def test_a_bad_option_is_a_user_error_with_the_configs_message():
    from thinkgym.errors import UserError

    with pytest.raises(UserError, match=r"need 3 <= min_nodes <= max_nodes <= 200, got 7, 5"):
        thinkgym.make("thinkgym/ShortestPath-v0", min_nodes=7, max_nodes=5)
    with pytest.raises(UserError, match=r"difficulty must be in 1..3, got 4"):
        thinkgym.make("thinkgym/ShortestPath-v0", difficulty=4)
