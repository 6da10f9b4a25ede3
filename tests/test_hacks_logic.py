"""Hostile answers to the logic verifiers score 0; honest alternative forms still score 1.

The truth is computed here from the prompt text by this file's own readers and brute force
(set models for syllogisms, truth tables, all 2^n knight assignments, clue-by-clue search for
zebra puzzles, simulation for Hanoi), never through the verifier under test. Each env is
attacked at levels 1 and 3 over several seeds.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.logic import circuit, entailment, hanoi, knights_knaves, n_queens, sat, sudoku, syllogism, zebra

from hacks_common import LEVELS, SEEDS, assert_scores_one, assert_scores_zero, fullwidth, problems, verdict  # noqa: F401


def word_attacks(right: str, wrong: str) -> list[str]:
    """Answers that do not state ``right`` alone: the wrong word, every candidate, negations of
    the right word, contradictions, and disguises (fullwidth letters, a zero-width space)."""
    return [
        wrong, wrong.upper(), f"{right} or {wrong}", f"{wrong} or {right}", f"{right}/{wrong}", f"{right} and {wrong}",
        "both", "yes and no", f"not {right}", f"{wrong}? no, {right}", f"{right}? no, {wrong}", f"{right}, {wrong}",
        f"{right}\n{wrong}", f"{right}?", f"maybe {right}", fullwidth(right), right[:2] + "\u200b" + right[2:],
    ]


# -- syllogisms: labels checked against set models ---------------------------------------------

_FORM = re.compile(r"^(All|No|Some) (\w+) are (not )?(\w+)\.$")


def _read_syllogism(prompt: str):
    """(statements, conclusion, existential import) from the prompt; a statement is
    (quantifier, negated, subject, predicate)."""
    lines = prompt.splitlines()
    read = lambda line: (lambda q, s, neg, p: (q, neg, s, p))(*_FORM.match(line).groups())  # noqa: E731
    conclusion_line = next(x for x in lines if x.startswith("Conclusion"))
    premises = [read(line) for line in lines[1 : lines.index(conclusion_line)]]
    conclusion = read(conclusion_line.split(": ", 1)[1])
    return premises, conclusion, "Assume every category mentioned has at least one member" in prompt


def _true_in(statement, world, index) -> bool:
    """A statement in a world: a set of individuals, each the frozenset of terms it belongs to."""
    quantifier, negated, subject, predicate = statement
    s, p = index[subject], index[predicate]
    if quantifier == "All":
        return all(p in x for x in world if s in x)
    if quantifier == "No":
        return not any(p in x for x in world if s in x)
    if negated:
        return any(p not in x for x in world if s in x)
    return any(p in x for x in world if s in x)


def syllogism_is_valid(prompt: str) -> bool:
    """Valid iff no world makes every premise true and the conclusion false. Individuals of the
    same kind are interchangeable, so a world is a set of kinds (subsets of the terms); a
    counterexample needs at most one individual per existence claim, so worlds of that many kinds
    suffice, drawn from the kinds that break no universal premise."""
    premises, conclusion, existential = _read_syllogism(prompt)
    terms = sorted({t for s in premises + [conclusion] for t in s[2:]})
    index = {t: i for i, t in enumerate(terms)}
    kinds = [frozenset(i for i in range(len(terms)) if mask >> i & 1) for mask in range(2 ** len(terms))]
    universal = [s for s in premises if s[0] != "Some"]
    kinds = [kind for kind in kinds if all(_true_in(s, [kind], index) for s in universal)]
    claims = sum(s[0] == "Some" for s in premises) + (conclusion[0] != "Some") + (len(terms) if existential else 0)
    for size in range(0, claims + 1):
        for world in itertools.combinations(kinds, size):
            if existential and not all(any(i in x for x in world) for i in range(len(terms))):
                continue
            if all(_true_in(s, world, index) for s in premises) and not _true_in(conclusion, world, index):
                return False
    return True


@pytest.mark.parametrize("existential_import", [False, True])
def test_syllogism_labels_agree_with_set_models_including_fallacies(existential_import):
    seen = {True: 0, False: 0}
    for problem in problems(syllogism, syllogism.SyllogismConfig, levels=(1, 2, 3), seeds=range(12), existential_import=existential_import):
        valid = syllogism_is_valid(problem.prompt)
        assert problem.answer == ("valid" if valid else "invalid"), problem.prompt
        seen[valid] += 1
    assert min(seen.values()) >= 6, seen  # both labels, so fallacies (invalid forms) are covered


def test_syllogism_known_fallacies_are_labelled_invalid():
    # Undistributed middle and illicit major, as posed by the verifier's own problem type.
    terms = ("cats", "animals", "dogs")
    for premises, conclusion in [
        ((("A", 2, 1), ("A", 0, 1)), ("A", 0, 2)),  # All dogs are animals; all cats are animals; so all cats are dogs
        ((("A", 1, 2), ("E", 0, 1)), ("E", 0, 2)),  # All animals are dogs; no cats are animals; so no cats are dogs
    ]:
        text = "Premises:\n" + "\n".join(syllogism.statement_text(p, terms) for p in premises)
        text += f"\nConclusion: {syllogism.statement_text(conclusion, terms)}\n"
        assert not syllogism_is_valid(text)
        problem = syllogism.SyllogismProblem(text, "invalid", terms, premises, conclusion, False)
        assert verdict(syllogism, problem, "invalid").score == 1.0
        assert verdict(syllogism, problem, "valid").score == 0.0


def test_syllogism_refuses_every_candidate_negations_and_tricks():
    for problem in problems(syllogism, syllogism.SyllogismConfig):
        right = "valid" if syllogism_is_valid(problem.prompt) else "invalid"
        wrong = "invalid" if right == "valid" else "valid"
        assert_scores_zero(syllogism, problem, word_attacks(right, wrong) + ["valid invalid", "in valid" if right == "valid" else "not invalid"])
        honest = [right, right.upper(), right.capitalize() + ".", f" {right}! "] + (["not valid", "Not valid."] if right == "invalid" else [])
        assert_scores_one(syllogism, problem, honest)


# -- propositional entailment and satisfiability: truth tables from the prompt -----------------


def _formula(text: str):
    """A function of an assignment, read from the prompt's formula syntax."""
    tokens = re.findall(r"<->|->|\(|\)|NOT|AND|OR|[a-z]", text)
    pos = 0

    def unary():
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "NOT":
            inner = unary()
            return lambda env: not inner(env)
        if token == "(":
            inner = binary()
            assert tokens[pos] == ")"
            pos += 1
            return inner
        return lambda env: env[token]

    def binary():
        nonlocal pos
        left = unary()
        if pos < len(tokens) and tokens[pos] in ("AND", "OR", "->", "<->"):
            op = tokens[pos]
            pos += 1
            right = unary()
            return {
                "AND": lambda env: left(env) and right(env), "OR": lambda env: left(env) or right(env),
                "->": lambda env: (not left(env)) or right(env), "<->": lambda env: left(env) == right(env),
            }[op]
        return left

    result = binary()
    assert pos == len(tokens), text
    return result


