"""thinkgym.envs: the env contract, the registry, and the built-in env families.

Importing this package registers every built-in env (one module per task under ``math/``,
``logic/``, ``chess/`` and ``graph/``); ``import thinkgym`` also loads plugin envs.
"""

from thinkgym.envs.base import MultiTurnEnv, Problem, ReasoningEnv, SingleTurnEnv
from thinkgym.envs.registry import (
    EnvInfo,
    UnknownEnvError,
    env_info,
    families,
    list_envs,
    load_plugins,
    make,
    register_env,
    register_task,
)

# Built-in families; each family package imports its task modules, which register themselves.
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
    "env_info",
    "families",
    "list_envs",
    "load_plugins",
    "make",
    "register_env",
    "register_task",
]
