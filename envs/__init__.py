"""thinkgym.envs: the env contract, the registry, and the built-in env families.

Importing this package registers every built-in env with Gymnasium by entry point (one module
per task under ``math/``, ``logic/``, ``chess/`` and ``graph/``, imported when its env is made or
described, so that importing thinkgym pulls in no sympy, networkx or python-chess);
``import thinkgym`` also loads plugin envs.
"""

from thinkgym.envs.base import MultiTurnEnv, Problem, ReasoningEnv, SingleTurnEnv
from thinkgym.envs.registry import (
    EnvInfo,
    UnknownEnvError,
    declare,
    env_info,
    families,
    list_envs,
    load_plugins,
    make,
    register_env,
    register_task,
    unregister,
)

# Built-in families; each family package declares its tasks (see its TASKS).
from thinkgym.envs import chess, graph, logic, math  # noqa: E402,F401  isort: skip
from thinkgym.envs.checker import Finding, check_env  # noqa: E402  isort: skip

__all__ = [
    "EnvInfo",
    "Finding",
    "MultiTurnEnv",
    "Problem",
    "ReasoningEnv",
    "SingleTurnEnv",
    "UnknownEnvError",
    "check_env",
    "declare",
    "env_info",
    "families",
    "list_envs",
    "load_plugins",
    "make",
    "register_env",
    "register_task",
    "unregister",
]
