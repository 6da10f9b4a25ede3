"""The graph family: any valid answer is accepted, invalid ones are rejected with a reason.

The env contract (tests/test_env_contract.py) already plays every env by its reference answers;
these tests build *other* valid answers (a second shortest path, another topological order, a
permuted colouring, a rotated or reversed cycle...) and check that the verifiers accept them.
"""

from __future__ import annotations

import itertools
import re
from collections import deque

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.graph import (
    bfs_distance,
    bipartite,
    colouring,
    components,
    eulerian_path,
    explore,
    find_cycle,
    max_flow,
    mst_weight,
    shortest_path,
    topological_sort,
)
from thinkgym.envs.graph.common import parse_colouring, parse_int, parse_path
from thinkgym.rewards import InvalidAnswer
from thinkgym.rewards.guard import guarded_verify

TASKS = {
    "thinkgym/ShortestPath-v0": (shortest_path, shortest_path.ShortestPathConfig),
    "thinkgym/BfsDistance-v0": (bfs_distance, bfs_distance.BfsDistanceConfig),
    "thinkgym/ConnectedComponents-v0": (components, components.ComponentsConfig),
    "thinkgym/TopologicalSort-v0": (topological_sort, topological_sort.TopologicalSortConfig),
    "thinkgym/FindCycle-v0": (find_cycle, find_cycle.FindCycleConfig),
    "thinkgym/MSTWeight-v0": (mst_weight, mst_weight.MSTWeightConfig),
    "thinkgym/Bipartite-v0": (bipartite, bipartite.BipartiteConfig),
    "thinkgym/GraphColouring-v0": (colouring, colouring.ColouringConfig),
    "thinkgym/MaxFlow-v0": (max_flow, max_flow.MaxFlowConfig),
    "thinkgym/EulerianPath-v0": (eulerian_path, eulerian_path.EulerianPathConfig),
}


def problems(module, config_cls, difficulties=(1, 2, 3), seeds=range(12), **options):
    for difficulty in difficulties:
        config = config_cls(difficulty=difficulty, **options)
        for seed in seeds:
            yield module.generate(np.random.default_rng(seed), config)


def score(module, problem, answer: str) -> float:
    return guarded_verify(module.verify, problem, answer)[0].score


def verdict(module, problem, answer: str):
    return guarded_verify(module.verify, problem, answer)[0]


# -- every task ------------------------------------------------------------------------------


def test_the_family_has_at_least_eight_single_turn_tasks_and_one_interactive():
    ids = thinkgym.list_envs(family="graph")
    assert set(TASKS) | {"thinkgym/GraphExplore-v0"} <= set(ids)
    assert thinkgym.envs.registry.env_info("thinkgym/GraphExplore-v0").multi_turn


@pytest.mark.parametrize("env_id", TASKS, ids=list(TASKS))
def test_worked_solution_ends_with_the_answer_and_earns_full_reward(env_id):
    for difficulty in (1, 2, 3):
        env = gym.make(env_id, difficulty=difficulty, disable_env_checker=True)
        for seed in range(4):
            _, info = env.reset(seed=seed)
            worked = env.unwrapped.explain()
            assert worked.rstrip().endswith(info["answer"]), worked
            assert all(32 <= ord(c) < 127 or c == "\n" for c in worked)
            _, reward, *_ = env.step(f"<think>{worked}</think><answer>{info['answer']}</answer>")
            assert reward == 1.0


@pytest.mark.parametrize("env_id", TASKS, ids=list(TASKS))
def test_generation_is_deterministic_and_varied(env_id):
    module, config_cls = TASKS[env_id]
    config = config_cls(difficulty=2)
    first = [module.generate(np.random.default_rng(s), config) for s in range(6)]
    again = [module.generate(np.random.default_rng(s), config) for s in range(6)]
    assert [(p.prompt, p.answer) for p in first] == [(p.prompt, p.answer) for p in again]
    assert len({p.prompt for p in first}) == 6


@pytest.mark.parametrize("env_id", TASKS, ids=list(TASKS))
def test_absent_nodes_and_garbage_score_zero_with_a_reason(env_id):
    module, config_cls = TASKS[env_id]
    problem = module.generate(np.random.default_rng(0), config_cls(difficulty=1))
    for answer in ("ZZ -> QQ", "A = 1, ZZ = 2", "hello", "-> ,,", "1.5e9"):
        result = verdict(module, problem, answer)
        assert result.score == 0.0 and result.reason, answer


