"""Per-env difficulty that follows the policy's rolling success rate.

Each env of the mix keeps its last ``window`` episode outcomes. When the window is full and its
success rate reaches ``up``, the env moves one level harder; when it falls to ``down``, one
level easier (never below 1 or above the env's ``max_difficulty``). The window restarts after
every move. Disabled, the levels stay at the mix's difficulties.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from thinkgym.agents.config import EnvSpec
from thinkgym.envs.registry import env_info


class Curriculum:
    def __init__(self, mix: Sequence[EnvSpec], *, enabled: bool, window: int, up: float, down: float) -> None:
        self.enabled, self.window, self.up, self.down = enabled, window, up, down
        self.levels = {spec.id: spec.difficulty for spec in mix}
        self.max_levels = {spec.id: env_info(spec.id).max_difficulty for spec in mix}
        self.history: dict[str, list[bool]] = {spec.id: [] for spec in mix}

    def update(self, outcomes: Iterable[tuple[str, bool]]) -> dict[str, int]:
        """Record ``(env_id, success)`` outcomes; returns the envs whose level changed."""
        if not self.enabled:
            return {}
        changed = {}
        for env_id, success in outcomes:
            history = self.history[env_id]
            history.append(bool(success))
            del history[: -self.window]
            if len(history) < self.window:
                continue
            rate = sum(history) / len(history)
            level = self.levels[env_id]
            if rate >= self.up and level < self.max_levels[env_id]:
                level += 1
            elif rate <= self.down and level > 1:
                level -= 1
            if level != self.levels[env_id]:
                self.levels[env_id] = changed[env_id] = level
                history.clear()
        return changed

    def state_dict(self) -> dict[str, Any]:
        return {"levels": dict(self.levels), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.levels.update({k: int(v) for k, v in state["levels"].items() if k in self.levels})
        self.history.update({k: list(v) for k, v in state["history"].items() if k in self.history})
