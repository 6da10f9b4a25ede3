"""Bipartiteness: split a graph's nodes into two groups, or prove it impossible with an odd cycle.

Prompt: the nodes and the undirected edges, one a line (``A - B``). Answer: either a group
(1 or 2) for every node such that each edge joins the two groups, e.g.
``<answer>A=1, B=2, C=1, D=2</answer>`` (``A: 1`` also reads; any valid split scores, with the
groups numbered either way), or, when no split exists, a cycle of odd length as proof, e.g.
``<answer>odd cycle: A -> B -> C -> A</answer>`` (repeating the first node is optional).
Reward 1.0 for a valid split or a valid odd cycle, else 0. About 40% of the graphs are not
bipartite.

Difficulty: 1 = 5 or 6 nodes; 2 = 8 to 10 nodes; 3 = 12 to 16 nodes, denser.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import (
    colouring_text,
    cycle_problem,
    edge_list_text,
    node_names,
    nodes_text,
    parse_colouring,
    parse_cycle,
    sorted_nodes,
)
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict

_ODD = re.compile(r"^\s*odd\s+cycle\s*:?\s*", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class BipartiteConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "extra_edge_rate"),
        {1: (5, 6, 0.2), 2: (8, 10, 0.4), 3: (12, 16, 0.6)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    odd_rate: float = 0.4
    """Share of graphs that contain an odd cycle (so are not bipartite)."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 4, 200)
        within(self, "odd_rate", 0, 1.0)


@dataclass(frozen=True)
class BipartiteProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    bipartite: bool


def generate(rng: np.random.Generator, config: BipartiteConfig) -> BipartiteProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    order = [node_names(n)[i] for i in rng.permutation(n)]
    side = {node: int(rng.integers(2)) for node in order}
    side[order[0]], side[order[1]] = 0, 1
    graph = nx.Graph()
    graph.add_nodes_from(order)
    for i in range(1, n):  # a spanning tree whose edges all cross between the sides
        others = [u for u in order[:i] if side[u] != side[order[i]]]
        graph.add_edge(order[i], others[int(rng.integers(len(others)))])
    crossing = [(u, v) for i, u in enumerate(order) for v in order[i + 1 :] if side[u] != side[v] and not graph.has_edge(u, v)]
    for k in rng.permutation(len(crossing))[: round(config.level["extra_edge_rate"] * n)]:
        graph.add_edge(*crossing[int(k)])
    if rng.random() < config.odd_rate:  # an edge inside one side closes an odd cycle
        inside = [(u, v) for i, u in enumerate(order) for v in order[i + 1 :] if side[u] == side[v]]
        graph.add_edge(*inside[int(rng.integers(len(inside)))])
    prompt = (
        f"An undirected graph has the nodes {nodes_text(graph)} and these edges:\n{edge_list_text(graph, weighted=False)}\n"
        "Can the nodes be split into two groups so that every edge joins a node of group 1 to a node of group 2? "
        "If so, answer with the group of every node, e.g. <answer>A=1, B=2, C=1, ...</answer>. "
        "If not, answer with a cycle of odd length as proof, e.g. <answer>odd cycle: A -> B -> C -> A</answer>."
    )
    colouring, conflict = _two_colour(graph)
    if conflict is None:
        answer = colouring_text(colouring)
    else:
        cycle = _odd_cycle(graph)
        answer = "odd cycle: " + " -> ".join(cycle + cycle[:1])
    return BipartiteProblem(prompt, answer, graph, conflict is None)


def _two_colour(graph: nx.Graph) -> tuple[dict[str, int], tuple[str, str] | None]:
    """Breadth-first 2-colouring from each component's first node; (colouring, None) on
    success, else (partial colouring, an edge whose ends got the same group)."""
    colour: dict[str, int] = {}
    for start in sorted_nodes(graph.nodes):
        if start in colour:
            continue
        colour[start] = 1
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in sorted_nodes(graph.neighbors(u)):
                if v not in colour:
                    colour[v] = 3 - colour[u]
                    queue.append(v)
                elif colour[v] == colour[u]:
                    return colour, (u, v)
    return colour, None


def _odd_cycle(graph: nx.Graph) -> list[str]:
    """A cycle of odd length: some cycle of any cycle basis is odd when the graph is not bipartite
    (edge-count parity is linear over the cycle space)."""
    for cycle in sorted(nx.cycle_basis(graph, root=sorted_nodes(graph.nodes)[0]), key=len):
        if len(cycle) % 2 == 1 and not cycle_problem(cycle, graph):
            return cycle
    raise RuntimeError("no odd cycle in a cycle basis of a non-bipartite graph")


def verify(problem: BipartiteProblem, answer: str) -> Verdict:
    odd = _ODD.match(answer)
    if odd:
        cycle = parse_cycle(answer[odd.end() :], problem.graph)
        canonical = "odd cycle: " + " -> ".join(cycle + cycle[:1])
        why = cycle_problem(cycle, problem.graph)
        if why:
            return Verdict(0.0, why, canonical)
        if len(cycle) % 2 == 0:
            return Verdict(0.0, f"the cycle has {len(cycle)} edges, an even number", canonical)
        return Verdict(1.0, canonical=canonical)
    groups = parse_colouring(answer, problem.graph)
    canonical = colouring_text(groups)
    wrong = sorted_nodes(node for node, group in groups.items() if group not in (1, 2))
    if wrong:
        raise InvalidAnswer(f"groups are 1 and 2; node {wrong[0]} has group {groups[wrong[0]]}")
    for u, v in sorted(problem.graph.edges):
        if groups[u] == groups[v]:
            return Verdict(0.0, f"the edge {u} - {v} joins two nodes of group {groups[u]}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: BipartiteProblem) -> str:
    """Breadth-first search giving each newly reached node the other group."""
    colour, conflict = _two_colour(problem.graph)
    lines = ["Breadth-first search: put each start node in group 1 and every newly reached neighbour in the other group."]
    for group in (1, 2):
        lines.append(f"group {group}: {', '.join(sorted_nodes(n for n, c in colour.items() if c == group))}")
    if conflict is None:
        lines.append(f"Every edge joins the two groups: {problem.answer}")
    else:
        u, v = conflict
        lines.append(f"The edge {u} - {v} joins two nodes of group {colour[u]}, so no split exists. An odd cycle:")
        lines.append(problem.answer)
    return "\n".join(lines)


BipartiteEnv = register_task(
    "thinkgym/Bipartite-v0", family="graph", config=BipartiteConfig, generate=generate, verify=verify, explain=explain
)