BAD_CONFIGS = [
    (shortest_path.ShortestPathConfig, {"min_nodes": 2}, "min_nodes"),
    (bfs_distance.BfsDistanceConfig, {"unreachable_rate": 1.5}, "unreachable_rate"),
    (bfs_distance.BfsDistanceConfig, {"min_nodes": 9, "max_nodes": 5}, "min_nodes <= max_nodes"),
    (components.ComponentsConfig, {"min_components": 9, "max_components": 3}, "min_components"),
    (topological_sort.TopologicalSortConfig, {"cycle_rate": -0.1}, "cycle_rate"),
    (topological_sort.TopologicalSortConfig, {"edge_factor": 9}, "edge_factor"),
    (find_cycle.FindCycleConfig, {"acyclic_rate": 2}, "acyclic_rate"),
    (mst_weight.MSTWeightConfig, {"max_weight": 0}, "max_weight"),
    (bipartite.BipartiteConfig, {"odd_rate": 3}, "odd_rate"),
    (colouring.ColouringConfig, {"colours": 1}, "colours"),
    (colouring.ColouringConfig, {"colours": 7}, "colours"),
    (max_flow.MaxFlowConfig, {"max_capacity": 0}, "max_capacity"),
    (eulerian_path.EulerianPathConfig, {"nodes": 2}, "nodes"),
    (eulerian_path.EulerianPathConfig, {"min_edges": 1}, "min_edges"),
    (explore.ExploreConfig, {"max_turns": 3}, "max_turns"),
    (explore.ExploreConfig, {"min_nodes": 3}, "min_nodes"),
]


@pytest.mark.parametrize("config_cls,options,match", BAD_CONFIGS, ids=[f"{c.__name__}-{m}" for c, _, m in BAD_CONFIGS])
def test_bad_configs_raise(config_cls, options, match):
    with pytest.raises(ValueError, match=match):
        config_cls(difficulty=1, **options)


def test_options_reach_the_generator():
    env = gym.make("thinkgym/GraphColouring-v0", difficulty=1, colours=4, min_nodes=7, max_nodes=7, disable_env_checker=True)
    prompt, _ = env.reset(seed=0)
    assert "colours 1 to 4" in prompt and "nodes A, B, C, D, E, F, G and" in prompt


# -- parsers -----------------------------------------------------------------------------------


def test_path_parser_reads_the_natural_separators():
    graph = nx.path_graph(["A", "B", "C", "AB"])
    for text in ("A -> B -> C", "A, B, C", "A B C", "a->b->c", "[A, B, C].", "A - B - C", "A => B => C"):
        assert parse_path(text, graph) == ["A", "B", "C"], text
    assert parse_path("C -> AB", graph) == ["C", "AB"]
    with pytest.raises(InvalidAnswer, match="'Q' is not in the graph"):
        parse_path("A -> Q", graph)
    with pytest.raises(InvalidAnswer, match="empty"):
        parse_path(" -> ", graph)


def test_colouring_parser_is_strict():
    graph = nx.path_graph(["A", "B", "C"])
    assert parse_colouring("A=1, B=2, C=1", graph) == {"A": 1, "B": 2, "C": 1}
    assert parse_colouring("a: 1; b: 2 c:1", graph) == {"A": 1, "B": 2, "C": 1}
    for text, why in [("A=1, B=2", "no colour for node"), ("A=1, A=2, B=1, C=2", "twice"),
                      ("A=1, B=2, C=1, D=2", "'D' is not in the graph"), ("A=1 and B=2, C=1", "cannot read")]:
        with pytest.raises(InvalidAnswer, match=why):
            parse_colouring(text, graph)


def test_integer_parser():
    for text, value in [("7", 7), (" 12 components", 12), ("total weight: 17", 17), ("= 3", 3), ("-2", -2)]:
        assert parse_int(text) == value
    for text in ("seven", "1.5", "12345678901", "3 4", ""):
        with pytest.raises(InvalidAnswer):
            parse_int(text)


# -- shortest path --------------------------------------------------------------------------


