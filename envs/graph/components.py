"""Number of connected components of an undirected graph given as an edge list.

Prompt: the nodes and the edges, one a line (``A - B``). Answer: the number of connected
components, e.g. ``<answer>3</answer>`` (``3 components`` also reads). An isolated node is a
component of its own. Reward 1.0 when right, else 0.

Difficulty: 1 = 6 to 8 nodes in 1 to 3 components; 2 = 10 to 14 nodes in 2 to 5; 3 = 16 to 24
nodes in 3 to 8 (isolated nodes more likely).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from thinkgym.envs.graph.common import edge_list_text, node_names, nodes_text, parse_int, sorted_nodes
from thinkgym.envs.levels import Levels, TaskConfig, ordered, within
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict


@dataclass(frozen=True)
class ComponentsConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "min_components", "max_components"),
        {1: (6, 8, 1, 3), 2: (10, 14, 2, 5), 3: (16, 24, 3, 8)},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    min_components: int | None = None
    """Fewest components (default from difficulty)."""
    max_components: int | None = None
    """Most components (default from difficulty)."""
    extra_edge_rate: float = 0.4
    """Edges beyond each component's spanning tree, per node."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 2, 200)
        ordered(self, "min_components", "max_components", 1, self.min_nodes)
        within(self, "extra_edge_rate", 0, 3.0)


@dataclass(frozen=True)
class ComponentsProblem:
    prompt: str
    answer: str
    graph: nx.Graph
    count: int


def generate(rng: np.random.Generator, config: ComponentsConfig) -> ComponentsProblem:
    n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
    k = int(rng.integers(config.min_components, config.max_components + 1))
    names = [node_names(n)[i] for i in rng.permutation(n)]
    # k - 1 random cut points split the shuffled names into k non-empty groups.
    cuts = sorted(int(c) + 1 for c in rng.choice(n - 1, size=k - 1, replace=False))
    graph = nx.Graph()
    graph.add_nodes_from(names)
    for start, stop in zip([0] + cuts, cuts + [n]):
        group = names[start:stop]
        for i in range(1, len(group)):  # a random spanning tree of the group
            graph.add_edge(group[i], group[int(rng.integers(i))])
        possible = len(group) * (len(group) - 1) // 2 - (len(group) - 1)
        for _ in range(min(round(config.extra_edge_rate * len(group)), possible)):
            while True:
                u, v = (group[int(j)] for j in rng.choice(len(group), size=2, replace=False))
                if not graph.has_edge(u, v):
                    graph.add_edge(u, v)
                    break
    edges = edge_list_text(graph, weighted=False) or "(no edges)"
    prompt = (
        f"An undirected graph has the nodes {nodes_text(graph)} and these edges:\n{edges}\n"
        "How many connected components does it have? A node without edges is a component of its own. "
        "Answer with the number, e.g. <answer>2</answer>."
    )
    count = nx.number_connected_components(graph)
    return ComponentsProblem(prompt, str(count), graph, count)


def verify(problem: ComponentsProblem, answer: str) -> Verdict:
    claimed = parse_int(answer)
    if claimed != problem.count:
        return Verdict(0.0, f"the graph does not have {claimed} components", str(claimed))
    return Verdict(1.0, canonical=str(claimed))


def explain(problem: ComponentsProblem) -> str:
    """Each component, found by a search from its alphabetically first node."""
    parts = sorted((sorted_nodes(c) for c in nx.connected_components(problem.graph)), key=lambda c: (len(c[0]), c[0]))
    lines = ["Search from each node not yet reached; each search finds one component:"]
    lines += [f"component {i}: {', '.join(part)}" for i, part in enumerate(parts, 1)]
    lines.append(f"Number of components: {problem.count}")
    return "\n".join(lines)


ComponentsEnv = register_task(
    "thinkgym/ConnectedComponents-v0",
    family="graph",
    config=ComponentsConfig,
    generate=generate,
    verify=verify,
    explain=explain,
)