def _entailment(prompt: str):
    lines = prompt.splitlines()
    premises = [_formula(line.split(". ", 1)[1]) for line in lines if re.match(r"^\d+\. ", line)]
    conclusion = _formula(next(x for x in lines if x.startswith("Conclusion: "))[len("Conclusion: "):])
    variables = sorted(set(re.findall(r"\b[pqrs]\b", prompt.split("Here ->")[0])))
    rows = [dict(zip(variables, values)) for values in itertools.product([True, False], repeat=len(variables))]
    counter = [r for r in rows if all(p(r) for p in premises) and not conclusion(r)]
    return variables, rows, premises, conclusion, counter


def _assignment(env: dict[str, bool], style: str = "{v}={b}") -> str:
    return ", ".join(style.format(v=v, b=str(b).lower(), t="T" if b else "F", n=int(b)) for v, b in env.items())


def test_entailment_refuses_candidates_non_counterexamples_and_contradictions():
    for problem in problems(entailment, entailment.EntailmentConfig):
        variables, rows, premises, conclusion, counter = _entailment(problem.prompt)
        example = "invalid: " + ", ".join(f"{v}=?" for v in variables)
        not_counter = [r for r in rows if r not in counter]
        first = {v: True for v in variables}
        contradictory = "invalid: " + _assignment(first) + f", {variables[0]}=false"
        hostile = [example, "invalid", "valid or invalid", "valid/invalid", "valid, invalid", "both", contradictory,
                   fullwidth("valid"), "val\u200bid", "VALID?"]
        hostile += ["invalid: " + _assignment(r) for r in not_counter[:4]]  # premises false or conclusion true
        if counter:
            hostile += ["valid", "Valid.", f"valid or invalid: {_assignment(counter[0])}", "not invalid"]
            honest = [f"invalid: {_assignment(c)}" for c in counter[:3]]
            honest += [f"Invalid: {_assignment(counter[0], '{v}: {t}')}", f"not valid: {_assignment(counter[0], '{v} = {n}')}",
                       f"invalid; {_assignment(counter[0], '{v} is {b}')}"]
        else:
            hostile += ["invalid: " + _assignment(r) for r in rows[:3]]  # no counterexample exists
            honest = ["valid", "Valid.", "VALID", " valid "]
        assert_scores_zero(entailment, problem, hostile)
        assert_scores_one(entailment, problem, honest)