def test_shortest_path_accepts_every_optimal_path_and_rejects_others():
    tied = 0
    for problem in problems(shortest_path, shortest_path.ShortestPathConfig, seeds=range(20)):
        optimal = list(itertools.islice(nx.all_shortest_paths(problem.graph, problem.source, problem.target, "weight"), 5))
        tied += len(optimal) > 1
        for path in optimal:
            assert score(shortest_path, problem, ", ".join(path)) == 1.0
            assert score(shortest_path, problem, " ".join(path)) == 1.0
        longer = next(
            p for p in nx.shortest_simple_paths(problem.graph, problem.source, problem.target, "weight")
            if nx.path_weight(problem.graph, p, "weight") > problem.distance
        )
        assert score(shortest_path, problem, " -> ".join(longer)) == 0.0
        assert score(shortest_path, problem, " -> ".join(optimal[0][::-1])) == 0.0  # wrong ends
    assert tied >= 3, "too few instances with two optimal paths to test alternatives"


def test_shortest_path_names_the_missing_edge():
    graph = nx.Graph()
    graph.add_weighted_edges_from([("A", "B", 1), ("B", "C", 1), ("A", "D", 5), ("D", "C", 5)])
    problem = shortest_path.ShortestPathProblem("", "A -> B -> C", graph, "A", "C", 2)
    assert verdict(shortest_path, problem, "A -> C").reason == "there is no edge A - C"
    assert verdict(shortest_path, problem, "A -> D -> C").reason == "the path weighs 10, the shortest weighs 2"


# -- BFS distance ---------------------------------------------------------------------------


def test_bfs_distance_matches_networkx_and_covers_both_outcomes():
    outcomes = set()
    for problem in problems(bfs_distance, bfs_distance.BfsDistanceConfig, seeds=range(15)):
        reachable = nx.has_path(problem.graph, problem.source, problem.target)
        outcomes.add(reachable)
        if reachable:
            d = nx.shortest_path_length(problem.graph, problem.source, problem.target)
            assert score(bfs_distance, problem, f"{d} edges") == 1.0
            assert score(bfs_distance, problem, str(d + 1)) == 0.0
            assert score(bfs_distance, problem, "unreachable") == 0.0
        else:
            assert score(bfs_distance, problem, "No path") == 1.0
            assert score(bfs_distance, problem, "3") == 0.0
    assert outcomes == {True, False}


def test_bfs_distance_follows_directions():
    graph = nx.DiGraph([("A", "B"), ("B", "C")])
    forward = bfs_distance.BfsDistanceProblem("", "2", graph, "A", "C", 2)
    backward = bfs_distance.BfsDistanceProblem("", "unreachable", graph, "C", "A", None)
    assert score(bfs_distance, forward, "2") == 1.0
    assert score(bfs_distance, backward, "unreachable") == 1.0 and score(bfs_distance, backward, "2") == 0.0


# -- connected components ----------------------------------------------------------------------


def test_components_count_matches_networkx_and_the_configured_range():
    for difficulty in (1, 2, 3):
        config = components.ComponentsConfig(difficulty=difficulty)
        for seed in range(10):
            problem = components.generate(np.random.default_rng(seed), config)
            count = nx.number_connected_components(problem.graph)
            assert config.min_components <= count <= config.max_components
            assert score(components, problem, f"{count} components") == 1.0
            assert score(components, problem, str(count + 1)) == 0.0
            for node in problem.graph:  # isolated nodes are listed in the prompt too
                assert re.search(rf"\b{node}\b", problem.prompt)


# -- topological sort ------------------------------------------------------------------------


def test_topological_sort_accepts_any_valid_order_and_detects_cycles():
    kinds = set()
    for problem in problems(topological_sort, topological_sort.TopologicalSortConfig):
        kinds.add(problem.acyclic)
        if problem.acyclic:
            orders = list(itertools.islice(nx.all_topological_sorts(problem.graph), 50))
            other = orders[-1]  # a different order from the reference (Kahn, first name first)
            assert score(topological_sort, problem, " -> ".join(other)) == 1.0
            assert score(topological_sort, problem, " ".join(orders[0])) == 1.0
            assert score(topological_sort, problem, ", ".join(reversed(other))) == 0.0
            assert score(topological_sort, problem, ", ".join(other[:-1])) == 0.0
            assert score(topological_sort, problem, "cycle") == 0.0
        else:
            assert score(topological_sort, problem, "Cycle.") == 1.0
            assert score(topological_sort, problem, ", ".join(sorted(problem.graph))) == 0.0
    assert kinds == {True, False}


