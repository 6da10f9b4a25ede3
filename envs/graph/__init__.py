"""The graph family: one module per task; importing this package registers them."""

from thinkgym.envs.graph import (  # noqa: F401
    bfs_distance,
    bipartite,
    colouring,
    components,
    eulerian_path,
    explore,
    find_cycle,
    max_flow,
    mst_weight,
    shortest_path,
    topological_sort,
)
