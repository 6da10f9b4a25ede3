"""Graph colouring with k colours: give adjacent nodes different colours.

Prompt: the nodes, the undirected edges one a line (``A - B``) and the number of colours k.
Answer: a colour 1..k for every node, e.g. ``<answer>A=1, B=2, C=3, D=1</answer>``
(``A: 1`` also reads). Reward 1.0 for any colouring in which no edge joins two nodes of the
same colour, else 0. Every instance is colourable: the graph is built around a hidden colouring.

Difficulty: 1 = 5 or 6 nodes, 3 colours, sparse; 2 = 8 to 10 nodes, 3 colours; 3 = 12 to 16
nodes, 4 colours, dense.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import colouring_text, edge_list_text, node_key, node_names, nodes_text, parse_colouring
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import InvalidAnswer, Verdict


@dataclass(frozen=True)
class ColouringConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "colours", "edge_factor"),
        {1: (5, 6, 3, 1.2), 2: (8, 10, 3, 1.8), 3: (12, 16, 4, 2.6)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    colours: int | None = None
    """Number of colours allowed (default from difficulty)."""
    edge_factor: float | None = None
    """Edges as a multiple of the node count (default from difficulty)."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 3, 60)
        within(self, "colours", 2, min(9, self.min_nodes))
        within(self, "edge_factor", 0.5, 5.0)


@dataclass(frozen=True)
class ColouringProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    colours: int


def generate(rng: np.random.Generator, config: ColouringConfig) -> ColouringProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    k = config.colours
    names = [node_names(n)[i] for i in rng.permutation(n)]
    hidden = {node: (i % k if i < k else int(rng.integers(k))) for i, node in enumerate(names)}
    allowed = [(u, v) for i, u in enumerate(names) for v in names[i + 1 :] if hidden[u] != hidden[v]]
    graph = nx.Graph()
    graph.add_nodes_from(names)
    for j in rng.permutation(len(allowed))[: round(config.edge_factor * n)]:
        graph.add_edge(*allowed[int(j)])
    colouring = _backtrack(graph, k) or {node: c + 1 for node, c in hidden.items()}
    prompt = (
        f"An undirected graph has the nodes {nodes_text(graph)} and these edges:\n{edge_list_text(graph, weighted=False)}\n"
        f"Give every node one of the colours 1 to {k} so that no edge joins two nodes of the same colour. "
        f"Answer with the colour of every node, e.g. <answer>A=1, B=2, C={k}, ...</answer>."
    )
    return ColouringProblem(prompt, colouring_text(colouring), graph, k)


def _order(graph: nx.Graph) -> list[str]:
    """Most constrained first: by decreasing degree, then by name."""
    return sorted(graph.nodes, key=lambda v: (-graph.degree(v),) + node_key(v))


def _backtrack(graph: nx.Graph, k: int, budget: int = 20000) -> dict[str, int] | None:
    """Colour nodes in :func:`_order`, each with the smallest colour its coloured neighbours
    leave free, backtracking when none is; None if ``budget`` placements do not suffice."""
    order = _order(graph)
    colouring: dict[str, int] = {}
    tries = 0

    def place(i: int) -> bool:
        nonlocal tries
        if i == len(order):
            return True
        used = {colouring.get(u) for u in graph.neighbors(order[i])}
        for c in range(1, k + 1):
            tries += 1
            if c in used or tries > budget:
                continue
            colouring[order[i]] = c
            if place(i + 1):
                return True
            del colouring[order[i]]
        return False

    return colouring if place(0) else None


def verify(problem: ColouringProblem, answer: str) -> Verdict:
    colouring = parse_colouring(answer, problem.graph)
    canonical = colouring_text(colouring)
    for node in sorted(colouring, key=node_key):
        if not 1 <= colouring[node] <= problem.colours:
            raise InvalidAnswer(f"colours are 1..{problem.colours}; node {node} has colour {colouring[node]}")
    for u, v in sorted(problem.graph.edges):
        if colouring[u] == colouring[v]:
            return Verdict(0.0, f"the edge {u} - {v} joins two nodes of colour {colouring[u]}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: ColouringProblem) -> str:
    """Colour the most constrained (highest-degree) nodes first, checking earlier neighbours."""
    order, colouring = _order(problem.graph), parse_colouring(problem.answer, problem.graph)
    lines = ["Colour nodes from most to fewest edges, each differing from its already coloured neighbours:"]
    done: set[str] = set()
    for node in order:
        taken = sorted({colouring[u] for u in problem.graph.neighbors(node) if u in done})
        note = f"neighbours use {', '.join(map(str, taken))}" if taken else "no coloured neighbours"
        lines.append(f"{node}={colouring[node]} ({note})")
        done.add(node)
    lines.append(f"Colouring: {problem.answer}")
    return "\n".join(lines)


ColouringEnv = register_task(
    "thinkgym/GraphColouring-v0", family="graph", config=ColouringConfig, generate=generate, verify=verify, explain=explain
)