def test_topological_sort_names_the_backward_edge():
    graph = nx.DiGraph([("A", "B"), ("B", "C")])
    problem = topological_sort.TopologicalSortProblem("", "A, B, C", graph, True)
    assert verdict(topological_sort, problem, "B, A, C").reason == "the edge A -> B points backwards"
    assert verdict(topological_sort, problem, "A, B, B, C").score == 0.0


# -- cycle finding -------------------------------------------------------------------------------


def _cycles(graph, limit=6):
    if graph.is_directed():
        return list(itertools.islice(nx.simple_cycles(graph), limit))
    return nx.cycle_basis(graph)[:limit]


def test_find_cycle_accepts_any_cycle_in_any_rotation():
    kinds = set()
    for problem in problems(find_cycle, find_cycle.FindCycleConfig):
        kinds.add(problem.has_cycle)
        if not problem.has_cycle:
            assert score(find_cycle, problem, "none") == 1.0
            assert score(find_cycle, problem, " -> ".join(sorted(problem.graph)[:3])) == 0.0
            continue
        assert score(find_cycle, problem, "none") == 0.0
        for cycle in _cycles(problem.graph):
            rotated = cycle[1:] + cycle[:1]
            assert score(find_cycle, problem, " -> ".join(rotated + rotated[:1])) == 1.0
            assert score(find_cycle, problem, ", ".join(rotated)) == 1.0  # closing node optional
            reverse = " -> ".join(cycle[::-1])
            assert score(find_cycle, problem, reverse) == (0.0 if problem.graph.is_directed() else 1.0)
            if not problem.graph.has_edge(cycle[-2], cycle[0]):  # dropping the last node opens the cycle
                assert score(find_cycle, problem, " -> ".join(cycle[:-1])) == 0.0
    assert kinds == {True, False}


def test_find_cycle_rejects_back_and_forth_and_repeats():
    graph = nx.Graph([("A", "B"), ("B", "C"), ("C", "A"), ("C", "D")])
    problem = find_cycle.FindCycleProblem("", "A -> B -> C -> A", graph, True)
    assert "at least 3" in verdict(find_cycle, problem, "C -> D -> C").reason
    assert "repeats" in verdict(find_cycle, problem, "A -> B -> C -> A -> B -> C").reason
    assert verdict(find_cycle, problem, "B -> C -> D").reason == "there is no edge D - B"


# -- minimum spanning tree ------------------------------------------------------------------------


def test_mst_weight_matches_prim():
    for problem in problems(mst_weight, mst_weight.MSTWeightConfig):
        weight = nx.minimum_spanning_tree(problem.graph, algorithm="prim").size(weight="weight")
        assert score(mst_weight, problem, f"total weight: {int(weight)}") == 1.0
        assert score(mst_weight, problem, str(int(weight) - 1)) == 0.0
    graph = nx.Graph()
    graph.add_weighted_edges_from([("A", "B", 1), ("B", "C", 2), ("A", "C", 3)])
    assert score(mst_weight, mst_weight.MSTWeightProblem("", "3", graph, 3), "3") == 1.0


# -- bipartiteness and colouring ------------------------------------------------------------


def test_bipartite_accepts_swapped_groups_and_any_odd_cycle():
    kinds = set()
    for problem in problems(bipartite, bipartite.BipartiteConfig):
        kinds.add(problem.bipartite)
        assert problem.bipartite == nx.is_bipartite(problem.graph)
        if problem.bipartite:
            groups = parse_colouring(problem.answer, problem.graph)
            swapped = ", ".join(f"{v}: {3 - c}" for v, c in groups.items())
            assert score(bipartite, problem, swapped) == 1.0
            u, v = next(iter(problem.graph.edges))
            groups[u] = groups[v]
            assert score(bipartite, problem, ", ".join(f"{k}={c}" for k, c in groups.items())) == 0.0
        else:
            odd = [c for c in nx.cycle_basis(problem.graph) if len(c) % 2 == 1]
            for cycle in odd:
                reversed_rotated = (cycle[2:] + cycle[:2])[::-1]
                assert score(bipartite, problem, "odd cycle: " + " -> ".join(reversed_rotated)) == 1.0
            assert score(bipartite, problem, ", ".join(f"{v}=1" for v in problem.graph)) == 0.0
    assert kinds == {True, False}


