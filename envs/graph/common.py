"""Helpers shared by the graph tasks: node names, random graphs, edge-list text, path parsing."""

from __future__ import annotations

import re
import string

import networkx as nx
import numpy as np

from thinkgym.rewards.verdict import InvalidAnswer

_NAMES = list(string.ascii_uppercase) + [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]


def node_names(n: int) -> list[str]:
    """``n`` unambiguous node names: A..Z, then AA, AB, ..."""
    if not 1 <= n <= len(_NAMES):
        raise ValueError(f"node count must be in 1..{len(_NAMES)}, got {n}")
    return _NAMES[:n]


def random_connected_graph(
    rng: np.random.Generator, n: int, extra_edges: int, max_weight: int | None = None
) -> nx.Graph:
    """A connected undirected graph on ``node_names(n)``: a random spanning tree plus up to
    ``extra_edges`` more edges; integer weights in 1..max_weight when given."""
    names = node_names(n)
    order = [names[i] for i in rng.permutation(n)]
    graph = nx.Graph()
    graph.add_nodes_from(names)
    for i in range(1, n):
        graph.add_edge(order[i], order[int(rng.integers(i))])
    possible = n * (n - 1) // 2 - (n - 1)
    for _ in range(min(extra_edges, possible)):
        while True:
            u, v = (names[int(k)] for k in rng.choice(n, size=2, replace=False))
            if not graph.has_edge(u, v):
                graph.add_edge(u, v)
                break
    if max_weight is not None:
        for u, v in sorted(graph.edges()):
            graph[u][v]["weight"] = int(rng.integers(1, max_weight + 1))
    return graph


def edge_list_text(graph: nx.Graph, weighted: bool) -> str:
    """One edge a line, ``A - B (weight 3)`` or ``A - B``; ``->`` for directed graphs."""
    arrow = "->" if graph.is_directed() else "-"
    lines = []
    for u, v, data in sorted(graph.edges(data=True)):
        if not graph.is_directed() and v < u:
            u, v = v, u
        lines.append(f"{u} {arrow} {v} (weight {data['weight']})" if weighted else f"{u} {arrow} {v}")
    return "\n".join(sorted(lines, key=lambda s: (len(s.split()[0]), s)))


_SEPARATORS = re.compile(r"\s*(?:->|=>|\u2192|,|;|\s)\s*")


def parse_path(text: str, graph: nx.Graph) -> list[str]:
    """Read a node path written as ``A -> B -> C``, ``A, B, C`` or ``A B C``.

    Raises :class:`InvalidAnswer` when a token is not a node of ``graph``.
    """
    tokens = [t for t in _SEPARATORS.split(text.strip().strip(".[]()")) if t]
    if not tokens:
        raise InvalidAnswer("the path is empty")
    if len(tokens) > 4 * graph.number_of_nodes() + 4:
        raise InvalidAnswer(f"the path has {len(tokens)} nodes, far more than the graph has")
    lookup = {str(node).upper(): node for node in graph.nodes}
    path = []
    for token in tokens:
        node = lookup.get(token.upper())
        if node is None:
            raise InvalidAnswer(f"node {token[:20]!r} is not in the graph")
        path.append(node)
    return path


def missing_edge(path: list[str], graph: nx.Graph) -> tuple[str, str] | None:
    """The first consecutive pair of ``path`` that is not an edge of ``graph``, else None."""
    for u, v in zip(path, path[1:]):
        if not graph.has_edge(u, v):
            return (u, v)
    return None