def _clauses(prompt: str):
    lines = [line for line in prompt.splitlines() if line.startswith("(") and line.endswith(")")]
    clauses = [[(lit.split()[-1], not lit.startswith("NOT")) for lit in line[1:-1].split(" OR ")] for line in lines]
    variables = re.search(r"over the variables ([a-z, ]+);", prompt).group(1).split(", ")
    rows = [dict(zip(variables, values)) for values in itertools.product([True, False], repeat=len(variables))]
    models = [r for r in rows if all(any(r[v] == pos for v, pos in clause) for clause in clauses)]
    return variables, rows, models


def test_satisfiability_refuses_wrong_contradictory_and_example_answers():
    for problem in problems(sat, sat.SatConfig):
        variables, rows, models = _clauses(problem.prompt)
        wrong = [r for r in rows if r not in models]
        example = ", ".join(f"{v}=?" for v in variables)
        hostile = [example, "SAT", "satisfiable", "UNSAT or " + _assignment(rows[0]), fullwidth("UNSAT"), "UN\u200bSAT", "unsat?",
                   "not UNSAT", _assignment(rows[0]) + f", {variables[0]}={str(not rows[0][variables[0]]).lower()}"]
        hostile += [_assignment(r) for r in wrong[:4]]
        hostile += ["".join(f"{v}{'t' if b else 'f'} " for v, b in r.items()) for r in models[:1]]  # "pt qf": no boundary
        if models:
            hostile += ["UNSAT", "unsatisfiable", f"{_assignment(models[0])} or UNSAT"]
            honest = [_assignment(m) for m in models[:3]] + [
                _assignment(models[0], "{v}: {t}"), _assignment(models[0], "{v}={n}").upper(),
                _assignment(models[0], "{v} is {b}").replace(", ", " and "),
            ]
        else:
            honest = ["UNSAT", "unsat.", "Unsatisfiable"]
        assert_scores_zero(sat, problem, hostile)
        assert_scores_one(sat, problem, honest)


# -- knights and knaves: all 2^n assignments against the statements in the prompt -------------

_SAYS = re.compile(r'^([A-H]) says: "(.*)"$')
_KIND = {"knight": True, "knights": True, "knave": False, "knaves": False}


def _statement(text: str):
    patterns = [
        (r"^([A-H]) is a (knight|knave)\.$", lambda x, k: lambda w: w[x] == _KIND[k]),
        (r"^([A-H]) and ([A-H]) are both (knights|knaves)\.$", lambda x, y, k: lambda w: w[x] == w[y] == _KIND[k]),
        (r"^At least one of ([A-H]) and ([A-H]) is a (knight|knave)\.$", lambda x, y, k: lambda w: _KIND[k] in (w[x], w[y])),
        (r"^([A-H]) and ([A-H]) are of the same kind\.$", lambda x, y: lambda w: w[x] == w[y]),
        (r"^([A-H]) and ([A-H]) are of different kinds\.$", lambda x, y: lambda w: w[x] != w[y]),
        (r"^If ([A-H]) is a (knight|knave), then ([A-H]) is a (knight|knave)\.$",
         lambda x, a, y, b: lambda w: w[x] != _KIND[a] or w[y] == _KIND[b]),
        (r"^Exactly (\d) of us (?:is a knight|are knights)\.$", lambda k: lambda w: sum(w.values()) == int(k)),
    ]
    for pattern, build in patterns:
        match = re.match(pattern, text)
        if match:
            return build(*match.groups())
    raise AssertionError(f"unknown statement {text!r}")


