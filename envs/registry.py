"""The thinkgym env registry, built on Gymnasium's: ``gymnasium.registry`` is the one source of truth.

Every env is a Gymnasium ``EnvSpec`` under a versioned id (``"thinkgym/ShortestPath-v0"``), so
``gym.make`` works. A spec may carry ``kwargs``: a variant is the same env at fixed options
(``register_task("thinkgym/ShortestPathHops-v0", ..., kwargs={"weighted": False})``). The built-in
envs are declared by entry point (see :func:`declare`) and their modules imported when an env is
made or described; third-party packages add envs through the entry-point group ``thinkgym.envs``
(see :func:`load_plugins`). What Gymnasium's spec does not hold (the family, and what
``thinkgym envs`` prints) is kept beside the spec, and counts only while ``gymnasium.registry``
holds that very spec: removing an env is ``gymnasium.registry.pop(env_id)`` or :func:`unregister`.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

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
    kwargs: dict[str, Any] = field(default_factory=dict)
    """The options a variant fixes (the spec's ``kwargs``); empty for a plain env."""

    @property
    def turns(self) -> str:
        return "multi" if self.multi_turn else "single"


@dataclass
class _Entry:
    spec: EnvSpec
    family: str
    info: EnvInfo | None = None
    """Filled once the env class is loaded (at registration, or lazily by :func:`env_info`)."""


_SIDE: dict[str, _Entry] = {}
"""thinkgym's part of each spec, by id; an entry whose spec is no longer in gym.registry is void."""


def _entry(env_id: str) -> _Entry | None:
    entry = _SIDE.get(env_id)
    if entry is None or gym.registry.get(env_id) is not entry.spec:
        return None
    return entry


def declare(env_id: str, entry_point: str, *, family: str, kwargs: Mapping[str, Any] | None = None) -> None:
    """Register an env by its entry point (``"package.module:Class"``) without importing it; the
    module is imported when the env is made or described. Declaring the same env again is a no-op."""
    _check_id(env_id)
    entry = _entry(env_id)
    if entry is not None:
        if (entry.spec.entry_point, entry.spec.kwargs) == (entry_point, dict(kwargs or {})):
            return
        raise ValueError(f"env id {env_id!r} is already registered by {entry.spec.entry_point}")
    gym.register(id=env_id, entry_point=entry_point, kwargs=dict(kwargs or {}))
    _SIDE[env_id] = _Entry(gym.registry[env_id], family)


def declare_family(family: str, package: str, tasks: Mapping[str, str]) -> None:
    """:func:`declare` each ``env id -> "module:Class"`` of a family package (modules relative to
    ``package``): what a family's ``__init__`` does, so that importing it imports no task."""
    for env_id, entry_point in tasks.items():
        declare(env_id, f"{package}.{entry_point}", family=family)


def register_env(
    env_id: str, env_cls: type[ReasoningEnv], *, kwargs: Mapping[str, Any] | None = None
) -> type[ReasoningEnv]:
    """Register a :class:`ReasoningEnv` subclass under ``env_id`` (``"namespace/Name-vN"``);
    ``kwargs`` are options fixed for this id (a variant; callers of ``make`` may still override them)."""
    _check_id(env_id)
    if not (isinstance(env_cls, type) and issubclass(env_cls, ReasoningEnv)):
        raise TypeError(f"{env_cls!r} is not a ReasoningEnv subclass")
    if not env_cls.family:
        raise ValueError(f"{env_cls.__name__} must set a family")
    if env_cls.max_difficulty < 3:
        raise ValueError(f"{env_cls.__name__}.max_difficulty must be >= 3, got {env_cls.max_difficulty}")
    if kwargs:
        unknown = sorted(set(kwargs) - {f.name for f in _config_fields(env_cls)} - {"difficulty"})
        if unknown:
            raise ValueError(f"{env_id}: unknown option(s) {', '.join(unknown)} for {env_cls.__name__}")
    declare(env_id, _entry_point(env_cls), family=env_cls.family, kwargs=kwargs)
    entry = _SIDE[env_id]
    if entry.family != env_cls.family:
        raise ValueError(f"{env_id} is declared in family {entry.family!r}, but {env_cls.__name__}.family is {env_cls.family!r}")
    entry.info = _describe(env_id, env_cls, entry.spec)
    return env_cls


def unregister(env_id: str) -> None:
    """Remove an env (its Gymnasium spec and thinkgym's part); unknown ids are ignored."""
    gym.registry.pop(env_id, None)
    _SIDE.pop(env_id, None)


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
    kwargs: Mapping[str, Any] | None = None,
) -> type[SingleTurnEnv]:
    """Turn a task core into a single-turn env class and register it: the one line a task
    module needs. Returns the env class; assign it to a module-level name so that Gymnasium's
    ``"module:Class"`` entry point finds it (``ShortestPathEnv = register_task(...)``); the
    class is also bound in its module under the name derived from the id (``ShortestPathEnv``).
    ``max_difficulty`` defaults to the highest level of the config's table (3 for a config without
    one, see :mod:`thinkgym.envs.levels`). ``kwargs``: options fixed for this id, as in
    :func:`register_env` (which also registers a variant of an existing env class).
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
    return register_env(env_id, env_cls, kwargs=kwargs)  # type: ignore[return-value]


def list_envs(family: str | None = None) -> list[str]:
    """Ids of all registered thinkgym envs (built-in and plugins), sorted; optionally one family."""
    return sorted(i for i in list(_SIDE) if (e := _entry(i)) is not None and family in (None, e.family))


def families() -> list[str]:
    return sorted({_SIDE[i].family for i in list_envs()})


def env_info(env_id: str) -> EnvInfo:
    """Metadata of a registered env (importing its module the first time); raises
    :class:`UnknownEnvError` with a suggestion."""
    entry = _entry(env_id)
    if entry is None:
        raise UnknownEnvError(unknown_env_message(env_id))
    if entry.info is None:
        env_cls = _load(entry.spec.entry_point)  # importing the module may register it, filling info
        if entry.info is None:
            entry.info = _describe(env_id, env_cls, entry.spec)
    return entry.info


def unknown_env_message(env_id: str) -> str:
    candidates = list_envs()
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


def _check_id(env_id: str) -> None:
    if not isinstance(env_id, str) or not _ID_RE.match(env_id):
        raise ValueError(f"env id {env_id!r} must look like 'namespace/Name-v0'")


def _load(entry_point: str) -> type:
    module, _, name = entry_point.partition(":")
    return getattr(importlib.import_module(module), name)


def _config_fields(env_cls: type) -> tuple:
    import dataclasses

    config = getattr(env_cls, "config_cls", None)
    return dataclasses.fields(config) if config is not None and dataclasses.is_dataclass(config) else ()


def _describe(env_id: str, env_cls: type[ReasoningEnv], spec: EnvSpec) -> EnvInfo:
    doc = (env_cls.__doc__ or "").strip().splitlines()
    return EnvInfo(
        id=env_id,
        family=env_cls.family,
        max_difficulty=env_cls.max_difficulty,
        multi_turn=issubclass(env_cls, MultiTurnEnv),
        requires=tuple(env_cls.requires),
        entry_point=_entry_point(env_cls),
        description=doc[0] if doc else "",
        kwargs=dict(spec.kwargs),
    )


def _entry_point(env_cls: type) -> str:
    return f"{env_cls.__module__}:{env_cls.__qualname__}"


def _module_doc(module: str) -> str:
    import sys

    mod = sys.modules.get(module)
    return (mod.__doc__ or "") if mod else ""
