"""Cycle detection: find a cycle in a graph given as an edge list, or say there is none.

Prompt: the nodes and the edges, one a line (``A - B``, or ``A -> B`` when directed).
Answer: a simple cycle as its nodes in order, e.g. ``<answer>A -> C -> D -> A</answer>``
(repeating the first node at the end is optional; ``A, C, D`` and ``A C D`` also read), or
``<answer>none</answer>`` when the graph has no cycle. Any cycle that exists scores 1.0, in
any rotation and, for undirected graphs, either direction; a cycle needs 3 distinct nodes in an
undirected graph and 2 in a directed one. About 25% of the instances have no cycle.

Difficulty: 1 = undirected, 5 to 7 nodes, a tree plus at most one edge; 2 = directed, 8 to 10
nodes; 3 = directed, 12 to 16 nodes, denser, with one long cycle hidden among many edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import (
    add_back_edge,
    cycle_problem,
    edge_list_text,
    nodes_text,
    parse_cycle,
    random_connected_graph,
    random_dag,
    sorted_nodes,
)
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

_NONE = re.compile(r"^(?:none|no cycle|acyclic|no)\.?$", re.IGNORECASE | re.ASCII)
NONE = "none"


@dataclass(frozen=True)
class FindCycleConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "directed", "edge_factor"),
        {1: (5, 7, False, 0.0), 2: (8, 10, True, 1.2), 3: (12, 16, True, 1.6)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    directed: bool | None = None
    """Directed edges (default: from difficulty 2 on)."""
    acyclic_rate: float = 0.25
    """Share of instances without any cycle."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 4, 200)
        within(self, "acyclic_rate", 0, 1.0)


@dataclass(frozen=True)
class FindCycleProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    has_cycle: bool


def generate(rng: np.random.Generator, config: FindCycleConfig) -> FindCycleProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    acyclic = rng.random() < config.acyclic_rate
    if config.directed:
        factor = config.level["edge_factor"] or 1.2
        graph: nx.Graph = random_dag(rng, n, round(factor * n))
        if not acyclic:
            add_back_edge(rng, graph, min_cycle=3 if config.difficulty < 3 else 4)
    else:
        # A tree has no cycle; a tree plus one edge has exactly one.
        graph = random_connected_graph(rng, n, extra_edges=0 if acyclic else 1)
    kind, arrow = ("A directed", "->") if config.directed else ("An undirected", "-")
    prompt = (
        f"{kind} graph has the nodes {nodes_text(graph)} and these edges:\n{edge_list_text(graph, weighted=False)}\n"
        f"Find a cycle: a closed walk along edges{' (following their directions)' if config.directed else ''} "
        "that visits no node twice. Answer with its nodes in order, separated by ' -> ', e.g. "
        f"<answer>A -> B -> C -> A</answer>, or <answer>{NONE}</answer> if the graph has no cycle."
    )
    has_cycle = not (nx.is_directed_acyclic_graph(graph) if config.directed else nx.is_forest(graph))
    answer = " -> ".join(_reference_cycle(graph) + _reference_cycle(graph)[:1]) if has_cycle else NONE
    return FindCycleProblem(prompt, answer, graph, has_cycle)


def _reference_cycle(graph: nx.Graph) -> list[str]:
    """A cycle found by depth-first search, started from the alphabetically first node."""
    cycle = nx.find_cycle(graph, source=sorted_nodes(graph.nodes))
    return [u for u, _ in cycle]


def verify(problem: FindCycleProblem, answer: str) -> Verdict:
    if _NONE.match(answer.strip()):
        if problem.has_cycle:
            return Verdict(0.0, "the graph has a cycle", NONE)
        return Verdict(1.0, canonical=NONE)
    cycle = parse_cycle(answer, problem.graph)
    canonical = " -> ".join(cycle + cycle[:1])
    why = cycle_problem(cycle, problem.graph)
    if why:
        return Verdict(0.0, why, canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: FindCycleProblem) -> str:
    """Depth-first search for an edge back to a node on the current search path."""
    graph = problem.graph
    if problem.has_cycle:
        cycle = _reference_cycle(graph)
        return (
            "Search depth-first, keeping the current path, until an edge leads back to a node on it.\n"
            f"The edge {cycle[-1]} {'->' if graph.is_directed() else '-'} {cycle[0]} closes the path "
            f"{' -> '.join(cycle)}.\nCycle: {problem.answer}"
        )
    if graph.is_directed():
        order = list(nx.lexicographical_topological_sort(graph, key=lambda v: (len(v), v)))
        return (
            "Repeatedly remove a node with no incoming edge (Kahn's algorithm); every node goes, "
            f"in the order {', '.join(order)}, so there is no directed cycle: {NONE}"
        )
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    c = nx.number_connected_components(graph)
    return (
        f"The graph has {n} nodes, {m} edges and {c} connected component(s). A graph is a forest "
        f"exactly when edges = nodes - components, and {m} = {n} - {c}, so there is no cycle: {NONE}"
    )


FindCycleEnv = register_task(
    "thinkgym/FindCycle-v0", family="graph", config=FindCycleConfig, generate=generate, verify=verify, explain=explain
)
