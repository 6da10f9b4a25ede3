"""Maximum flow value from a source to a sink in a directed graph with edge capacities.

Prompt: the directed edges one a line (``A -> B (capacity 5)``), the source and the sink.
Answer: the value of a maximum flow, e.g. ``<answer>12</answer>`` (``max flow: 12`` also
reads). Reward 1.0 when right, else 0.

Difficulty: 1 = 4 or 5 nodes, capacities 1..9; 2 = 6 to 8 nodes, capacities 1..9; 3 = 9 to 12
nodes, capacities 1..20, denser.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import edge_list_text, node_key, node_names, parse_int, sorted_nodes
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class MaxFlowConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "max_capacity", "edge_factor"),
        {1: (4, 5, 9, 1.2), 2: (6, 8, 9, 1.6), 3: (9, 12, 20, 2.0)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    max_capacity: int | None = None
    """Capacities are drawn from 1..max_capacity (default from difficulty)."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 3, 100)
        within(self, "max_capacity", 1, 1000)


@dataclass(frozen=True)
class MaxFlowProblem:
    prompt: str
    answer: str
    graph: nx.DiGraph
    source: str
    sink: str
    value: int


def generate(rng: np.random.Generator, config: MaxFlowConfig) -> MaxFlowProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    order = [node_names(n)[i] for i in rng.permutation(n)]  # edges point forward in this order
    source, sink = order[0], order[-1]
    graph = nx.DiGraph()
    graph.add_nodes_from(order)
    for i in range(1, n):  # every node is reachable from the source...
        graph.add_edge(order[int(rng.integers(i))], order[i])
    for i in range(n - 1):  # ...and reaches the sink
        if not any(graph.has_edge(order[i], w) for w in order[i + 1 :]):
            graph.add_edge(order[i], order[int(rng.integers(i + 1, n))])
    forward = [(order[i], order[j]) for i in range(n) for j in range(i + 1, n) if not graph.has_edge(order[i], order[j])]
    extra = max(0, round(config.level["edge_factor"] * n) - graph.number_of_edges())
    for k in rng.permutation(len(forward))[:extra]:
        graph.add_edge(*forward[int(k)])
    for u, v in sorted(graph.edges):
        graph[u][v]["capacity"] = int(rng.integers(1, config.max_capacity + 1))
    value = int(nx.maximum_flow_value(graph, source, sink))
    prompt = (
        f"A directed network has these edges with capacities:\n{edge_list_text(graph, weighted=True, label='capacity')}\n"
        f"What is the maximum flow from the source {source} to the sink {sink}? Flow follows edge directions, "
        "no edge carries more than its capacity, and every other node passes on all flow it receives. "
        "Answer with the number, e.g. <answer>12</answer>."
    )
    return MaxFlowProblem(prompt, str(value), graph, source, sink, value)


def verify(problem: MaxFlowProblem, answer: str) -> Verdict:
    claimed = parse_int(answer)
    if claimed != problem.value:
        return Verdict(0.0, f"{claimed} is not the maximum flow value", str(claimed))
    return Verdict(1.0, canonical=str(claimed))


def _augmenting_paths(problem: MaxFlowProblem) -> list[tuple[list[str], int]]:
    """Edmonds-Karp: shortest augmenting paths in the residual network, in order."""
    graph = problem.graph
    residual: dict[tuple[str, str], int] = {}
    for u, v, d in graph.edges(data=True):
        residual[(u, v)] = residual.get((u, v), 0) + d["capacity"]
        residual.setdefault((v, u), 0)
    neighbours: dict[str, list[str]] = {node: [] for node in graph}
    for u, v in residual:
        neighbours[u].append(v)
    for node in neighbours:
        neighbours[node].sort(key=node_key)
    paths = []
    while True:
        parent = {problem.source: problem.source}
        queue = deque([problem.source])
        while queue and problem.sink not in parent:
            u = queue.popleft()
            for v in neighbours[u]:
                if v not in parent and residual[(u, v)] > 0:
                    parent[v] = u
                    queue.append(v)
        if problem.sink not in parent:
            return paths
        path = [problem.sink]
        while path[-1] != problem.source:
            path.append(parent[path[-1]])
        path.reverse()
        push = min(residual[(u, v)] for u, v in zip(path, path[1:]))
        for u, v in zip(path, path[1:]):
            residual[(u, v)] -= push
            residual[(v, u)] += push
        paths.append((path, push))


def explain(problem: MaxFlowProblem) -> str:
    """Augmenting paths (Edmonds-Karp), then the saturated cut that proves optimality."""
    lines = ["Push flow along shortest paths with spare capacity (an edge's spare capacity backwards is the flow it carries):"]
    total = 0
    for path, push in _augmenting_paths(problem):
        total += push
        lines.append(f"{' -> '.join(path)}: push {push}, total {total}")
    cut_value, (reachable, _) = nx.minimum_cut(problem.graph, problem.source, problem.sink)
    lines.append(
        f"No path with spare capacity is left. The nodes still reachable, {', '.join(sorted_nodes(reachable))}, "
        f"have outgoing capacity {cut_value} in total, matching the flow."
    )
    lines.append(f"Maximum flow: {problem.value}")
    return "\n".join(lines)


MaxFlowEnv = register_task(
    "thinkgym/MaxFlow-v0", family="graph", config=MaxFlowConfig, generate=generate, verify=verify, explain=explain
)
