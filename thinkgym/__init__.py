"""thinkgym: Gymnasium text environments with verifiable rewards, and a GRPO agent.

``import thinkgym`` registers every built-in env and every plugin env (entry-point group
``thinkgym.envs``) with Gymnasium; a built-in env's module is imported when the env is made or
described, so ``import thinkgym.rewards`` imports no task (nor sympy, networkx, python-chess)::

    import gymnasium as gym, thinkgym
    env = gym.make("thinkgym/ShortestPath-v0", difficulty=2)

``thinkgym.score(env_id, seed, completion, difficulty=1)`` is the reward ``env.step`` gives that
completion on the problem ``reset(seed=seed)`` poses: the hook for other trainers (see
:mod:`thinkgym.integrations` and :mod:`thinkgym.datasets`).
"""

from thinkgym.envs import (
    EnvInfo,
    MultiTurnEnv,
    ReasoningEnv,
    SingleTurnEnv,
    UnknownEnvError,
    env_info,
    families,
    list_envs,
    load_plugins,
    make,
    register_env,
    register_task,
    unregister,
)
from thinkgym.scoring import score

__version__ = "0.1.0"

load_plugins()

__all__ = [
    "EnvInfo",
    "MultiTurnEnv",
    "ReasoningEnv",
    "SingleTurnEnv",
    "UnknownEnvError",
    "env_info",
    "families",
    "list_envs",
    "load_plugins",
    "make",
    "register_env",
    "register_task",
    "score",
    "unregister",
]
