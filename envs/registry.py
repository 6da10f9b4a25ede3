"""The thinkgym env registry: built-in and plugin envs, registered with Gymnasium.

Every env is registered with ``gymnasium.register`` under a versioned id
(``"thinkgym/ShortestPath-v0"``), so ``gym.make`` works, and is recorded here with the
metadata ``thinkgym envs`` prints. Third-party packages add envs through the entry-point group
``thinkgym.envs`` (see :func:`load_plugins`).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import gymnasium as gym

from thinkgym.envs.base import MultiTurnEnv, ReasoningEnv, SingleTurnEnv
from thinkgym.envs.levels import max_difficulty_of
from thinkgym.errors import UserError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "thinkgym.envs"
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.]+-v\d+$")


class UnknownEnvError(UserError):
    """An env id that is not registered; the message suggests the closest registered id."""


@dataclass(frozen=True)
class EnvInfo:
    """What the registry knows about an env without building it."""

    id: str
    family: str
    max_difficulty: int
    multi_turn: bool
    requires: tuple[str, ...]
    entry_point: str
    description: str

    @property
    def turns(self) -> str:
        return "multi" if self.multi_turn else "single"


_ENVS: dict[str, EnvInfo] = {}


def register_env(env_id: str, env_cls: type[ReasoningEnv]) -> type[ReasoningEnv]:
    """Register a :class:`ReasoningEnv` subclass under ``env_id`` (``"namespace/Name-vN"``)."""
    if not _ID_RE.match(env_id):
        raise ValueError(f"env id {env_id!r} must look like 'namespace/Name-v0'")
    if not (isinstance(env_cls, type) and issubclass(env_cls, ReasoningEnv)):
        raise TypeError(f"{env_cls!r} is not a ReasoningEnv subclass")
    if not env_cls.family:
        raise ValueError(f"{env_cls.__name__} must set a family")
    if env_cls.max_difficulty < 3:
        raise ValueError(f"{env_cls.__name__}.max_difficulty must be >= 3, got {env_cls.max_difficulty}")
    if env_id in _ENVS:
        if _ENVS[env_id].entry_point == _entry_point(env_cls):
            return env_cls  # the same module imported twice (e.g. plugin reload): nothing to do
        raise ValueError(f"env id {env_id!r} is already registered by {_ENVS[env_id].entry_point}")
    gym.register(id=env_id, entry_point=_entry_point(env_cls))
    doc = (env_cls.__doc__ or "").strip().splitlines()
    _ENVS[env_id] = EnvInfo(
        id=env_id,
        family=env_cls.family,
        max_difficulty=env_cls.max_difficulty,
        multi_turn=issubclass(env_cls, MultiTurnEnv),
        requires=tuple(env_cls.requires),
        entry_point=_entry_point(env_cls),
        description=doc[0] if doc else "",
    )
    return env_cls


def register_task(
    env_id: str,
    *,
    family: str,
    config: type,
    generate: Callable[[Any, Any], Any],
    verify: Callable[[Any, str], Any],
    explain: Callable[[Any], str] | None = None,
    from_options: Callable[[Mapping[str, Any], Any], Any] | None = None,
    max_difficulty: int | None = None,
    boxed_fallback: bool = False,
    requires: tuple[str, ...] = (),
    doc: str | None = None,
) -> type[SingleTurnEnv]:
    """Turn a task core into a single-turn env class and register it: the one line a task
    module needs. Returns the env class; assign it to a module-level name so that Gymnasium's
    ``"module:Class"`` entry point finds it (``ShortestPathEnv = register_task(...)``); the
    class is also bound in its module under the name derived from the id (``ShortestPathEnv``).
    ``max_difficulty`` defaults to the highest level of the config's table (3 for a config without
    one, see :mod:`thinkgym.envs.levels`).
    """
    table_top = max_difficulty_of(config)
    if max_difficulty is not None and table_top is not None and max_difficulty != table_top:
        raise ValueError(f"{env_id}: max_difficulty={max_difficulty} but {config.__name__}.LEVELS has {table_top} levels")
    class_name = env_id.split("/")[-1].split("-v")[0] + "Env"
    module = getattr(generate, "__module__", __name__)
    env_cls = type(
        class_name,
        (SingleTurnEnv,),
        {
            "__module__": module,
            "__qualname__": class_name,
            "__doc__": doc or _module_doc(module),
            "family": family,
            "max_difficulty": max_difficulty or table_top or ReasoningEnv.max_difficulty,
            "requires": tuple(requires),
            "boxed_fallback": boxed_fallback,
            "config_cls": config,
            "task_generate": staticmethod(generate),
            "task_verify": staticmethod(verify),
            "task_explain": staticmethod(explain) if explain else None,
            "task_from_options": staticmethod(from_options) if from_options else None,
        },
    )
    # Bind the class under its own name in the task module, so that Gymnasium's
    # "module:Class" entry point (and pickle) find it whatever name the module assigns it to.
    import sys

    if module in sys.modules:
        setattr(sys.modules[module], class_name, env_cls)
    return register_env(env_id, env_cls)  # type: ignore[return-value]


def list_envs(family: str | None = None) -> list[str]:
    """Ids of all registered thinkgym envs (built-in and plugins), sorted; optionally one family."""
    return sorted(i for i, info in _ENVS.items() if family is None or info.family == family)


def families() -> list[str]:
    return sorted({info.family for info in _ENVS.values()})


def env_info(env_id: str) -> EnvInfo:
    """Metadata of a registered env; raises :class:`UnknownEnvError` with a suggestion."""
    try:
        return _ENVS[env_id]
    except KeyError:
        raise UnknownEnvError(unknown_env_message(env_id)) from None


def unknown_env_message(env_id: str) -> str:
    candidates = list(_ENVS)
    close = difflib.get_close_matches(env_id, candidates, n=1, cutoff=0.5)
    if not close:  # also try without namespace and version, case-insensitively
        bare = {c.split("/")[-1].split("-v")[0].lower(): c for c in candidates}
        key = env_id.split("/")[-1].split("-v")[0].lower()
        hit = difflib.get_close_matches(key, list(bare), n=1, cutoff=0.6)
        close = [bare[hit[0]]] if hit else []
    hint = f"; did you mean {close[0]!r}?" if close else "; run `thinkgym envs` to list them"
    return f"unknown env id {env_id!r}{hint}"


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with a did-you-mean error for unknown ids."""
    env_info(env_id)
    return gym.make(env_id, **kwargs)


def load_plugins() -> list[str]:
    """Import every entry point of the group ``thinkgym.envs``; return the names loaded.

    An entry point may name a module (importing it registers its envs) or a callable, which is
    called with no arguments. A broken plugin is reported with a warning and skipped.
    """
    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, type):
                obj()
            loaded.append(ep.name)
        except Exception as err:
            logger.warning("thinkgym plugin %r (%s) failed to load: %s", ep.name, ep.value, err)
    return loaded


def _entry_point(env_cls: type) -> str:
    return f"{env_cls.__module__}:{env_cls.__qualname__}"


def _module_doc(module: str) -> str:
    import sys

    mod = sys.modules.get(module)
    return (mod.__doc__ or "") if mod else ""