def knights_solutions(prompt: str) -> tuple[list[str], list[dict[str, bool]]]:
    said = [(m.group(1), _statement(m.group(2))) for m in map(_SAYS.match, prompt.splitlines()) if m]
    people = sorted({speaker for speaker, _ in said} | set(re.search(r"inhabitants: ([A-H, and]+)\.", prompt).group(1).replace(" and ", ", ").split(", ")))
    worlds = [dict(zip(people, values)) for values in itertools.product([True, False], repeat=len(people))]
    return people, [w for w in worlds if all(f(w) == w[s] for s, f in said)]


def _kinds(world: dict[str, bool], style: str = "{p}: {k}") -> str:
    return ", ".join(style.format(p=p, k="knight" if b else "knave") for p, b in world.items())


def test_knights_and_knaves_refuse_contradictions_hedges_and_wrong_worlds():
    for problem in problems(knights_knaves, knights_knaves.KnightsKnavesConfig):
        people, solutions = knights_solutions(problem.prompt)
        assert len(solutions) == 1, problem.prompt  # the puzzle has exactly one answer
        truth = solutions[0]
        a = people[0]
        flipped = {**truth, a: not truth[a]}
        example = ", ".join(f"{p}: ?" for p in people)
        assert_scores_zero(knights_knaves, problem, [
            _kinds(flipped), example, f"{a} is a knight, {a} is a knave, " + _kinds(truth), _kinds(truth) + f", {a}: {'knave' if truth[a] else 'knight'}",
            _kinds(truth).replace(f"{a}: ", f"{a}: knight or ", 1), _kinds(truth).replace(f"{a}: ", f"{a}: not ", 1),
            _kinds({p: True for p in people}) if truth != {p: True for p in people} else _kinds(flipped),
            _kinds(truth) + "?", fullwidth(_kinds(truth)), _kinds(truth).replace("kn", "k\u200bn", 1),
            ", ".join(f"{p}: knight or knave" for p in people),
        ])
        assert_scores_one(knights_knaves, problem, [
            _kinds(truth), _kinds(truth, "{p} is a {k}").replace(", ", " and "), _kinds(truth, "{p} = {k}").upper(),
            "; ".join(reversed(_kinds(truth).split(", "))),
        ])


# -- circuits: evaluated from the prompt's gate lines --------------------------------------------


def circuit_values(prompt: str) -> tuple[list[str], dict[str, int]]:
    ops = {"AND": lambda a, b: a & b, "OR": lambda a, b: a | b, "XOR": lambda a, b: a ^ b,
           "NAND": lambda a, b: 1 - (a & b), "NOR": lambda a, b: 1 - (a | b), "NOT": lambda a: 1 - a}
    values: dict[str, int] = {}
    for line in prompt.splitlines():
        if m := re.match(r"^(x\d+) = ([01])$", line):
            values[m.group(1)] = int(m.group(2))
        elif m := re.match(r"^(g\d+) = ([A-Z]+)\(([^)]*)\)$", line):
            values[m.group(1)] = ops[m.group(2)](*(values[a] for a in m.group(3).split(", ")))
    asked = re.search(r"What (?:is the value|are the values) of ([g\d, ]+)\?", prompt).group(1).split(", ")
    return asked, values