def test_bipartite_rejects_even_cycles_and_third_groups():
    graph = nx.Graph([("A", "B"), ("B", "C"), ("C", "D"), ("D", "A"), ("C", "E"), ("E", "A")])
    problem = bipartite.BipartiteProblem("", "odd cycle: A -> B -> C -> E -> A", graph, False)
    assert "even" in verdict(bipartite, problem, "odd cycle: A -> B -> C -> D").reason
    assert score(bipartite, problem, "odd cycle: A -> C -> E") == 0.0  # no edge A - C
    square = nx.cycle_graph(["A", "B", "C", "D"])
    ok = bipartite.BipartiteProblem("", "A=1, B=2, C=1, D=2", square, True)
    assert "groups are 1 and 2" in verdict(bipartite, ok, "A=1, B=3, C=1, D=3").reason
    assert score(bipartite, ok, "A=2, B=1, C=2, D=1") == 1.0


def test_colouring_accepts_permuted_colourings():
    for problem in problems(colouring, colouring.ColouringConfig):
        reference = parse_colouring(problem.answer, problem.graph)
        assert max(reference.values()) <= problem.colours
        for perm in itertools.islice(itertools.permutations(range(1, problem.colours + 1)), 1, 4):
            permuted = ", ".join(f"{v}={perm[c - 1]}" for v, c in reference.items())
            assert score(colouring, problem, permuted) == 1.0
        u, v = sorted(problem.graph.edges)[0]
        clash = dict(reference, **{u: reference[v]})
        assert verdict(colouring, problem, ", ".join(f"{k}={c}" for k, c in clash.items())).reason.startswith("the edge")
        too_many = dict(reference, **{u: problem.colours + 1})
        assert score(colouring, problem, ", ".join(f"{k}={c}" for k, c in too_many.items())) == 0.0


# -- maximum flow -----------------------------------------------------------------------------------


def test_max_flow_matches_another_algorithm_and_its_explanation():
    for problem in problems(max_flow, max_flow.MaxFlowConfig):
        value = nx.maximum_flow_value(
            problem.graph, problem.source, problem.sink, flow_func=nx.algorithms.flow.edmonds_karp
        )
        assert problem.value == value > 0
        assert score(max_flow, problem, f"max flow: {value}") == 1.0
        assert score(max_flow, problem, str(value + 1)) == 0.0
        pushed = sum(push for _, push in max_flow._augmenting_paths(problem))
        assert pushed == value
    graph = nx.DiGraph()
    graph.add_edges_from([("S", "A", {"capacity": 3}), ("A", "T", {"capacity": 2}), ("S", "T", {"capacity": 1})])
    assert score(max_flow, max_flow.MaxFlowProblem("", "3", graph, "S", "T", 3), "3") == 1.0


# -- Eulerian path -------------------------------------------------------------------------------------


def test_eulerian_path_accepts_other_walks():
    for problem in problems(eulerian_path, eulerian_path.EulerianPathConfig):
        graph = problem.graph
        walk = problem.answer.split(" -> ")
        if not graph.is_directed():
            assert score(eulerian_path, problem, ", ".join(walk[::-1])) == 1.0
        starts = [v for v in graph if nx.has_eulerian_path(graph, source=v)]
        for start in starts[:3]:
            edges = list(nx.eulerian_path(graph, source=start))
            other = [edges[0][0]] + [v for _, v in edges]
            assert score(eulerian_path, problem, " ".join(other)) == 1.0
        assert "of the" in verdict(eulerian_path, problem, " -> ".join(walk[:-1])).reason
        if graph.is_directed():
            assert score(eulerian_path, problem, " -> ".join(walk[::-1])) == 0.0


def test_eulerian_path_rejects_reused_edges():
    graph = nx.Graph([("A", "B"), ("B", "C")])
    problem = eulerian_path.EulerianPathProblem("", "A -> B -> C", graph)
    assert "used twice" in verdict(eulerian_path, problem, "A -> B -> A -> B -> C").reason
    assert verdict(eulerian_path, problem, "A -> C").reason == "there is no edge A - C"


# -- the interactive explorer -------------------------------------------------------------------------


def make_explore(difficulty: int = 1, **options):
    return gym.make("thinkgym/GraphExplore-v0", difficulty=difficulty, disable_env_checker=True, **options)


