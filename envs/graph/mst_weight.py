"""Total weight of a minimum spanning tree of a weighted undirected graph given as an edge list.

Prompt: the edges, one a line (``A - B (weight 3)``). Answer: the total weight of a minimum
spanning tree, e.g. ``<answer>17</answer>`` (``total weight: 17`` also reads). Reward 1.0 when
right, else 0.

Difficulty: 1 = 4 or 5 nodes, weights 1..9; 2 = 7 to 9 nodes, weights 1..9; 3 = 11 to 14
nodes, weights 1..20, denser.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import edge_list_text, node_key, parse_int, random_connected_graph
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class MSTWeightConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "max_weight", "extra_edge_rate"),
        {1: (4, 5, 9, 0.6), 2: (7, 9, 9, 0.8), 3: (11, 14, 20, 1.0)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    max_weight: int | None = None
    """Edge weights are drawn from 1..max_weight (default from difficulty)."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 3, 200)
        within(self, "max_weight", 1, 1000)


@dataclass(frozen=True)
class MSTWeightProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    weight: int


def generate(rng: np.random.Generator, config: MSTWeightConfig) -> MSTWeightProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    extra = round(config.level["extra_edge_rate"] * n)
    graph = random_connected_graph(rng, n, extra_edges=extra, max_weight=config.max_weight)
    weight = int(sum(d["weight"] for *_, d in nx.minimum_spanning_edges(graph, algorithm="kruskal", data=True)))
    prompt = (
        f"An undirected graph has these weighted edges:\n{edge_list_text(graph, weighted=True)}\n"
        "A spanning tree is a set of edges that connects all nodes without forming a cycle. "
        "What is the smallest possible total weight of a spanning tree? "
        "Answer with the number, e.g. <answer>17</answer>."
    )
    return MSTWeightProblem(prompt, str(weight), graph, weight)


def verify(problem: MSTWeightProblem, answer: str) -> Verdict:
    claimed = parse_int(answer)
    if claimed != problem.weight:
        return Verdict(0.0, f"{claimed} is not the minimum spanning tree weight", str(claimed))
    return Verdict(1.0, canonical=str(claimed))


def explain(problem: MSTWeightProblem) -> str:
    """Kruskal's algorithm: take edges by increasing weight, skipping those that close a cycle."""
    graph = problem.graph
    edges = sorted(
        (d["weight"], node_key(min(u, v, key=node_key)), node_key(max(u, v, key=node_key)))
        for u, v, d in graph.edges(data=True)
    )
    components = nx.utils.UnionFind(graph.nodes)
    lines = ["Kruskal's algorithm: take the edges by increasing weight, skipping any that would close a cycle."]
    taken, total = 0, 0
    for w, (_, u), (_, v) in edges:
        if taken == graph.number_of_nodes() - 1:
            break
        if components[u] == components[v]:
            lines.append(f"skip {u} - {v} ({w}): {u} and {v} are already connected")
            continue
        components.union(u, v)
        taken += 1
        total += w
        lines.append(f"take {u} - {v} ({w}), total {total}")
    lines.append(f"All nodes are connected by {taken} edges. Minimum total weight: {problem.weight}")
    return "\n".join(lines)


MSTWeightEnv = register_task(
    "thinkgym/MSTWeight-v0", family="graph", config=MSTWeightConfig, generate=generate, verify=verify, explain=explain
)
