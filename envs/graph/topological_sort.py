"""Topological order of a directed graph given as an edge list, or "cycle" when there is none.

Prompt: the nodes and the directed edges, one a line (``A -> B``: A must come before B).
Answer: every node once, in an order where each edge points forward, e.g.
``<answer>C, A, B, D</answer>`` (``C -> A -> B -> D`` and ``C A B D`` also read), or
``<answer>cycle</answer>`` when the edges contain a directed cycle. Reward 1.0 for any valid
order (or "cycle" on a cyclic graph), else 0. About 30% of the instances are cyclic.

Difficulty: 1 = 5 or 6 nodes, about 6 edges; 2 = 8 to 10 nodes; 3 = 12 to 16 nodes, denser.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import add_back_edge, edge_list_text, node_key, nodes_text, parse_path, random_dag, sorted_nodes
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

_CYCLE = re.compile(r"^(?:cycle|cyclic|there is a cycle|has a cycle|impossible)\.?$", re.IGNORECASE | re.ASCII)
CYCLE = "cycle"


@dataclass(frozen=True)
class TopologicalSortConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "edge_factor"),
        {1: (5, 6, 1.1), 2: (8, 10, 1.4), 3: (12, 16, 1.7)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    edge_factor: float | None = None
    """Edges as a multiple of the node count (default from difficulty)."""
    cycle_rate: float = 0.3
    """Share of instances that contain a directed cycle."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 3, 200)
        within(self, "edge_factor", 0.5, 4.0)
        within(self, "cycle_rate", 0, 1.0)


@dataclass(frozen=True)
class TopologicalSortProblem:
    prompt: str
    answer: str
    graph: nx.DiGraph
    acyclic: bool


def generate(rng: np.random.Generator, config: TopologicalSortConfig) -> TopologicalSortProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    graph = random_dag(rng, n, round(config.edge_factor * n))
    if rng.random() < config.cycle_rate:
        add_back_edge(rng, graph)
    prompt = (
        f"A directed graph has the nodes {nodes_text(graph)} and these edges (X -> Y means X must come before Y):\n"
        f"{edge_list_text(graph, weighted=False)}\n"
        "List every node once in an order in which each edge points forward (a topological order). "
        f"Answer with the nodes in order, e.g. <answer>{', '.join(sorted_nodes(graph.nodes)[:3])}, ...</answer>, "
        f"or <answer>{CYCLE}</answer> if the edges contain a directed cycle, so that no such order exists."
    )
    acyclic = nx.is_directed_acyclic_graph(graph)
    answer = ", ".join(_kahn(graph)[0]) if acyclic else CYCLE
    return TopologicalSortProblem(prompt, answer, graph, acyclic)


def _kahn(graph: nx.DiGraph) -> tuple[list[str], list[str]]:
    """Kahn's algorithm taking the alphabetically first free node each time.

    Returns (order, steps); the order is shorter than the graph when there is a cycle.
    """
    indegree = {node: graph.in_degree(node) for node in graph}
    free = [node_key(node) + (node,) for node, d in indegree.items() if d == 0]
    heapq.heapify(free)
    order, steps = [], []
    while free:
        node = heapq.heappop(free)[2]
        order.append(node)
        released = []
        for succ in sorted_nodes(graph.successors(node)):
            indegree[succ] -= 1
            if indegree[succ] == 0:
                heapq.heappush(free, node_key(succ) + (succ,))
                released.append(succ)
        steps.append(f"take {node}" + (f"; now free: {', '.join(released)}" if released else ""))
    return order, steps


def verify(problem: TopologicalSortProblem, answer: str) -> Verdict:
    if _CYCLE.match(answer.strip()):
        if problem.acyclic:
            return Verdict(0.0, "the graph has no directed cycle", CYCLE)
        return Verdict(1.0, canonical=CYCLE)
    order = parse_path(answer, problem.graph)
    canonical = ", ".join(order)
    if len(set(order)) != len(order):
        raise InvalidAnswer("a node is listed twice")
    missing = set(problem.graph) - set(order)
    if missing:
        return Verdict(0.0, f"missing node(s) {', '.join(sorted_nodes(missing)[:5])}", canonical)
    if not problem.acyclic:
        return Verdict(0.0, "the graph has a directed cycle, so no order exists", canonical)
    position = {node: i for i, node in enumerate(order)}
    for u, v in sorted(problem.graph.edges):
        if position[u] > position[v]:
            return Verdict(0.0, f"the edge {u} -> {v} points backwards", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: TopologicalSortProblem) -> str:
    """Kahn's algorithm: repeatedly take a node with no remaining incoming edge."""
    order, steps = _kahn(problem.graph)
    free = sorted_nodes(n for n in problem.graph if problem.graph.in_degree(n) == 0)
    lines = ["Kahn's algorithm: repeatedly take a node with no incoming edge from the nodes left.",
             f"free at the start: {', '.join(free) or 'none'}"] + steps
    if problem.acyclic:
        lines.append(f"Order: {problem.answer}")
    else:
        stuck = sorted_nodes(set(problem.graph) - set(order))
        cycle = [u for u, _ in nx.find_cycle(problem.graph.subgraph(stuck))]
        lines.append(f"The nodes {', '.join(stuck)} all keep an incoming edge;")
        lines.append(f"they contain the cycle {' -> '.join(cycle + cycle[:1])}, so: {CYCLE}")
    return "\n".join(lines)


TopologicalSortEnv = register_task(
    "thinkgym/TopologicalSort-v0",
    family="graph",
    config=TopologicalSortConfig,
    generate=generate,
    verify=verify,
    explain=explain,
)