def run(env, actions):
    """Step through answer texts; return (total reward, observations, last info, terminated, truncated)."""
    total, observations = 0.0, []
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(f"<answer>{action}</answer>")
        total += reward
        observations.append(obs)
        if terminated or truncated:
            break
    return total, observations, info, terminated, truncated


def bfs_explorer(env, prompt: str) -> tuple[float, int]:
    """A scripted agent: queries nodes in breadth-first order from the start and answers as soon
    as the goal is listed, reading only the observations. Returns (return, turns used)."""
    source, target = re.search(r"from (\w+) to (\w+)", prompt).groups()
    parent = {source: None}
    queue = deque([source])
    total, turns = 0.0, 0
    while queue:
        node = queue.popleft()
        obs, reward, terminated, truncated, _ = env.step(f"<think>expand {node}</think><answer>neighbors({node})</answer>")
        turns += 1
        assert not (terminated or truncated), obs
        listed = re.match(rf"neighbors\({node}\) = ([A-Z]+(?:, [A-Z]+)*)", obs).group(1).split(", ")
        for neighbour in listed:
            if neighbour not in parent:
                parent[neighbour] = node
                queue.append(neighbour)
        if target in parent:
            path = [target]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            _, reward, terminated, _, _ = env.step(f"<answer>path: {' -> '.join(reversed(path))}</answer>")
            assert terminated
            return total + reward, turns + 1
    raise AssertionError("the goal was never listed")


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_explore_by_reference_and_by_breadth_first_search(difficulty):
    env = make_explore(difficulty)
    for seed in range(6):
        _, info = env.reset(seed=seed)
        actions, total, done = 0, 0.0, False
        while not done:
            _, reward, terminated, truncated, info = env.step(f"<answer>{info['answer']}</answer>")
            total, actions, done = total + reward, actions + 1, terminated or truncated
        assert terminated and total == 1.0 and actions <= env.unwrapped.max_turns
        assert info["answer"] == ""
        prompt, _ = env.reset(seed=seed)
        total, turns = bfs_explorer(env, prompt)
        assert total == 1.0 and turns <= env.unwrapped.max_turns


def test_explore_gives_partial_credit_for_a_longer_path():
    env = make_explore(2)
    for seed in range(20):
        env.reset(seed=seed)
        problem = env.unwrapped.problem
        longer = next(
            (p for p in nx.all_simple_paths(problem.graph, problem.source, problem.target, cutoff=problem.distance + 3)
             if len(p) - 1 > problem.distance),
            None,
        )
        if longer:
            break
    total, _, info, terminated, _ = run(env, ["path: " + ", ".join(longer)])
    assert terminated and total == pytest.approx(0.5 * problem.distance / (len(longer) - 1))
    assert "a shortest has" in info["reason"]


def test_explore_rejects_invalid_paths_and_unseen_queries():
    env = make_explore(1)
    env.reset(seed=0)
    problem = env.unwrapped.problem
    unseen = next(v for v in problem.graph if v not in (problem.source, problem.target)
                  and v not in problem.graph[problem.source])
    total, obs, info, terminated, _ = run(env, [f"neighbors({unseen})"])
    assert not terminated and "not seen" in obs[0] and total == 0.0
    total, obs, info, terminated, _ = run(env, ["neighbours of " + problem.source])
    assert not terminated and obs[0].startswith(f"neighbors({problem.source}) = ")
    total, obs, info, terminated, _ = run(env, [f"path: {problem.source} -> {problem.target}"])
    assert terminated and total == 0.0 and info["reason"] == f"there is no edge {problem.source} - {problem.target}"
    env.reset(seed=0)
    total, _, info, terminated, _ = run(env, [f"path: {problem.source} -> QQ -> {problem.target}"])
    assert terminated and total == 0.0 and "'QQ' is not in the graph" in info["reason"]


def test_explore_truncates_after_max_turns():
    env = make_explore(1, max_turns=9)
    _, info = env.reset(seed=1)
    source = info["answer"][len("neighbors("):-1]
    total, obs, _, terminated, truncated = run(env, [f"neighbors({source})"] * 20)
    assert len(obs) == 9 and truncated and not terminated and total == 0.0
    assert "0 turns left" in obs[-1]
    with pytest.raises(gym.error.ResetNeeded):
        env.step("<answer>neighbors(A)</answer>")


