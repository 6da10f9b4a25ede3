"""Shortest path in a weighted undirected graph given as an edge list.

Prompt: the edges, one a line (``A - B (weight 3)``), and the two end nodes.
Answer: a path of node names from the start to the goal, e.g. ``<answer>A -> D -> C</answer>``
(``A, D, C`` and ``A D C`` also read). Reward 1.0 for any path of minimum total weight,
0 for a longer path, a path using a missing edge or node, or the wrong ends.

Difficulty: 1 = 5 or 6 nodes; 2 = 8 to 10 nodes; 3 = 12 to 16 nodes; weights 1..9.
Options ``weighted=False`` (fewest edges; edges listed as ``A - B``) and ``directed=True``
(``A -> B (weight 3)``, paths follow edge directions) give the other variants.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import edge_list_text, missing_edge, node_names, parse_path, random_connected_graph
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class ShortestPathConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes"),
        {1: (5, 6), 2: (8, 10), 3: (12, 16)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    max_weight: int = 9
    """Edge weights are drawn from 1..max_weight."""
    edge_factor: float = 0.6
    """Extra edges beyond a spanning tree, as a fraction of the node count."""
    weighted: bool = True
    """Weighted edges; False asks for a path with the fewest edges."""
    directed: bool = False
    """Each edge points one way (a random one); paths must follow the directions."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 3, 200)
        within(self, "max_weight", 1, 1000)
        within(self, "edge_factor", 0, 5.0)


@dataclass(frozen=True)
class ShortestPathProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    source: str
    target: str
    distance: int
    weighted: bool = True


def generate(rng: np.random.Generator, config: ShortestPathConfig) -> ShortestPathProblem:
    while True:
        n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
        max_weight = config.max_weight if config.weighted else None
        graph = random_connected_graph(rng, n, extra_edges=round(config.edge_factor * n), max_weight=max_weight)
        if not config.weighted:
            nx.set_edge_attributes(graph, 1, "weight")
        if config.directed:
            graph = _orient(rng, graph)
        nodes = node_names(n)  # the graph's nodes, already in (length, name) order
        if not config.directed:
            source, target = _distant_pair(rng, graph, nodes)
            break
        # Directed: pick among pairs two or more edges apart; redraw the graph if there are none.
        pairs = [(u, v) for u, lengths in nx.all_pairs_shortest_path_length(graph) for v, d in lengths.items() if d >= 2]
        if pairs:
            source, target = sorted(pairs)[int(rng.integers(len(pairs)))]
            break
    path, distance = _dijkstra(graph, source, target)
    kind = "A directed" if config.directed else "An undirected"
    goal = "of minimum total weight" if config.weighted else "with the fewest edges"
    prompt = (
        f"{kind} graph has these {'weighted ' if config.weighted else ''}edges:\n"
        f"{edge_list_text(graph, weighted=config.weighted)}\n"
        f"Find a path {goal} from {source} to {target}"
        f"{' (following edge directions)' if config.directed else ''}. "
        f"Answer with the node names in order, separated by ' -> ', e.g. <answer>{source} -> ... -> {target}</answer>."
    )
    return ShortestPathProblem(prompt, " -> ".join(path), graph, source, target, distance, config.weighted)


def _distant_pair(rng: np.random.Generator, graph: nx.Graph, nodes: list[str]) -> tuple[str, str]:
    """A uniform ordered pair of distinct nodes without a direct edge (which would make the
    question trivial); any pair when the graph is complete. Rejection sampling from one array
    of uniforms (a numpy call per try costs more than the test), then an exact fallback."""
    n = len(nodes)
    adjacent = dict(graph.adjacency())
    draws = rng.random(16).tolist()
    for x, y in zip(draws[::2], draws[1::2]):
        i, j = int(x * n), int(y * (n - 1))
        j += j >= i  # uniform over the n - 1 nodes other than i
        if nodes[j] not in adjacent[nodes[i]]:
            return nodes[i], nodes[j]
    pairs = [(u, v) for u in nodes for v in nodes if u != v and v not in adjacent[u]]
    pairs = pairs or [(u, v) for u in nodes for v in nodes if u != v]
    return pairs[int(rng.integers(len(pairs)))]


def _dijkstra(graph: nx.Graph, source: str, target: str) -> tuple[list[str], int]:
    """A minimum-weight path from ``source`` to ``target`` (reachable) and its weight.

    Plain Dijkstra on the adjacency dicts: on graphs of a few dozen edges networkx's dispatch
    and generality cost more than the search itself."""
    adjacency = dict(graph.adjacency())
    dist, prev, done = {source: 0}, {}, set()
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if u in done:
            continue
        if u == target:
            break
        done.add(u)
        for v, data in adjacency[u].items():
            nd = d + data["weight"]
            if v not in done and nd < dist.get(v, nd + 1):
                dist[v], prev[v] = nd, u
                heapq.heappush(heap, (nd, v))
    path = [target]
    while path[-1] != source:
        path.append(prev[path[-1]])
    return path[::-1], dist[target]


def _orient(rng: np.random.Generator, graph: nx.Graph) -> nx.DiGraph:
    """Give each edge of ``graph`` a random direction, keeping its attributes."""
    directed = nx.DiGraph()
    directed.add_nodes_from(graph)
    for u, v, data in sorted(graph.edges(data=True)):
        directed.add_edge(*((u, v) if rng.random() < 0.5 else (v, u)), **data)
    return directed


def verify(problem: ShortestPathProblem, answer: str) -> Verdict:
    path = parse_path(answer, problem.graph)
    canonical = " -> ".join(path)
    if path[0] != problem.source or path[-1] != problem.target:
        return Verdict(0.0, f"the path must go from {problem.source} to {problem.target}", canonical)
    gap = missing_edge(path, problem.graph)
    if gap:
        arrow = "->" if problem.graph.is_directed() else "-"
        return Verdict(0.0, f"there is no edge {gap[0]} {arrow} {gap[1]}", canonical)
    weight = nx.path_weight(problem.graph, path, "weight")
    if weight != problem.distance:
        if problem.weighted:
            return Verdict(0.0, f"the path weighs {weight}, the shortest weighs {problem.distance}", canonical)
        return Verdict(0.0, f"the path has {weight} edges, the shortest has {problem.distance}", canonical)
    return Verdict(1.0, canonical=canonical)


def explain(problem: ShortestPathProblem) -> str:
    """Dijkstra's algorithm, settling nodes in order of distance from the start."""
    prev, dist = nx.dijkstra_predecessor_and_distance(problem.graph, problem.source)
    path = problem.answer.split(" -> ")
    on_path = dict(zip(path[1:], path))  # name the predecessor the answer path uses
    search = "Dijkstra" if problem.weighted else "breadth-first search (every edge counts 1)"
    lines = [f"Run {search} from {problem.source}, settling nodes by distance:"]
    for node, d in sorted(dist.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0])):
        via = on_path.get(node) or (prev[node][0] if prev[node] else "")
        lines.append(f"{node}: {d}" + (f" via {via}" if via else ""))
        if node == problem.target:
            break
    lines.append(f"The shortest distance to {problem.target} is {problem.distance}; follow the predecessors back.")
    lines.append(f"Path: {problem.answer}")
    return "\n".join(lines)


ShortestPathEnv = register_task(
    "thinkgym/ShortestPath-v0", family="graph", config=ShortestPathConfig, generate=generate, verify=verify, explain=explain
)
