"""Hostile answers to the graph verifiers score 0; honest alternative forms still score 1.

Every hostile answer here is judged wrong by this file's own computation (networkx on the
problem's graph, or by construction: it names a wrong value, several values or a negation), never
through the verifier under test. Each env is attacked at levels 1 and 3 over several seeds.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.graph import (
    bfs_distance,
    bipartite,
    colouring,
    components,
    eulerian_path,
    find_cycle,
    max_flow,
    mst_weight,
    shortest_path,
    topological_sort,
)

from hacks_common import LEVELS, SEEDS, assert_scores_one, assert_scores_zero, fullwidth, problems, verdict  # noqa: F401


def integer_attacks(value: int, wrong: int) -> list[str]:
    """Forms around the true value that do not state it as the one answer: each denies it, also
    names ``wrong``, hedges, or is written with characters outside ASCII (refused, not read)."""
    v, w = value, wrong
    return [
        f"{v} is not the answer", f"wrong: {v}", f"not {v}", f"{v} is wrong, {w} is right",
        f"{v} or more", f"at least {v}", f"at most {v}", f"about {v}", f"~{v}", f"maybe {v}", f"{v}?",
        f"{v} or {w}", f"{w} or {v}", f"{v}, {w}", f"{v} {w}", f"{v}\n{w}", f"{v}-{w}", f"between {w} and {v}",
        f"a minimum of {v}", f"not: {v}", f"no: {v}", f"{v} is not it", f"{v} edges or more",
        fullwidth(str(v)), f"{v}\u200b", "".join(chr(0x0660 + int(d)) for d in str(v)),
    ]


# -- integer answers: BfsDistance, ConnectedComponents, MSTWeight, MaxFlow ---------------------


def _true_distance(problem) -> int | None:
    try:
        return nx.shortest_path_length(problem.graph, problem.source, problem.target)
    except nx.NetworkXNoPath:
        return None


INTEGER_TASKS = {
    "BfsDistance": (bfs_distance, bfs_distance.BfsDistanceConfig, _true_distance, "edges"),
    "ConnectedComponents": (components, components.ComponentsConfig, lambda p: nx.number_connected_components(p.graph), "connected components"),
    "MSTWeight": (mst_weight, mst_weight.MSTWeightConfig, lambda p: int(nx.minimum_spanning_tree(p.graph).size(weight="weight")), "units"),
    "MaxFlow": (max_flow, max_flow.MaxFlowConfig, lambda p: int(nx.maximum_flow_value(p.graph, p.source, p.sink)), "units"),
}


@pytest.mark.parametrize("task", INTEGER_TASKS)
def test_integer_answers_refuse_negation_hedges_and_several_values(task):
    module, config_cls, truth, unit = INTEGER_TASKS[task]
    for problem in problems(module, config_cls):
        value = truth(problem)
        if value is None:  # BfsDistance without a path: every number is wrong, so are these words
            assert_scores_zero(module, problem, [
                "3", "not unreachable", "unreachable or 3", "3 or unreachable", "unreachable?", "maybe unreachable",
                "unreachable, 3", "reachable", "UNREACHABLE\u200b", fullwidth("none"), "none or 2",
            ])
            assert_scores_one(module, problem, ["unreachable", "Unreachable.", "no path", "None"])
            continue
        assert_scores_zero(module, problem, integer_attacks(value, value + 1) + [str(value + 1), str(value - 1)])
        if module is bfs_distance:
            assert_scores_zero(module, problem, ["unreachable", "not unreachable", f"unreachable or {value}", f"{value} or unreachable"])
        assert_scores_one(module, problem, [
            str(value), f" {value} ", f"{value}.", f"{value} {unit}", f"The answer is {value}.", f"answer: {value}",
            f"= {value}", f"the answer is: {value}",
        ])


def test_integer_answers_in_the_envs_own_words_still_read():
    problem = next(p for p in problems(components, components.ComponentsConfig))
    count = nx.number_connected_components(problem.graph)
    assert_scores_one(components, problem, [f"There are {count} connected components.", f"It has {count} components"])
    problem = next(p for p in problems(mst_weight, mst_weight.MSTWeightConfig))
    weight = int(nx.minimum_spanning_tree(problem.graph).size(weight="weight"))
    assert_scores_one(mst_weight, problem, [f"total weight: {weight}", f"minimum total weight: {weight}", f"The minimum is {weight}"])
    problem = next(p for p in problems(max_flow, max_flow.MaxFlowConfig))
    assert_scores_one(max_flow, problem, [f"max flow: {int(nx.maximum_flow_value(problem.graph, problem.source, problem.sink))}"])


# -- paths and walks ---------------------------------------------------------------------------


def test_shortest_path_refuses_paths_listed_together_repeats_and_tricks():
    for problem in problems(shortest_path, shortest_path.ShortestPathConfig):
        graph = problem.graph
        best = nx.shortest_path_length(graph, problem.source, problem.target, weight="weight")
        optimal = nx.shortest_path(graph, problem.source, problem.target, weight="weight")
        # A walk that steps back and forth over the first edge: valid edges, a repeated node, and
        # heavier than the optimum because every weight is positive.
        detour = None if graph.is_directed() else optimal[:2] + optimal[:2] + optimal[2:]
        hostile = [
            f"{' -> '.join(optimal)} or {' -> '.join(optimal[::-1])}",
            f"{' -> '.join(optimal)}; {' -> '.join(optimal)}",
            f"not {' -> '.join(optimal)}",
            f"{problem.source} -> ... -> {problem.target}",  # the prompt's example
            fullwidth(" -> ".join(optimal)),
            " -> ".join(optimal) + "\u200b",
            " -> ".join(optimal) + "?",
        ]
        if detour is not None:
            assert nx.path_weight(graph, detour, "weight") > best
            hostile.append(" -> ".join(detour))
        if not graph.has_edge(problem.source, problem.target) or graph[problem.source][problem.target]["weight"] > best:
            hostile.append(f"{problem.source} -> {problem.target}")
        assert_scores_zero(shortest_path, problem, hostile)
        assert nx.path_weight(graph, optimal, "weight") == best
        assert_scores_one(shortest_path, problem, [
            " -> ".join(optimal), ", ".join(optimal), " ".join(optimal), " \u2192 ".join(optimal),
            "->".join(optimal).lower(), f"[{', '.join(optimal)}].",
        ])


def _is_euler_walk(graph, walk) -> bool:
    steps = list(zip(walk, walk[1:]))
    key = (lambda e: tuple(e)) if graph.is_directed() else (lambda e: tuple(sorted(e)))
    return all(graph.has_edge(u, v) for u, v in steps) and sorted(map(key, steps)) == sorted(map(key, graph.edges))


def test_eulerian_path_refuses_repeated_edges_and_listed_walks():
    for problem in problems(eulerian_path, eulerian_path.EulerianPathConfig):
        graph = problem.graph
        walk = [u for u, _ in nx.eulerian_path(graph)] + [list(nx.eulerian_path(graph))[-1][1]]
        assert _is_euler_walk(graph, walk)
        u, v = walk[0], walk[1]
        repeated = walk[:2] + [u, v] + walk[2:] if not graph.is_directed() else walk + [walk[-1]]
        hostile = [" -> ".join(repeated), " -> ".join(walk[:-1]), "A -> B -> C -> A -> D",
                   f"{' -> '.join(walk)} or {' -> '.join(walk[::-1])}", " -> ".join(walk) + " -> ?"]
        for text in hostile[:3]:
            nodes = [t.strip() for t in text.split("->")]
            assert not (all(n in graph for n in nodes) and _is_euler_walk(graph, nodes)), text
        assert_scores_zero(eulerian_path, problem, hostile)
        assert_scores_one(eulerian_path, problem, [" -> ".join(walk), ", ".join(walk), " ".join(walk).lower()])


def test_topological_sort_refuses_repeats_hedges_and_wrong_words():
    for problem in problems(topological_sort, topological_sort.TopologicalSortConfig):
        graph = problem.graph
        if nx.is_directed_acyclic_graph(graph):
            order = list(nx.topological_sort(graph))
            assert_scores_zero(topological_sort, problem, [
                "cycle", "not cycle", f"{', '.join(order)} or cycle", f"cycle or {', '.join(order)}",
                ", ".join(order + order[:1]), ", ".join(order[:-1]), ", ".join(order[::-1]) if graph.number_of_edges() else "cycle",
                ", ".join(order) + "?", fullwidth(", ".join(order)),
            ])
            assert_scores_one(topological_sort, problem, [", ".join(order), " -> ".join(order), " ".join(order).lower()])
        else:
            # No order exists: every listing of the nodes is wrong, so are hedged cycle words.
            assert_scores_zero(topological_sort, problem, [
                ", ".join(sorted(graph)), "no cycle", "not cycle", "cycle?", "maybe cycle", "cycle or none",
                fullwidth("cycle"), "cy\u200bcle",
            ])
            assert_scores_one(topological_sort, problem, ["cycle", "Cycle.", "CYCLE", "cyclic"])


def _is_simple_cycle(graph, nodes) -> bool:
    shortest = 2 if graph.is_directed() else 3
    return (len(nodes) >= shortest and len(set(nodes)) == len(nodes)
            and all(graph.has_edge(a, b) for a, b in zip(nodes, nodes[1:] + nodes[:1])))


def test_find_cycle_refuses_repeats_hedges_and_the_example():
    for problem in problems(find_cycle, find_cycle.FindCycleConfig):
        graph = problem.graph
        example = ["A", "B", "C"]
        hostile = ["not none", "none?", fullwidth("none"), "no\u200bne"]
        if not _is_simple_cycle(graph, example):
            hostile.append("A -> B -> C -> A")
        cycles = list(itertools.islice(nx.simple_cycles(graph), 1)) if graph.is_directed() else nx.cycle_basis(graph)
        if not cycles:
            hostile += ["A -> B -> A", " -> ".join(sorted(graph)[:3])]
            assert_scores_zero(find_cycle, problem, hostile + ["none or A -> B -> C"])
            assert_scores_one(find_cycle, problem, ["none", "None.", "no cycle", "acyclic"])
            continue
        cycle = cycles[0]
        assert _is_simple_cycle(graph, cycle)
        twice = cycle + cycle  # the same cycle walked twice repeats every node
        hostile += ["none", " -> ".join(twice), f"{' -> '.join(cycle)} or none", f"none or {' -> '.join(cycle)}",
                    f"not {' -> '.join(cycle)}", " -> ".join(cycle) + "?"]
        assert_scores_zero(find_cycle, problem, hostile)
        rotated = cycle[1:] + cycle[:1]
        assert_scores_one(find_cycle, problem, [" -> ".join(cycle + cycle[:1]), ", ".join(rotated), " \u2192 ".join(rotated)])


def test_bipartite_refuses_both_kinds_of_answer_and_repeated_nodes():
    for problem in problems(bipartite, bipartite.BipartiteConfig):
        graph = problem.graph
        nodes = sorted(graph, key=lambda n: (len(n), n))
        if nx.is_bipartite(graph):
            sides = nx.bipartite.color(graph)
            split = ", ".join(f"{n}={sides[n] + 1}" for n in nodes)
            cycle = " -> ".join(nodes[:3])  # no odd cycle exists in a bipartite graph
            assert_scores_zero(bipartite, problem, [
                f"odd cycle: {cycle}", f"{split}, odd cycle: {cycle}", f"{split}; {nodes[0]}={2 - sides[nodes[0]]}",
                ", ".join(f"{n}=1" for n in nodes), ", ".join(f"{n}=3" for n in nodes), "A=1, B=2, C=1, ...",
                f"{split} or odd cycle: {cycle}", fullwidth(split),
            ])
            assert_scores_one(bipartite, problem, [split, ", ".join(f"{n}: {2 - sides[n]}" for n in nodes), split.lower()])
        else:
            odd = next(c for c in nx.cycle_basis(graph) if len(c) % 2 == 1)
            assert_scores_zero(bipartite, problem, [
                ", ".join(f"{n}={1 + i % 2}" for i, n in enumerate(nodes)),  # no split exists
                f"odd cycle: {' -> '.join(odd + odd)}", f"odd cycle: {' -> '.join(odd)} or {', '.join(f'{n}=1' for n in nodes)}",
                f"not odd cycle: {' -> '.join(odd)}", f"odd cycle: {' -> '.join(odd)}?",
            ])
            assert_scores_one(bipartite, problem, [f"odd cycle: {' -> '.join(odd + odd[:1])}", f"Odd cycle: {', '.join(odd)}"])


def test_colouring_refuses_conflicting_repeated_and_out_of_range_colours():
    for problem in problems(colouring, colouring.ColouringConfig):
        graph, k = problem.graph, problem.colours
        nodes = sorted(graph, key=lambda n: (len(n), n))
        good = nx.coloring.greedy_color(graph, strategy="largest_first")
        if max(good.values()) + 1 > k:  # greedy may need more colours than allowed: use the reference
            good = {n: int(c) - 1 for n, c in (part.split("=") for part in problem.answer.split(", "))}
        assert all(good[u] != good[v] for u, v in graph.edges) and max(good.values()) < k
        text = ", ".join(f"{n}={good[n] + 1}" for n in nodes)
        u, v = next(iter(graph.edges))
        assert_scores_zero(colouring, problem, [
            ", ".join(f"{n}=1" for n in nodes),  # every edge joins two nodes of colour 1
            f"{text}, {u}={good[v] + 1}",  # u coloured twice, the second time like its neighbour
            f"{u}=1, {u}=2, " + text,
            text.replace(f"{u}={good[u] + 1}", f"{u}={k + 1}"), text.replace(f"{u}={good[u] + 1}", f"{u}=0"),
            f"A=1, B=2, C={k}, ...", f"{text} or {', '.join(f'{n}=1' for n in nodes)}", fullwidth(text), text + "?",
        ])
        assert_scores_one(colouring, problem, [text, text.lower(), text.replace("=", ": ").replace(", ", "; ")])


# -- the interactive explorer ------------------------------------------------------------------


def test_explore_final_paths_with_repeats_hedges_or_tricks_score_zero():
    import gymnasium as gym

    for difficulty in LEVELS:
        for seed in SEEDS:
            env = gym.make("thinkgym/GraphExplore-v0", difficulty=difficulty, disable_env_checker=True)
            env.reset(seed=seed)
            problem = env.unwrapped.problem
            path = nx.shortest_path(problem.graph, problem.source, problem.target)
            repeated = path[:2] + path[:2] + path[2:]  # steps back over the first edge
            alternatives = [p for p in itertools.islice(nx.all_simple_paths(problem.graph, problem.source, problem.target), 2)]
            for answer in [" -> ".join(repeated), f"{' -> '.join(path)} or {' -> '.join(alternatives[-1])}",
                           fullwidth(" -> ".join(path)), "not " + " -> ".join(path), " -> ".join(path) + "?"]:
                env.reset(seed=seed)
                _, reward, terminated, _, info = env.step(f"<answer>path: {answer}</answer>")
                assert terminated and reward == 0.0 and info["reason"], answer
            env.reset(seed=seed)
            arrowed = " \u2192 ".join(path)
            _, reward, terminated, _, _ = env.step(f"<answer>path: {arrowed}</answer>")
            assert terminated and reward == 1.0