def test_explore_is_deterministic_and_hides_the_graph():
    a, b = make_explore(3), make_explore(3)
    for seed in range(3):
        pa, ia = a.reset(seed=seed)
        pb, ib = b.reset(seed=seed)
        assert (pa, ia["answer"]) == (pb, ib["answer"])
        assert " - " not in pa and "->" in pa  # no edge list, only the answer format


@pytest.mark.parametrize("options", [{"weighted": False}, {"directed": True}, {"weighted": False, "directed": True}])
def test_shortest_path_variants(options):
    for problem in problems(shortest_path, shortest_path.ShortestPathConfig, seeds=range(8), **options):
        graph = problem.graph
        assert graph.is_directed() == options.get("directed", False)
        assert ("weight" in problem.prompt) == options.get("weighted", True)
        for path in itertools.islice(nx.all_shortest_paths(graph, problem.source, problem.target, "weight"), 3):
            assert score(shortest_path, problem, " ".join(path)) == 1.0
        worked = shortest_path.explain(problem)
        assert worked.endswith(problem.answer)



def test_shortest_path_follows_directions():
    graph = nx.DiGraph([("A", "B"), ("B", "C"), ("C", "D"), ("A", "D")])
    nx.set_edge_attributes(graph, 1, "weight")
    problem = shortest_path.ShortestPathProblem("", "D -> ...", graph, "D", "A", 3, weighted=False)
    assert verdict(shortest_path, problem, "D -> A").reason == "there is no edge D -> A"
    forward = shortest_path.ShortestPathProblem("", "A -> D", graph, "A", "D", 1, weighted=False)
    assert verdict(shortest_path, forward, "A B C D").reason == "the path has 3 edges, the shortest has 1"


# -- fuzzing: any text either parses or raises InvalidAnswer --------------------------------------

_FUZZ_PROBLEMS = [(module, module.generate(np.random.default_rng(0), cfg(difficulty=2))) for module, cfg in TASKS.values()]
_ANSWERISH = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["A", "B", "C", "D", "AB", "Q", "->", ",", " ", "=", "1", "2", ":", "cycle", "none", "odd cycle:"]),
             max_size=20).map("".join),
)


@settings(max_examples=150, deadline=None)
@given(_ANSWERISH)
def test_verifiers_only_ever_raise_invalid_answer(text):
    for module, problem in _FUZZ_PROBLEMS:
        try:
            result = module.verify(problem, text)
        except InvalidAnswer:
            continue
        assert 0.0 <= result.score <= 1.0
        if result.canonical is not None:  # the canonical form reads back to the same verdict
            assert module.verify(problem, result.canonical).score == result.score


# -- extreme options still terminate with valid problems --------------------------------------------


def test_extreme_options_terminate():
    dense = bfs_distance.BfsDistanceConfig(min_nodes=4, max_nodes=4, edge_factor=4, unreachable_rate=1.0)
    problem = bfs_distance.generate(np.random.default_rng(0), dense)  # complete graph: every pair is reachable
    assert problem.distance == 1 and score(bfs_distance, problem, "1") == 1.0
    triangle = shortest_path.ShortestPathConfig(min_nodes=3, max_nodes=3, edge_factor=1)
    problem = shortest_path.generate(np.random.default_rng(0), triangle)
    assert score(shortest_path, problem, problem.answer) == 1.0


def test_colouring_falls_back_to_the_hidden_colouring(monkeypatch):
    monkeypatch.setattr(colouring, "_backtrack", lambda graph, k: None)
    for problem in problems(colouring, colouring.ColouringConfig, seeds=range(4)):
        assert score(colouring, problem, problem.answer) == 1.0
        assert colouring.explain(problem).endswith(problem.answer)
    monkeypatch.undo()
    assert colouring._backtrack(nx.complete_graph(["A", "B", "C", "D"]), 3) is None
    assert colouring._backtrack(nx.complete_graph(["A", "B", "C", "D"]), 4) is not None


def test_long_eulerian_walks_are_read():
    config = eulerian_path.EulerianPathConfig(nodes=6, min_edges=28, max_edges=30, directed=True)
    problem = eulerian_path.generate(np.random.default_rng(0), config)
    assert problem.graph.number_of_edges() >= 28 and problem.graph.number_of_nodes() <= 6
    assert score(eulerian_path, problem, problem.answer) == 1.0
