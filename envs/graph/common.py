"""Helpers shared by the graph tasks: node names, random graphs, edge-list text, path parsing."""

from __future__ import annotations

import functools
import re
import string

import networkx as nx
import numpy as np

from thinkgym.envs.answer_text import require_plain
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
    ``extra_edges`` more edges; integer weights in 1..max_weight when given.

    The tree is a random recursive tree over a random order of the nodes (node ``i`` of the
    order hangs from a uniform earlier one); the extra edges are a uniform random subset of the
    remaining pairs. All of it comes from one permutation and one array of uniform floats:
    a numpy call per edge costs more than the rest of the construction.
    """
    names = node_names(n)
    order = rng.permutation(n).tolist()
    possible = n * (n - 1) // 2 - (n - 1)
    extra = max(0, min(extra_edges, possible))
    free_keys = possible if extra else 0
    weighted = max_weight is not None
    u = rng.random(n - 1 + free_keys + (n - 1 + extra if weighted else 0)).tolist()
    # floor(u * i) is uniform on 0..i-1 (to within 2^-53): node order[i] hangs from order[that].
    edges = [(order[i], order[int(u[i - 1] * i)]) for i in range(1, n)]
    if extra:
        tree = {(a, b) if a < b else (b, a) for a, b in edges}
        free = [pair for pair in _pairs(n) if pair not in tree]
        keys = u[n - 1 : n - 1 + free_keys]
        edges += [free[k] for k in sorted(range(possible), key=keys.__getitem__)[:extra]]
    graph = nx.Graph()
    graph.add_nodes_from(names)
    if not weighted:
        graph.add_edges_from((names[a], names[b]) for a, b in edges)
    else:
        weights = u[n - 1 + free_keys :]
        graph.add_weighted_edges_from(
            (names[a], names[b], int(x * max_weight) + 1) for (a, b), x in zip(edges, weights)
        )
    return graph


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[tuple[int, int], ...]:
    """All index pairs (u, v) with u < v < n."""
    return tuple((u, v) for u in range(n) for v in range(u + 1, n))


def edge_list_text(graph: nx.Graph, weighted: bool, label: str = "weight") -> str:
    """One edge a line, ``A - B (weight 3)`` or ``A - B``; ``->`` for directed graphs.

    ``label`` names the edge attribute shown for weighted graphs (e.g. "capacity"). Lines are
    sorted by the length of the first node name, then as text."""
    directed = graph.is_directed()
    arrow = "->" if directed else "-"
    keyed = []
    # The adjacency dicts directly: edge views cost microseconds per edge. An undirected edge
    # is stored under both ends; it is written once, smaller name first.
    for u, neighbours in graph.adjacency():
        for v, data in neighbours.items():
            if directed or u <= v:
                keyed.append((len(u), f"{u} {arrow} {v} ({label} {data[label]})" if weighted else f"{u} {arrow} {v}"))
    keyed.sort()
    return "\n".join(line for _, line in keyed)


_SEPARATORS = re.compile(r"\s*(?:-+>|=>|\u2192|-|,|;|\s)\s*")


def parse_path(text: str, graph: nx.Graph, max_length: int | None = None) -> list[str]:
    """Read a node path written as ``A -> B -> C``, ``A, B, C`` or ``A B C``.

    Raises :class:`InvalidAnswer` when a token is not a node of ``graph`` or there are more than
    ``max_length`` tokens (default: four times the node count, plus 4).
    """
    require_plain(text, allowed="\u2192")
    tokens = [t for t in _SEPARATORS.split(text.strip().strip(".[]()")) if t]
    if not tokens:
        raise InvalidAnswer("the path is empty")
    if len(tokens) > (max_length if max_length is not None else 4 * graph.number_of_nodes() + 4):
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


def node_key(node: str) -> tuple[int, str]:
    """Sort key for node names: A..Z before AA, AB, ..."""
    return (len(node), node)


def sorted_nodes(nodes) -> list[str]:
    return sorted(nodes, key=node_key)


def nodes_text(graph: nx.Graph) -> str:
    """``A, B, C, ...``: the prompts list the nodes, so isolated ones are not missed."""
    return ", ".join(sorted_nodes(graph.nodes))


def random_dag(rng: np.random.Generator, n: int, edges: int) -> nx.DiGraph:
    """A directed acyclic graph on ``node_names(n)`` with up to ``edges`` edges, each from an
    earlier to a later node of a hidden random order (so the names give no hint of the order)."""
    names = node_names(n)
    order = [names[i] for i in rng.permutation(n)]
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for _ in range(min(edges, n * (n - 1) // 2)):
        while True:
            i, j = sorted(int(k) for k in rng.choice(n, size=2, replace=False))
            if not graph.has_edge(order[i], order[j]):
                graph.add_edge(order[i], order[j])
                break
    return graph


def random_graph(rng: np.random.Generator, n: int, edges: int, directed: bool = False) -> nx.Graph:
    """A uniformly random simple graph (or digraph, without antiparallel pairs) on
    ``node_names(n)`` with ``edges`` edges (fewer if the graph fills up)."""
    names = node_names(n)
    graph = nx.DiGraph() if directed else nx.Graph()
    graph.add_nodes_from(names)
    for _ in range(min(edges, n * (n - 1) // 2)):
        while True:
            u, v = (names[int(k)] for k in rng.choice(n, size=2, replace=False))
            if not graph.has_edge(u, v) and not graph.has_edge(v, u):
                graph.add_edge(u, v)
                break
    return graph


_INT_RE = re.compile(
    r"(?:(?P<label>[a-z]+(?: [a-z]+)*)?\s*(?P<sep>[:=])?\s*)(?P<value>-?\d{1,9})(?:\s+(?P<unit>[a-z]+(?: [a-z]+)*))?\s*\.?",
    re.ASCII | re.IGNORECASE,
)
_LABEL_WORDS = frozenset(
    "a an the answer final result value number count total distance shortest path length minimum min maximum max "
    "spanning tree mst weight flow of connected component components edge edges graph there it so is are equals has have".split()
)
_LABEL_ENDS = frozenset({"is", "are", "equals", "has", "have"})
_UNIT_WORDS = frozenset("edge edges step steps hop hops component components connected unit units away long in total".split())
_NEGATIONS = frozenset("not no never isn't isnt wrong incorrect false nor neither".split())
_HEDGES = frozenset("or about around approximately roughly nearly almost least most maybe perhaps probably likely possibly "
                    "more less fewer than between guess think".split())


def _unread(text: str, detail: str) -> InvalidAnswer:
    """The error for an integer answer that is not read, saying why when a word tells."""
    words = set(re.findall(r"[a-z']+", text.lower()))
    if words & _NEGATIONS:
        return InvalidAnswer(f"the answer is negated ({sorted(words & _NEGATIONS)[0]!r}); give the number alone")
    if words & _HEDGES or "?" in text or "~" in text:
        return InvalidAnswer("the answer is hedged or gives several values; give one number alone")
    return InvalidAnswer(detail)


def parse_int(text: str) -> int:
    """Read an integer answer: ``7``, ``7 components``, ``total weight: 7``, ``= 7``,
    ``The answer is 7.``, ``There are 3 connected components``.

    The words around the number must come from a small vocabulary of labels (``distance``,
    ``the answer is``; a label ends in ``:``, ``=`` or a verb such as ``is``) and units
    (``edges``, ``components``), so that what is read is understood: a negated, hedged or
    multi-valued answer (``3 is not it``, ``wrong: 3``, ``at least 3``, ``3 or 4``, ``3?``,
    ``a minimum of 3``) raises :class:`InvalidAnswer` instead of being read as 3.
    """
    stripped = text.strip()
    require_plain(stripped)
    match = _INT_RE.fullmatch(stripped)
    if not match:
        raise _unread(stripped, f"expected an integer, got {text[:40]!r}")
    label, unit = (match.group("label") or "").lower().split(), (match.group("unit") or "").lower().split()
    odd = [w for w in label if w not in _LABEL_WORDS] + [w for w in unit if w not in _UNIT_WORDS]
    if odd:
        raise _unread(stripped, f"cannot read {odd[0][:20]!r} around the number; answer with the number alone")
    if label and not match.group("sep") and label[-1] not in _LABEL_ENDS:
        raise _unread(stripped, f"cannot read {' '.join(label)[:30]!r} before the number; answer with the number alone")
    return int(match.group("value"))


_COLOUR_RE = re.compile(r"([A-Za-z]{1,2})\s*[=:]\s*(\d{1,3})", re.ASCII)
_COLOUR_GAPS = re.compile(r"^[\s,;]*$")


def parse_colouring(text: str, graph: nx.Graph) -> dict[str, int]:
    """Read ``A=1, B=2, C=1`` (``:`` for ``=`` and any of ``,;`` or spaces between entries).

    Raises :class:`InvalidAnswer` on stray text, unknown or repeated nodes, or missing nodes.
    """
    require_plain(text)
    lookup = {str(node).upper(): node for node in graph.nodes}
    colouring: dict[str, int] = {}
    position = 0
    for match in _COLOUR_RE.finditer(text):
        if not _COLOUR_GAPS.match(text[position : match.start()]):
            raise InvalidAnswer(f"cannot read {text[position:match.start()][:20]!r}; write A=1, B=2, ...")
        position = match.end()
        node = lookup.get(match.group(1).upper())
        if node is None:
            raise InvalidAnswer(f"node {match.group(1)!r} is not in the graph")
        if node in colouring:
            raise InvalidAnswer(f"node {node} is coloured twice")
        colouring[node] = int(match.group(2))
    if not _COLOUR_GAPS.match(text[position:]):
        raise InvalidAnswer(f"cannot read {text[position:][:20]!r}; write A=1, B=2, ...")
    missing = sorted_nodes(set(graph.nodes) - set(colouring))
    if missing:
        raise InvalidAnswer(f"no colour for node(s) {', '.join(missing[:5])}")
    return colouring


def colouring_text(colouring: dict[str, int]) -> str:
    return ", ".join(f"{node}={colouring[node]}" for node in sorted_nodes(colouring))


def parse_cycle(text: str, graph: nx.Graph) -> list[str]:
    """Read a cycle written as a path (``A -> B -> C`` or ``A -> B -> C -> A``); return its
    nodes without the repeated first node. Raises :class:`InvalidAnswer` on unknown nodes."""
    nodes = parse_path(text, graph)
    if len(nodes) > 1 and nodes[0] == nodes[-1]:
        nodes = nodes[:-1]
    return nodes


def cycle_problem(cycle: list[str], graph: nx.Graph) -> str:
    """Why ``cycle`` (nodes without the repeated first one) is not a simple cycle of ``graph``,
    or "" when it is one."""
    shortest = 2 if graph.is_directed() else 3
    if len(cycle) < shortest:
        return f"a cycle needs at least {shortest} distinct nodes"
    if len(set(cycle)) != len(cycle):
        return "a node repeats: a simple cycle visits each node once"
    gap = missing_edge(cycle + [cycle[0]], graph)
    if gap:
        arrow = "->" if graph.is_directed() else "-"
        return f"there is no edge {gap[0]} {arrow} {gap[1]}"
    return ""


def add_back_edge(rng: np.random.Generator, graph: nx.DiGraph, min_cycle: int = 3) -> None:
    """Close a directed cycle in ``graph``: add ``v -> u`` for a random pair where ``u``
    reaches ``v``, making the cycle at least ``min_cycle`` long when the graph allows it."""
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    pairs = sorted((d, node_key(u), node_key(v), u, v) for u in lengths for v, d in lengths[u].items() if d >= 1)
    if not pairs:  # no edges at all: make a 3-cycle out of the first three nodes
        a, b, c = sorted_nodes(graph.nodes)[:3]
        graph.add_edges_from([(a, b), (b, c), (c, a)])
        return
    floor = min(min_cycle - 1, pairs[-1][0])
    candidates = [(u, v) for d, _, _, u, v in pairs if d >= floor]
    u, v = candidates[int(rng.integers(len(candidates)))]
    graph.add_edge(v, u)
