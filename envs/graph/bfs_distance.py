"""Reachability and breadth-first distance in an unweighted graph given as an edge list.

Prompt: the nodes, the edges one a line (``A - B``, or ``A -> B`` when directed), a start and
a goal node. Answer: the number of edges on a shortest path from the start to the goal, e.g.
``<answer>3</answer>``, or ``<answer>unreachable</answer>`` when no path exists (``no path``
and ``none`` also read). Reward 1.0 when right, else 0. About a quarter of the instances have
no path.

Difficulty: 1 = 5 or 6 nodes, undirected; 2 = 8 to 10 nodes, directed; 3 = 12 to 16 nodes,
directed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import edge_list_text, nodes_text, parse_int, random_graph, sorted_nodes
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

_NO_PATH = re.compile(r"^(?:unreachable|not reachable|no path|none|no)\.?$", re.IGNORECASE | re.ASCII)
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class BfsDistanceConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "directed"),
        {1: (5, 6, False), 2: (8, 10, True), 3: (12, 16, True)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    directed: bool | None = None
    """Directed edges (default: from difficulty 2 on)."""
    edge_factor: float = 1.2
    """Edges as a multiple of the node count."""
    unreachable_rate: float = 0.25
    """Share of instances whose goal cannot be reached."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 4, 200)
        within(self, "edge_factor", 0.5, 4)
        within(self, "unreachable_rate", 0, 1.0)


@dataclass(frozen=True)
class BfsDistanceProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    source: str
    target: str
    distance: int | None
    """Edges on a shortest path; None when the goal is unreachable."""


def generate(rng: np.random.Generator, config: BfsDistanceConfig) -> BfsDistanceProblem:
    want_path = rng.random() >= config.unreachable_rate
    for attempt in itertools.count():  # redraw until the graph has a pair of the wanted kind
        if attempt == 100:  # the options make that kind (nearly) impossible, e.g. a complete graph
            want_path = not want_path
        n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
        graph = random_graph(rng, n, round(config.edge_factor * n), directed=config.directed)
        lengths = dict(nx.all_pairs_shortest_path_length(graph))
        nodes = sorted_nodes(graph.nodes)
        if want_path:  # prefer a goal two or more steps away: one step is read off the list
            nearest = 2 if attempt < 50 else 1
            pairs = [(u, v) for u in nodes for v in nodes if lengths[u].get(v, 0) >= nearest]
        else:
            pairs = [(u, v) for u in nodes for v in nodes if u != v and v not in lengths[u]]
        if pairs:
            break
    if want_path:  # draw the distance first, so that far goals are as common as near ones
        distances = sorted({lengths[u][v] for u, v in pairs})
        wanted = distances[int(rng.integers(len(distances)))]
        pairs = [(u, v) for u, v in pairs if lengths[u][v] == wanted]
    source, target = pairs[int(rng.integers(len(pairs)))]
    distance = lengths[source].get(target)
    kind = "A directed" if config.directed else "An undirected"
    prompt = (
        f"{kind} graph has the nodes {nodes_text(graph)} and these edges:\n"
        f"{edge_list_text(graph, weighted=False)}\n"
        f"How many edges are on a shortest path from {source} to {target}"
        f"{' (following edge directions)' if config.directed else ''}? "
        f"Answer with the number, e.g. <answer>3</answer>, or <answer>{UNREACHABLE}</answer> if there is no path."
    )
    answer = UNREACHABLE if distance is None else str(distance)
    return BfsDistanceProblem(prompt, answer, graph, source, target, distance)


def verify(problem: BfsDistanceProblem, answer: str) -> Verdict:
    if _NO_PATH.match(answer.strip()):
        if problem.distance is None:
            return Verdict(1.0, canonical=UNREACHABLE)
        return Verdict(0.0, f"{problem.target} is reachable from {problem.source}", UNREACHABLE)
    claimed = parse_int(answer)
    if problem.distance is None:
        return Verdict(0.0, f"there is no path from {problem.source} to {problem.target}", str(claimed))
    if claimed != problem.distance:
        return Verdict(0.0, f"{claimed} is not the shortest distance", str(claimed))
    return Verdict(1.0, canonical=str(claimed))


def explain(problem: BfsDistanceProblem) -> str:
    """Breadth-first search, one frontier (distance level) a line."""
    seen = {problem.source}
    frontier = [problem.source]
    lines = [f"Breadth-first search from {problem.source}:", f"distance 0: {problem.source}"]
    level = 0
    while frontier and problem.target not in frontier:
        level += 1
        frontier = sorted_nodes({v for u in frontier for v in problem.graph.neighbors(u)} - seen)
        seen.update(frontier)
        if frontier:
            lines.append(f"distance {level}: {', '.join(frontier)}")
    if problem.distance is None:
        lines.append(f"The search stops without reaching {problem.target}: {UNREACHABLE}")
    else:
        lines.append(f"{problem.target} is first reached at distance {problem.distance}")
    return "\n".join(lines)


BfsDistanceEnv = register_task(
    "thinkgym/BfsDistance-v0", family="graph", config=BfsDistanceConfig, generate=generate, verify=verify, explain=explain
)
