"""Interactive search in a hidden graph: explore it with neighbour queries, then give a path.

The agent does not see the graph. The first observation names the start and goal nodes and
the rules; each turn the agent's answer block holds one action:

* ``neighbors(X)`` (or ``neighbours(X)``): the env replies with X's neighbours. X must be a node
  the agent has seen (the start, the goal, or a node some reply listed); other names get an
  error reply. A query earns reward 0.
* ``path: S -> ... -> T`` (``A, B, C`` and ``A B C`` also read, and the ``path:`` prefix is
  optional): the final answer, which ends the episode. A shortest path earns 1.0; a valid
  longer path earns ``0.5 * shortest / length`` (edges counted); a path that uses a missing
  node or edge, repeats a node or has the wrong ends earns 0 with the reason in ``info["reason"]``.

An action that is neither (including a completion without an answer block) gets an error reply
and uses up its turn. The episode is truncated with return 0 after ``max_turns`` turns. After
each step ``info["answer"]`` is a reference next action: a query along a shortest path, or the
final path once the revealed edges contain a shortest one.

Difficulty: 1 = 6 to 8 nodes, sparse; 2 = 10 to 14 nodes; 3 = 16 to 22 nodes, goal far away.
Default ``max_turns`` is the largest node count plus 2, which leaves room to query every node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from thinkgym.envs.base import MultiTurnEnv
from thinkgym.envs.graph.common import missing_edge, parse_path, random_connected_graph, sorted_nodes
from thinkgym.envs.levels import Levels, TaskConfig, ordered
from thinkgym.envs.registry import register_env
from thinkgym.rewards.verdict import InvalidAnswer

_QUERY = re.compile(r"^neighbou?rs\b\s*(?:of\s+)?\(?\s*([A-Za-z]{1,3})\s*\)?\s*\.?$", re.IGNORECASE | re.ASCII)
_QUERY_START = re.compile(r"^neighbou?rs\b", re.IGNORECASE | re.ASCII)
_PATH_PREFIX = re.compile(r"^(?:final\s+)?path\s*[:=]?\s*", re.IGNORECASE | re.ASCII)
LONGER_PATH_CREDIT = 0.5


def _turns(config: ExploreConfig) -> int:
    return config.max_nodes + 2


@dataclass(frozen=True)
class ExploreConfig(TaskConfig):
    LEVELS = Levels(
        ("min_nodes", "max_nodes", "max_turns", "extra_edge_rate", "min_distance"),
        {1: (6, 8, _turns, 0.3, 2), 2: (10, 14, _turns, 0.4, 3), 3: (16, 22, _turns, 0.4, 4)},
        at_least={"max_nodes": "min_nodes"},
    )
    min_nodes: int | None = None
    """Fewest nodes (default from difficulty)."""
    max_nodes: int | None = None
    """Most nodes (default from difficulty)."""
    max_turns: int | None = None
    """Turns before truncation (default max_nodes + 2); at least max_nodes, so that a shortest
    path can always be walked and answered."""

    def validate(self) -> None:
        ordered(self, "min_nodes", "max_nodes", 4, 100)
        if not self.max_nodes <= self.max_turns <= 500:
            raise ValueError(f"max_turns must be in max_nodes..500 ({self.max_nodes}..500), got {self.max_turns}")


@dataclass(frozen=True)
class ExploreProblem:
    prompt: str
    answer: str
    """A shortest path, the final answer a perfect explorer gives."""
    graph: nx.Graph
    source: str
    target: str
    distance: int


class GraphExploreEnv(MultiTurnEnv):
    """Find a shortest path in a hidden graph by querying neighbours (see the module docstring)."""

    family = "graph"
    config_cls = ExploreConfig

    def generate(self, rng: np.random.Generator) -> ExploreProblem:
        config = self.config
        extra, far = config.level["extra_edge_rate"], config.level["min_distance"]
        while True:
            n = int(rng.integers(config.min_nodes, config.max_nodes + 1))
            graph = random_connected_graph(rng, n, extra_edges=round(extra * n))
            lengths = dict(nx.all_pairs_shortest_path_length(graph))
            nodes = sorted_nodes(graph.nodes)
            goal = min(far, max(max(d.values()) for d in lengths.values()))  # the diameter caps it
            pairs = [(u, v) for u in nodes for v in nodes if lengths[u][v] >= max(goal, 2)]
            if pairs:
                break
        source, target = pairs[int(rng.integers(len(pairs)))]
        prompt = (
            f"You are exploring a hidden undirected graph with {n} nodes, named by capital letters. "
            f"Find a shortest path from {source} to {target}. Each turn, give exactly one action in an answer block:\n"
            "- neighbors(X) to see the neighbours of node X, which must be a node you have already seen "
            f"(e.g. <answer>neighbors({source})</answer>);\n"
            "- path: followed by your final path, every node in order, which ends the game "
            f"(e.g. <answer>path: {source} -> ... -> {target}</answer>).\n"
            f"A shortest path scores 1, a longer valid path {LONGER_PATH_CREDIT} * (shortest length / your length), "
            f"an invalid path 0. You have {config.max_turns} turns."
        )
        path = nx.shortest_path(graph, source, target)
        return ExploreProblem(prompt, " -> ".join(path), graph, source, target, len(path) - 1)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self._known: dict[str, list[str]] = {}
        observation, info = super().reset(seed=seed, options=options)
        self._seen = {self.problem.source, self.problem.target}
        return observation, info

    # -- the game ---------------------------------------------------------------------------
    def play(self, move: str | None, error: str) -> tuple[str, float, bool, dict[str, Any]]:
        if move is None:
            return self._reply(f"No action read ({error}). Answer with neighbors(X) or path: ...")
        query = _QUERY.match(move.strip())
        if query:
            return self._query(query.group(1).upper())
        if _QUERY_START.match(move.strip()):
            return self._reply("Cannot read that query; write it as neighbors(X) with one node name X.")
        return self._final(_PATH_PREFIX.sub("", move.strip(), count=1))

    def _reply(self, text: str, reason: str | None = None) -> tuple[str, float, bool, dict[str, Any]]:
        remaining = self.max_turns - self.turn - 1
        return f"{text} [{remaining} turns left]", 0.0, False, {"reason": reason if reason is not None else text}

    def _query(self, node: str) -> tuple[str, float, bool, dict[str, Any]]:
        if node not in self._seen:
            return self._reply(f"You have not seen a node {node} yet; query the start, the goal or a listed neighbour.")
        neighbours = sorted_nodes(self.problem.graph.neighbors(node))
        self._known[node] = neighbours
        self._seen.update(neighbours)
        return self._reply(f"neighbors({node}) = {', '.join(neighbours)}", reason="")

    def _final(self, text: str) -> tuple[str, float, bool, dict[str, Any]]:
        problem = self.problem
        try:
            path = parse_path(text, problem.graph)
        except InvalidAnswer as err:
            return f"Invalid path: {err}. Game over.", 0.0, True, {"reason": f"invalid path: {err}", "correct": False}
        reason = ""
        if path[0] != problem.source or path[-1] != problem.target:
            reason = f"the path must go from {problem.source} to {problem.target}"
        elif gap := missing_edge(path, problem.graph):
            reason = f"there is no edge {gap[0]} - {gap[1]}"
        elif len(set(path)) != len(path):
            reason = "the path visits a node twice"
        if reason:
            return f"Invalid path: {reason}. Game over.", 0.0, True, {"reason": reason, "correct": False}
        length = len(path) - 1
        if length == problem.distance:
            return "Correct: a shortest path. Game over.", 1.0, True, {"reason": "", "correct": True}
        score = LONGER_PATH_CREDIT * problem.distance / length
        reason = f"the path has {length} edges, a shortest has {problem.distance}"
        return f"Valid but not shortest: {reason}. Game over.", score, True, {"reason": reason, "correct": False}

    def reference_action(self) -> str:
        problem = self.problem
        known = nx.Graph([(u, v) for u, vs in self._known.items() for v in vs])
        if known.has_node(problem.source) and known.has_node(problem.target) and nx.has_path(known, problem.source, problem.target):
            path = nx.shortest_path(known, problem.source, problem.target)
            if len(path) - 1 == problem.distance:
                return "path: " + " -> ".join(path)
        # Walk a fixed shortest path: its first unqueried node (before the goal) has been seen,
        # because the node before it was queried.
        for node in problem.answer.split(" -> ")[:-1]:
            if node not in self._known:
                return f"neighbors({node})"
        return "path: " + problem.answer  # not reached: once the loop is done, the first branch answers

    @property
    def revealed(self) -> dict[str, list[str]]:
        """The neighbour lists the agent has been shown so far."""
        return dict(self._known)


register_env("thinkgym/GraphExplore-v0", GraphExploreEnv)