def test_circuit_refuses_wrong_contradictory_and_example_answers():
    for problem in problems(circuit, circuit.CircuitConfig):
        asked, values = circuit_values(problem.prompt)
        right = ", ".join(f"{g}={values[g]}" for g in asked)
        g = asked[0]
        flipped = right.replace(f"{g}={values[g]}", f"{g}={1 - values[g]}", 1)
        assert_scores_zero(circuit, problem, [
            flipped, ", ".join(f"{x}=?" for x in asked), f"{right}, {g}={1 - values[g]}", right.replace(f"{g}={values[g]}", f"{g}=0 or 1", 1),
            right.replace(f"{g}={values[g]}", f"{g}=not {values[g]}", 1), right + "?", fullwidth(right), f"{right} or {flipped}",
            right.replace(f"{g}={values[g]}", f"{g}{values[g]}", 1) if len(asked) > 1 else f"{g}{values[g]}",
        ])
        assert_scores_one(circuit, problem, [
            right, right.upper(), right.replace("=", ": "), ", ".join(f"{x}={'true' if values[x] else 'false'}" for x in asked),
            " and ".join(reversed(right.split(", "))),
        ])


# -- grids: sudoku and queens --------------------------------------------------------------------


def _sudoku_ok(cells: list[int], puzzle: list[int], n: int) -> bool:
    bh, bw = {4: (2, 2), 6: (2, 3), 9: (3, 3)}[n]
    rows = [cells[r * n:(r + 1) * n] for r in range(n)]
    units = rows + [list(c) for c in zip(*rows)]
    units += [[rows[r][c] for r in range(br, br + bh) for c in range(bc, bc + bw)] for br in range(0, n, bh) for bc in range(0, n, bw)]
    return all(sorted(u) == list(range(1, n + 1)) for u in units) and all(not g or g == c for g, c in zip(puzzle, cells))


def test_sudoku_refuses_echoes_examples_broken_and_several_grids():
    for problem in problems(sudoku, sudoku.SudokuConfig, seeds=range(4)):
        n = problem.size
        grid_lines = [line for line in problem.prompt.splitlines() if re.fullmatch(r"[\d. ]+", line) and len(line.split()) == n]
        puzzle = [0 if t == "." else int(t) for line in grid_lines[:n] for t in line.split()]
        solution = [int(t) for t in problem.answer.split()]
        assert _sudoku_ok(solution, puzzle, n)
        text = lambda cells: "\n".join(" ".join(map(str, cells[r * n:(r + 1) * n])) for r in range(n))  # noqa: E731
        swapped = list(solution)
        swapped[0], swapped[1] = swapped[1], swapped[0]  # two cells of a row swapped: columns repeat
        assert not _sudoku_ok(swapped, puzzle, n)
        example = "\n".join(line.replace(".", "?") for line in grid_lines[:n])
        assert_scores_zero(sudoku, problem, [
            "\n".join(grid_lines[:n]), example, text(swapped), text(solution) + "\n\n" + text(swapped),
            text(solution) + "\nor\n" + text(swapped), fullwidth(text(solution)), text(solution).replace(" ", "\u200b", 1),
            text([1] * (n * n)),
        ])
        assert_scores_one(sudoku, problem, [text(solution), text(solution).replace(" ", ""), "".join(map(str, solution)),
                                            text(solution).replace(" ", ", ")])


def _queens_ok(cols: list[int], given) -> bool:
    n = len(cols)
    return (sorted(cols) == list(range(1, n + 1)) and all(cols[r - 1] == c for r, c in given)
            and all(abs(cols[i] - cols[j]) != j - i for i in range(n) for j in range(i + 1, n)))


def test_n_queens_refuses_examples_attacks_and_several_placements():
    for problem in problems(n_queens, n_queens.NQueensConfig):
        n = problem.n
        given = [tuple(map(int, g)) for g in re.findall(r"\((\d+), (\d+)\)", problem.prompt)]
        solution = [int(c) for c in problem.answer.split()]
        assert _queens_ok(solution, given)
        example = list(range(1, n + 1))
        moved = solution[1:] + solution[:1]
        hostile = [" ".join(map(str, example)), f"{' '.join(map(str, solution))} or {' '.join(map(str, moved))}",
                   " ".join(map(str, solution + solution)), fullwidth(" ".join(map(str, solution))), " ".join(map(str, solution)) + "?"]
        if not _queens_ok(moved, given):
            hostile.append(" ".join(map(str, moved)))
        assert not _queens_ok(example, given)
        assert_scores_zero(n_queens, problem, hostile)
        assert_scores_one(n_queens, problem, [" ".join(map(str, solution)), ", ".join(map(str, solution)), str(solution)])


