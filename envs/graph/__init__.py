"""The graph family: one module per task; importing this package registers them."""

from thinkgym.envs.graph import shortest_path  # noqa: F401
