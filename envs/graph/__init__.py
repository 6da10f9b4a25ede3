"""The graph family: one module per task, imported when one of its envs is made or described."""

from thinkgym.envs.registry import declare_family

TASKS = {
    "thinkgym/BfsDistance-v0": "bfs_distance:BfsDistanceEnv",
    "thinkgym/Bipartite-v0": "bipartite:BipartiteEnv",
    "thinkgym/ConnectedComponents-v0": "components:ConnectedComponentsEnv",
    "thinkgym/EulerianPath-v0": "eulerian_path:EulerianPathEnv",
    "thinkgym/FindCycle-v0": "find_cycle:FindCycleEnv",
    "thinkgym/GraphColouring-v0": "colouring:GraphColouringEnv",
    "thinkgym/GraphExplore-v0": "explore:GraphExploreEnv",
    "thinkgym/MSTWeight-v0": "mst_weight:MSTWeightEnv",
    "thinkgym/MaxFlow-v0": "max_flow:MaxFlowEnv",
    "thinkgym/ShortestPath-v0": "shortest_path:ShortestPathEnv",
    "thinkgym/TopologicalSort-v0": "topological_sort:TopologicalSortEnv",
}
"""Env id -> ``module:Class`` of each task in this package."""

declare_family("graph", __name__, TASKS)
