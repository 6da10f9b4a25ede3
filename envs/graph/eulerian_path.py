"""Eulerian path: a walk that uses every edge of a graph exactly once.

Prompt: the edges, one a line (``A - B``, or ``A -> B`` when directed). Answer: the walk as
nodes in order, e.g. ``<answer>A -> B -> C -> A -> D</answer>`` (``A, B, C, A, D`` and
``A B C A D`` also read). Reward 1.0 for any walk that follows existing edges (in their
direction when directed) and uses each edge exactly once, else 0. Every instance has one: the
graph is drawn as the trace of a random walk.

Difficulty: 1 = undirected, 5 to 7 edges; 2 = undirected, 9 to 12 edges; 3 = directed, 14 to
18 edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import edge_list_text, node_key, node_names, parse_path, sorted_nodes
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class EulerianPathConfig(TaskConfig):
    LEVELS = Levels(
        ("min_edges", "max_edges", "nodes", "directed"),
        {1: (5, 7, 5, False), 2: (9, 12, 7, False), 3: (14, 18, 8, True)},
        at_least={"max_edges": "min_edges"},
    )
    min_edges: int | None = None
    """Fewest edges (default from difficulty)."""
    max_edges: int | None = None
    """Most edges (default from difficulty)."""
    nodes: int | None = None
    """Node names the walk may use (default from difficulty); the graph keeps those it visits."""
    directed: bool | None = None
    """Directed edges (default: at difficulty 3)."""

    def validate(self) -> None:
        within(self, "nodes", 3, 26)
        ordered(self, "min_edges", "max_edges", 2, 100)


@dataclass(frozen=True)
class EulerianPathProblem:
    prompt: str
    answer: str
    graph: nx.Graph


def generate(rng: np.random.Generator, config: EulerianPathConfig) -> EulerianPathProblem:
    target = int(rng.integers(config.min_edges, config.max_edges + 1))
    names = node_names(config.nodes)
    graph = nx.DiGraph() if config.directed else nx.Graph()
    walk = [names[int(rng.integers(config.nodes))]]
    while graph.number_of_edges() < target:  # a random walk that never reuses an edge
        u = walk[-1]
        free = [v for v in names if v != u and not graph.has_edge(u, v)]
        if not free:
            break
        v = free[int(rng.integers(len(free)))]
        graph.add_edge(u, v)
        walk.append(v)
    # Rename the visited nodes A, B, C, ... in a random order, so no name is missing.
    visited = sorted_nodes(graph.nodes)
    rename = dict(zip(visited, (node_names(len(visited))[i] for i in rng.permutation(len(visited)))))
    graph = nx.relabel_nodes(graph, rename)
    kind = "A directed" if config.directed else "An undirected"
    prompt = (
        f"{kind} graph has these edges:\n{edge_list_text(graph, weighted=False)}\n"
        f"Find a walk that uses every edge exactly once{' in its direction' if config.directed else ''} "
        "(it may visit a node several times). Answer with the nodes in the order visited, "
        "e.g. <answer>A -> B -> C -> A -> D</answer>."
    )
    return EulerianPathProblem(prompt, " -> ".join(_reference_walk(graph)), graph)


def _start(graph: nx.Graph) -> str:
    """Where an Eulerian path must start: the node with an extra outgoing edge (directed) or the
    first odd-degree node (undirected); any node when all are balanced."""
    if graph.is_directed():
        extra = [v for v in graph if graph.out_degree(v) > graph.in_degree(v)]
    else:
        extra = [v for v in graph if graph.degree(v) % 2 == 1]
    return min(extra or list(graph), key=node_key)


def _reference_walk(graph: nx.Graph) -> list[str]:
    edges = list(nx.eulerian_path(graph, source=_start(graph)))
    return [edges[0][0]] + [v for _, v in edges]


def verify(problem: EulerianPathProblem, answer: str) -> Verdict:
    walk = parse_path(answer, problem.graph, max_length=2 * problem.graph.number_of_edges() + 4)
    canonical = " -> ".join(walk)
    graph = problem.graph
    arrow = "->" if graph.is_directed() else "-"
    used: set[tuple[str, str]] = set()
    for u, v in zip(walk, walk[1:]):
        if not graph.has_edge(u, v):
            return Verdict(0.0, f"there is no edge {u} {arrow} {v}", canonical)
        edge = (u, v) if graph.is_directed() else tuple(sorted((u, v), key=node_key))
        if edge in used:
            return Verdict(0.0, f"the edge {u} {arrow} {v} is used twice", canonical)
        used.add(edge)
    if len(used) != graph.number_of_edges():
        return Verdict(0.0, f"the walk uses {len(used)} of the {graph.number_of_edges()} edges", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: EulerianPathProblem) -> str:
    """Degree count for the start node, then Hierholzer's walk."""
    graph = problem.graph
    start = _start(graph)
    if graph.is_directed():
        unbalanced = sorted_nodes(v for v in graph if graph.out_degree(v) != graph.in_degree(v))
        rule = "a node with one more outgoing than incoming edge must start the walk"
        facts = ", ".join(f"{v}: out {graph.out_degree(v)}, in {graph.in_degree(v)}" for v in unbalanced)
    else:
        unbalanced = sorted_nodes(v for v in graph if graph.degree(v) % 2 == 1)
        rule = "a node with an odd number of edges must be an end of the walk"
        facts = ", ".join(f"{v}: {graph.degree(v)} edges" for v in unbalanced)
    lines = [
        f"Unbalanced nodes: {facts or 'none, so the walk can start anywhere and returns to its start'}.",
        f"Since {rule}, start at {start}.",
        "Walk along unused edges, splicing in any detour left behind (Hierholzer's algorithm):",
        problem.answer,
    ]
    return "\n".join(lines)


EulerianPathEnv = register_task(
    "thinkgym/EulerianPath-v0", family="graph", config=EulerianPathConfig, generate=generate, verify=verify, explain=explain
)