# -- Hanoi: simulated here -----------------------------------------------------------------------


def _hanoi_solves(moves: list[tuple[str, str]], disks: int, source: str, target: str) -> bool:
    pegs = {p: [] for p in "ABC"}
    pegs[source] = list(range(disks, 0, -1))
    for a, b in moves:
        if a == b or not pegs[a] or (pegs[b] and pegs[b][-1] < pegs[a][-1]):
            return False
        pegs[b].append(pegs[a].pop())
    return len(pegs[target]) == disks


def test_hanoi_never_poses_its_answer_as_the_example_and_refuses_hostile_moves():
    for difficulty in (1, 2, 3):
        config = hanoi.HanoiConfig(difficulty=difficulty)
        for seed in range(24):
            problem = hanoi.generate(np.random.default_rng([seed, difficulty]), config)
            example = re.search(r"e\.g\. <answer>(.*?)</answer>", problem.prompt).group(1)
            moves = [tuple(m.split("->")) for m in example.split(", ")]
            assert not _hanoi_solves(moves, problem.disks, problem.source, problem.target), problem.prompt
            assert verdict(hanoi, problem, example).score == 0.0
    for problem in problems(hanoi, hanoi.HanoiConfig):
        right = [tuple(m.split("->")) for m in problem.answer.split(", ")]
        assert _hanoi_solves(right, problem.disks, problem.source, problem.target)
        a, b = right[0]
        illegal = right[:1] + [(a, b)] + right[1:]  # the second move takes from a peg whose disk just left (or a bigger one)
        assert not _hanoi_solves(illegal, problem.disks, problem.source, problem.target)
        text = lambda ms: ", ".join(f"{x}->{y}" for x, y in ms)  # noqa: E731
        assert_scores_zero(hanoi, problem, [text(illegal), text(right[:-1]), f"{text(right)} or {text(right[::-1])}",
                                            text(right) + "?", fullwidth(text(right)), f"not {text(right)}"])
        assert_scores_one(hanoi, problem, [text(right), text(right).lower(), text(right).replace("->", " to "),
                                           text(right).replace("->", " \u2192 "), text(right).replace(", ", "\n")])


# -- zebra: clue-by-clue search over the prompt's clues ------------------------------------------


def zebra_solutions(prompt: str, limit: int = 2) -> tuple[list[list[str]], list[dict[str, int]]]:
    """(values per category, solutions as value -> house) from the prompt's categories and clues."""
    n = int(re.search(r"There are (\d+) houses", prompt).group(1))
    cats = [line[2:].split(": ", 1)[1].split(", ") for line in prompt.splitlines() if line.startswith("- ")]
    words = {v: c for c, vals in enumerate(cats) for v in vals}

    def value_in(phrase: str) -> str:
        found = [w for w in re.findall(r"\w+", phrase) if w in words]
        assert len(found) == 1, phrase
        return found[0]

    rules = []
    for line in prompt.splitlines():
        m = re.match(r"^\d+\. (.*)\.$", line)
        if not m:
            continue
        clue = m.group(1)
        relations = [
            (r"^(.*) does not live in house (\d)$", lambda x, h: lambda H: H[x] != h),
            (r"^(.*) lives in house (\d)$", lambda x, h: lambda H: H[x] == h),
            (r"^(.*) lives directly left of (.*)$", lambda x, y: lambda H: H[x] + 1 == H[y]),
            (r"^(.*) lives next to (.*)$", lambda x, y: lambda H: abs(H[x] - H[y]) == 1),
            (r"^(.*) lives somewhere to the left of (.*)$", lambda x, y: lambda H: H[x] < H[y]),
            (r"^(.*) is not (.*)$", lambda x, y: lambda H: H[x] != H[y]),
            (r"^(.*) is (.*)$", lambda x, y: lambda H: H[x] == H[y]),
        ]
        for pattern, build in relations:
            if mm := re.match(pattern, clue):
                x = value_in(mm.group(1))
                other = mm.group(2)
                if other.isdigit():
                    rules.append(({words[x]}, build(x, int(other))))
                else:
                    y = value_in(other)
                    rules.append(({words[x], words[y]}, build(x, y)))
                break
        else:
            raise AssertionError(f"unread clue {clue!r}")
    found: list[dict[str, int]] = []

    def place(c: int, houses: dict[str, int]) -> None:
        if len(found) >= limit:
            return
        if c == len(cats):
            found.append(dict(houses))
            return
        due = [rule for cs, rule in rules if max(cs) == c]
        for perm in itertools.permutations(range(1, n + 1)):
            trial = {**houses, **dict(zip(cats[c], perm))}
            if all(rule(trial) for rule in due):
                place(c + 1, trial)

    place(0, {})
    return cats, found


def test_zebra_refuses_conflicts_repeats_and_clue_breaking_grids():
    for problem in problems(zebra, zebra.ZebraConfig, seeds=range(3)):
        cats, found = zebra_solutions(problem.prompt)
        assert len(found) == 1, problem.prompt  # unique, so the clues decide every grid
        houses = found[0]
        n = len(cats[0])
        rows = [[v for vals in cats for v in vals if houses[v] == h] for h in range(1, n + 1)]
        text = lambda rs: "; ".join(f"House {h}: {', '.join(r)}" for h, r in enumerate(rs, 1))  # noqa: E731
        swapped = [list(r) for r in rows]
        swapped[0][0], swapped[1][0] = rows[1][0], rows[0][0]  # two houses trade their first value
        grid_swapped = {v: h for h, r in enumerate(swapped, 1) for v in r}
        assert grid_swapped != houses  # a different grid, so it breaks a clue (the solution is unique)
        doubled = [list(r) for r in rows]
        doubled[1][0] = rows[0][0]  # one value in two houses
        other = next(v for v in cats[0] if v != rows[0][0])
        assert_scores_zero(zebra, problem, [
            text(swapped), text(doubled), text(rows) + f"; House 1: {', '.join(rows[0])}",
            text(rows).replace(rows[0][0], f"{rows[0][0]} or {other}", 1), text(rows).replace(rows[0][0], f"{rows[0][0]}, {other}", 1),
            text(rows) + "?", fullwidth(text(rows)), text(rows[:-1]),
            "; ".join(f"House {h}: " + ", ".join(vals[h - 1] for vals in cats) for h in (1, 2)) + "; ...",
        ])
        assert_scores_one(zebra, problem, [text(rows), text(rows).lower(), "\n".join(", ".join(r) for r in rows),
                                           "; ".join(f"House {h}: {', '.join(reversed(r))}" for h, r in reversed(list(enumerate(rows, 1))))])


def test_zebra_cell_question_refuses_hedges_and_other_houses():
    for problem in problems(zebra, zebra.ZebraConfig, seeds=range(2), question="cell"):
        _, found = zebra_solutions(problem.prompt)
        phrase = re.search(r"In which house does (.*) live\?", problem.prompt).group(1)
        value = next(v for v in found[0] if re.search(rf"\b{v}\b", phrase))
        house = found[0][value]
        other = 1 + house % len(found[0]) if house != 1 else 2
        assert_scores_zero(zebra, problem, [str(other), f"{house} or {other}", f"not {house}", f"{house}?", f"house {house}, {other}",
                                            fullwidth(str(house)), f"about {house}"])
        assert_scores_one(zebra, problem, [str(house), f"House {house}", f"house {house}."])


# -- Mastermind: a guess must be plain letters ---------------------------------------------------


def test_mastermind_wastes_guesses_written_with_look_alike_letters():
    import gymnasium as gym

    env = gym.make("thinkgym/Mastermind-v0", difficulty=1, disable_env_checker=True)
    env.reset(options={"secret": "III", "letters": "ABCI"})
    # "\u0131".upper() is "I": a dotless i would otherwise be read as the letter I.
    _, reward, terminated, _, info = env.step("<answer>\u0131\u0131\u0131</answer>")
    assert reward == 0.0 and not terminated and info["parsed"] is False
    _, reward, terminated, _, _ = env.step("<answer>i i i</answer>")
    assert reward == 1.0 and terminated
