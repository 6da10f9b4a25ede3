"""Tests of the logic family: uniqueness of generated puzzles (checked by independent brute force
where it is cheap), acceptance of every valid alternative answer, rejection of corrupted ones,
config validation, and the Mastermind game played to the end."""

from __future__ import annotations

import itertools
import statistics
import string
import time

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.logic import circuit, entailment, hanoi, knights_knaves, mastermind, n_queens, sat, sudoku, syllogism, zebra
from thinkgym.rewards import InvalidAnswer

TASKS = {
    "circuit": (circuit, circuit.CircuitConfig),
    "entailment": (entailment, entailment.EntailmentConfig),
    "hanoi": (hanoi, hanoi.HanoiConfig),
    "knights_knaves": (knights_knaves, knights_knaves.KnightsKnavesConfig),
    "n_queens": (n_queens, n_queens.NQueensConfig),
    "sat": (sat, sat.SatConfig),
    "sudoku": (sudoku, sudoku.SudokuConfig),
    "syllogism": (syllogism, syllogism.SyllogismConfig),
    "zebra": (zebra, zebra.ZebraConfig),
}
CASES = [(name, d) for name in TASKS for d in (1, 2, 3)]


def problems(name: str, difficulty: int, seeds=range(6), **options):
    module, config_cls = TASKS[name]
    config = config_cls(difficulty=difficulty, **options)
    return [module.generate(np.random.default_rng(seed), config) for seed in seeds]


def score(module, problem, answer: str) -> float:
    return module.verify(problem, answer).score


# -- every single-turn task ---------------------------------------------------------------------
@pytest.mark.parametrize("name,difficulty", CASES, ids=[f"{n}-d{d}" for n, d in CASES])
def test_deterministic_reference_and_explanation(name, difficulty):
    module, _ = TASKS[name]
    first, second = problems(name, difficulty, seeds=range(4)), problems(name, difficulty, seeds=range(4))
    assert [(p.prompt, p.answer) for p in first] == [(p.prompt, p.answer) for p in second]
    for p in first:
        assert set(p.prompt) <= set(string.printable)
        assert "<answer>" in p.prompt
        assert score(module, p, p.answer) == 1.0
        worked = module.explain(p)
        assert worked.rstrip().endswith(p.answer)


@pytest.mark.parametrize("name", list(TASKS))
def test_explained_completion_earns_full_reward_through_the_env(name):
    env_id = next(e for e in thinkgym.list_envs(family="logic") if gym.spec(e).entry_point.startswith(TASKS[name][0].__name__ + ":"))
    env = gym.make(env_id, difficulty=2, disable_env_checker=True)
    _, info = env.reset(seed=11)
    completion = f"<think>{env.unwrapped.explain()}</think><answer>{info['answer']}</answer>"
    _, reward, terminated, _, info = env.step(completion)
    assert reward == 1.0 and terminated and info["correct"]


@pytest.mark.parametrize("name", list(TASKS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_verifiers_raise_only_invalid_answer(name, text):
    module, _ = TASKS[name]
    problem = problems(name, 2, seeds=[5])[0]
    try:
        verdict = module.verify(problem, text)
    except InvalidAnswer:
        return
    assert 0.0 <= verdict.score <= 1.0


BAD_CONFIGS = [
    (circuit.CircuitConfig, {"outputs": 9}, "outputs"),
    (circuit.CircuitConfig, {"gates": 0}, "gates"),
    (entailment.EntailmentConfig, {"valid_fraction": 1.5}, "valid_fraction"),
    (hanoi.HanoiConfig, {"min_disks": 5, "max_disks": 3}, "min_disks"),
    (hanoi.HanoiConfig, {"max_disks": 12}, "max_disks"),
    (knights_knaves.KnightsKnavesConfig, {"max_people": 9}, "max_people"),
    (knights_knaves.KnightsKnavesConfig, {"min_people": 2}, "min_people"),
    (n_queens.NQueensConfig, {"min_n": 3}, "min_n"),
    (n_queens.NQueensConfig, {"preplaced": 5}, "preplaced"),
    (sat.SatConfig, {"variables": 1}, "variables"),
    (sat.SatConfig, {"unsat_fraction": -0.1}, "unsat_fraction"),
    (sudoku.SudokuConfig, {"size": 5}, "size"),
    (sudoku.SudokuConfig, {"size": 4, "givens": 17}, "givens"),
    (syllogism.SyllogismConfig, {"valid_fraction": 2}, "valid_fraction"),
    (zebra.ZebraConfig, {"question": "all"}, "question"),
    (zebra.ZebraConfig, {"houses": 7}, "houses"),
    (mastermind.MastermindConfig, {"pegs": 7}, "pegs"),
    (mastermind.MastermindConfig, {"pegs": 6, "colors": 10}, "colors"),
    (mastermind.MastermindConfig, {"max_turns": 0}, "max_turns"),
]


@pytest.mark.parametrize("config_cls,options,match", BAD_CONFIGS, ids=[f"{c.__name__}-{m}" for c, _, m in BAD_CONFIGS])
def test_bad_configs_raise(config_cls, options, match):
    with pytest.raises(ValueError, match=match):
        config_cls(difficulty=1, **options)
    with pytest.raises(ValueError, match="difficulty"):
        config_cls(difficulty=9)


def test_family_has_nine_single_turn_tasks_and_one_game():
    ids = thinkgym.list_envs(family="logic")
    assert len(ids) >= 10
    assert [e for e in ids if thinkgym.env_info(e).multi_turn] == ["thinkgym/Mastermind-v0"]


# -- knights and knaves -------------------------------------------------------------------------
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_knights_knaves_solution_is_unique(difficulty):
    for p in problems("knights_knaves", difficulty, seeds=range(10)):
        found = knights_knaves.solutions(p.people, p.statements)
        assert len(found) == 1
        assert ", ".join(f"{k}: {knights_knaves.KIND[v]}" for k, v in found[0].items()) == p.answer


def test_knights_knaves_answer_order_and_case_do_not_matter_but_content_does():
    p = problems("knights_knaves", 2, seeds=[3])[0]
    pairs = [item.split(": ") for item in p.answer.split(", ")]
    shuffled = "; ".join(f"{who.lower()} is a {kind.upper()}" for who, kind in reversed(pairs))
    assert score(knights_knaves, p, shuffled) == 1.0
    flipped = dict(pairs)
    flipped["A"] = "knave" if flipped["A"] == "knight" else "knight"
    corrupted = knights_knaves.verify(p, ", ".join(f"{k}: {v}" for k, v in flipped.items()))
    assert corrupted.score == 0.0 and "statement" in corrupted.reason
    with pytest.raises(InvalidAnswer, match="no knight or knave given"):
        knights_knaves.verify(p, ", ".join(f"{k}: {v}" for k, v in pairs[1:]))
    with pytest.raises(InvalidAnswer, match="two different values"):
        knights_knaves.verify(p, p.answer + ", A: knight, A: knave")
    with pytest.raises(InvalidAnswer, match="not a valid"):
        knights_knaves.verify(p, p.answer.replace("knight", "wizard", 1))


# -- zebra --------------------------------------------------------------------------------------
def _brute_force_zebra(p) -> int:
    """Count solutions by trying every combination of permutations: independent of the solver."""
    n, k = len(p.values[0]), len(p.categories)
    count = 0
    for perms in itertools.product(itertools.permutations(range(n)), repeat=k):
        house_of = {(c, v): perms[c][v] for c in range(k) for v in range(n)}
        count += all(zebra.holds(clue, house_of) for clue in p.clues)
    return count


@pytest.mark.parametrize("difficulty", [1, 2])
def test_zebra_solution_is_unique_by_brute_force(difficulty):
    for p in problems("zebra", difficulty, seeds=range(3)):
        assert _brute_force_zebra(p) == 1


def test_zebra_level3_unique_and_every_clue_needed():
    for p in problems("zebra", 3, seeds=range(2)):
        n, k = len(p.values[0]), len(p.categories)
        assert zebra.count_solutions(n, k, p.clues, limit=10) == 1
        for i in range(len(p.clues)):
            assert zebra.count_solutions(n, k, p.clues[:i] + p.clues[i + 1 :]) > 1


def test_zebra_grid_answer_tolerates_order_and_case_but_not_errors():
    p = problems("zebra", 2, seeds=[1])[0]
    houses = [entry.split(": ") for entry in p.answer.split("; ")]
    reordered = "\n".join(f"house {label.split()[1]} = {', '.join(reversed(vals.split(', '))).upper()}" for label, vals in reversed(houses))
    assert score(zebra, p, reordered) == 1.0
    unlabeled = "; ".join(vals for _, vals in houses)
    assert score(zebra, p, unlabeled) == 1.0
    swapped = [vals for _, vals in houses]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert score(zebra, p, "; ".join(f"House {h}: {v}" for h, v in enumerate(swapped, 1))) == 0.0
    with pytest.raises(InvalidAnswer, match="house entries"):
        zebra.verify(p, "; ".join(vals for _, vals in houses[:-1]))
    with pytest.raises(InvalidAnswer, match="unknown value"):
        zebra.verify(p, unlabeled.replace(houses[0][1].split(", ")[0], "zebra", 1))


def test_zebra_cell_question():
    p = problems("zebra", 2, seeds=[4], question="cell")[0]
    right = int(p.answer)
    assert score(zebra, p, f"House {right}") == 1.0
    assert score(zebra, p, str(right % 4 + 1)) == 0.0
    with pytest.raises(InvalidAnswer):
        zebra.verify(p, "the red one")


# -- sudoku -------------------------------------------------------------------------------------
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_sudoku_unique_and_constraint_checked(difficulty):
    for p in problems("sudoku", difficulty, seeds=range(5)):
        assert sudoku.count_solutions(list(p.puzzle), p.size, limit=10) == 1
        assert sum(1 for v in p.puzzle if v) == sudoku.SudokuConfig(difficulty=difficulty).givens


def _all_4x4_grids() -> list[tuple[int, ...]]:
    """Every valid 4x4 sudoku grid (there are 288), built row by row: independent of the solver."""
    grids: list[tuple[int, ...]] = [()]
    for _ in range(4):
        grids = [g + row for g in grids for row in itertools.permutations(range(1, 5)) if _fits(g + row)]
    return grids


def _fits(cells: tuple[int, ...]) -> bool:
    rows = len(cells) // 4
    cols_ok = all(len({cells[r * 4 + c] for r in range(rows)}) == rows for c in range(4))
    boxes_ok = all(
        len({cells[r * 4 + c] for r in range(br, min(br + 2, rows)) for c in range(bc, bc + 2)})
        == 2 * (min(br + 2, rows) - br)
        for br in (0, 2) if br < rows for bc in (0, 2)
    )
    return cols_ok and boxes_ok


def test_sudoku_4x4_uniqueness_by_enumeration():
    grids = _all_4x4_grids()
    assert len(grids) == 288
    for p in problems("sudoku", 1, seeds=range(8)):
        matching = [g for g in grids if all(v == 0 or g[i] == v for i, v in enumerate(p.puzzle))]
        assert matching == [p.solution]


def test_sudoku_accepts_any_valid_grid_and_formats():
    blank = sudoku.SudokuProblem("", "", 4, (1,) + (0,) * 15, ())
    a = "1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 1"
    b = "1 3 2 4\n2 4 1 3\n3 1 4 2\n4 2 3 1"
    assert score(sudoku, blank, a) == score(sudoku, blank, b) == 1.0
    assert score(sudoku, blank, "1234341221434321") == 1.0
    assert score(sudoku, blank, "1 2 | 3 4\n3 4 | 1 2\n----+----\n2 1 | 4 3\n4 3 | 2 1") == 1.0
    assert score(sudoku, blank, "2 1 3 4\n3 4 1 2\n1 2 4 3\n4 3 2 1") == 0.0  # moved the given 1
    p = problems("sudoku", 3, seeds=[2])[0]
    rows = [r.split() for r in p.answer.splitlines()]
    free = [c for c in range(9) if not p.puzzle[c]][:2]
    rows[0][free[0]], rows[0][free[1]] = rows[0][free[1]], rows[0][free[0]]
    corrupted = sudoku.verify(p, "\n".join(" ".join(r) for r in rows))
    assert corrupted.score == 0.0 and "repeats" in corrupted.reason
    with pytest.raises(InvalidAnswer, match="rows"):
        sudoku.verify(p, "\n".join(p.answer.splitlines()[:8]))
    with pytest.raises(InvalidAnswer, match="cannot read"):
        sudoku.verify(p, p.answer.replace("1", "x", 1))


def test_sudoku_9x9_generation_is_fast():
    config = sudoku.SudokuConfig(difficulty=3)
    times = []
    for seed in range(10):
        start = time.perf_counter()
        sudoku.generate(np.random.default_rng(seed), config)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.05


# -- satisfiability -----------------------------------------------------------------------------
def _all_models(p) -> list[dict[str, bool]]:
    rows = (dict(zip(p.variables, vals)) for vals in itertools.product([True, False], repeat=len(p.variables)))
    return [r for r in rows if sat.satisfies(p.clauses, r)]


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_sat_mixes_satisfiable_and_unsatisfiable(difficulty):
    ps = problems("sat", difficulty, seeds=range(16))
    kinds = {p.satisfiable for p in ps}
    assert kinds == {True, False}
    for p in ps:
        assert bool(_all_models(p)) == p.satisfiable
        assert (p.answer == "UNSAT") == (not p.satisfiable)


def test_sat_accepts_every_satisfying_assignment_and_rejects_others():
    p = next(p for p in problems("sat", 2, seeds=range(30)) if len(_all_models(p)) >= 2)
    models = _all_models(p)
    for m in models:
        assert score(sat, p, " ; ".join(f"{v.upper()} = {'T' if m[v] else 'F'}" for v in reversed(p.variables))) == 1.0
    bad = next(
        dict(zip(p.variables, vals))
        for vals in itertools.product([True, False], repeat=len(p.variables))
        if dict(zip(p.variables, vals)) not in models
    )
    verdict = sat.verify(p, ", ".join(f"{v}={int(bad[v])}" for v in p.variables))
    assert verdict.score == 0.0 and "is false" in verdict.reason
    assert score(sat, p, "UNSAT") == 0.0
    with pytest.raises(InvalidAnswer, match="no truth value given"):
        sat.verify(p, f"{p.variables[0]}=true")
    unsat = next(p for p in problems("sat", 1, seeds=range(30)) if not p.satisfiable)
    assert score(sat, unsat, "unsatisfiable.") == 1.0
    assert score(sat, unsat, ", ".join(f"{v}=true" for v in unsat.variables)) == 0.0


# -- entailment ---------------------------------------------------------------------------------
def test_entailment_accepts_any_countermodel():
    ps = problems("entailment", 2, seeds=range(20))
    assert {p.answer == "valid" for p in ps} == {True, False}
    for p in ps:
        counter = entailment.countermodels(p.variables, p.premises, p.conclusion)
        if not counter:
            assert score(entailment, p, "Valid.") == 1.0
            assert score(entailment, p, "invalid: " + ", ".join(f"{v}=true" for v in p.variables)) == 0.0
            continue
        assert score(entailment, p, "valid") == 0.0
        assert score(entailment, p, "invalid") == 0.0  # the counterexample is required
        for env in counter:
            assert score(entailment, p, "INVALID, " + " ".join(f"{v}: {str(env[v]).lower()}" for v in p.variables)) == 1.0
        others = [r for r in entailment.rows(p.variables) if r not in counter]
        assert score(entailment, p, "invalid: " + ", ".join(f"{v}={others[0][v]}" for v in p.variables)) == 0.0


# -- syllogisms ---------------------------------------------------------------------------------
def _valid_by_enumeration(k: int, premises, conclusion, existential_import: bool) -> bool:
    """Enumerate every model (each subset of the 2^k Venn regions is the set of non-empty ones)."""
    regions = 2**k
    models = np.array(list(itertools.product([False, True], repeat=regions)), dtype=bool)  # (2^regions, regions)

    def true_in(statement):
        form, x, y = statement
        inside_y = [r for r in range(regions) if r >> x & 1 and r >> y & 1]
        outside_y = [r for r in range(regions) if r >> x & 1 and not r >> y & 1]
        some = {"A": outside_y, "E": inside_y, "I": inside_y, "O": outside_y}[form]
        any_member = models[:, some].any(axis=1)
        return ~any_member if form in "AE" else any_member

    ok = np.ones(len(models), dtype=bool)
    for premise in premises:
        ok &= true_in(premise)
    if existential_import:
        for t in range(k):
            ok &= models[:, [r for r in range(regions) if r >> t & 1]].any(axis=1)
    return bool(np.all(true_in(conclusion)[ok]))


@pytest.mark.parametrize("existential_import,expected", [(False, 15), (True, 24)])
def test_syllogism_valid_forms_match_enumeration_and_the_classic_count(existential_import, expected):
    valid = 0
    for forms in itertools.product("AEIO", repeat=3):
        for major in ((1, 2), (2, 1)):
            for minor in ((0, 1), (1, 0)):
                premises = ((forms[0], *major), (forms[1], *minor))
                conclusion = (forms[2], 0, 2)
                fast = syllogism.countermodel(3, premises, conclusion, existential_import) is None
                assert fast == _valid_by_enumeration(3, premises, conclusion, existential_import)
                valid += fast
    assert valid == expected


def test_syllogism_chains_match_enumeration():
    for p in problems("syllogism", 2, seeds=range(8)) + problems("syllogism", 2, seeds=range(4), existential_import=True):
        valid = _valid_by_enumeration(len(p.terms), p.premises, p.conclusion, p.existential_import)
        assert p.answer == ("valid" if valid else "invalid")
        assert score(syllogism, p, p.answer.upper() + ".") == 1.0
        assert score(syllogism, p, "invalid" if valid else "valid") == 0.0
    with pytest.raises(InvalidAnswer):
        syllogism.verify(p, "maybe")


# -- N-Queens -----------------------------------------------------------------------------------
def test_n_queens_accepts_every_solution_keeping_the_given_queens():
    several = 0
    for p in problems("n_queens", 2, seeds=range(6)):
        all_solutions = n_queens.solve(p.n, dict(p.given), limit=1000)
        several += len(all_solutions) > 1
        for cols in all_solutions:
            assert score(n_queens, p, ", ".join(map(str, cols))) == 1.0
        other = next(s for s in n_queens.solve(p.n, {}, limit=1000) if s not in all_solutions)
        assert n_queens.verify(p, " ".join(map(str, other))).reason.startswith("the given queen")
    assert several > 0
    p = problems("n_queens", 1, seeds=[0])[0]
    assert "attack" in n_queens.verify(p, " ".join(["1"] * p.n)).reason or "moved" in n_queens.verify(p, " ".join(["1"] * p.n)).reason
    with pytest.raises(InvalidAnswer, match="column numbers"):
        n_queens.verify(p, "1 2")
    with pytest.raises(InvalidAnswer, match="outside"):
        n_queens.verify(p, " ".join([str(p.n + 1)] * p.n))


# -- circuit ------------------------------------------------------------------------------------
def test_circuit_answer_order_case_and_words():
    p = problems("circuit", 3, seeds=[1])[0]
    values = dict(item.split("=") for item in p.answer.split(", "))
    words = "; ".join(f"{g.upper()}: {'true' if v == '1' else 'false'}" for g, v in reversed(values.items()))
    assert score(circuit, p, words) == 1.0
    flipped = dict(values)
    last = p.asked[-1]
    flipped[last] = "0" if values[last] == "1" else "1"
    assert score(circuit, p, ", ".join(f"{g}={v}" for g, v in flipped.items())) == 0.0
    with pytest.raises(InvalidAnswer, match="no value"):
        circuit.verify(p, f"{last}={values[last]}")


# -- Tower of Hanoi -----------------------------------------------------------------------------
def test_hanoi_simulation_optimality_and_partial_credit():
    easy = problems("hanoi", 1, seeds=[0])[0]
    moves = hanoi.solve(easy.disks, easy.source, easy.target)
    spare = next(x for x in "ABC" if x not in (easy.source, easy.target))
    detour = [(easy.source, spare), (spare, easy.source)] + moves  # legal, two moves longer
    text = " ".join(f"{a.lower()} to {b.lower()}" for a, b in detour)
    assert score(hanoi, easy, text) == 1.0  # level 1 accepts any solution
    hard = problems("hanoi", 2, seeds=[0])[0]
    moves = hanoi.solve(hard.disks, hard.source, hard.target)
    spare = next(x for x in "ABC" if x not in (hard.source, hard.target))
    longer = [(hard.source, spare), (spare, hard.source)] + moves
    verdict = hanoi.verify(hard, ", ".join(f"{a}-{b}" for a, b in longer))
    assert verdict.score == pytest.approx(0.5 * len(moves) / len(longer))
    assert score(hanoi, hard, ", ".join(f"{a}->{b}" for a, b in moves[:-1])) == 0.0  # unfinished
    swapped = [moves[1], moves[0]] + moves[2:]
    assert "smaller" in hanoi.verify(hard, ", ".join(f"{a}->{b}" for a, b in swapped)).reason or "empty" in hanoi.verify(hard, ", ".join(f"{a}->{b}" for a, b in swapped)).reason
    with pytest.raises(InvalidAnswer, match="cannot read"):
        hanoi.verify(hard, "A->C, then B->C")
    with pytest.raises(InvalidAnswer, match="no moves"):
        hanoi.verify(hard, "...")


# -- Mastermind ---------------------------------------------------------------------------------
def _feedback(secret: str, guess: str) -> tuple[int, int]:
    exact = sum(a == b for a, b in zip(secret, guess))
    common = sum(min(secret.count(ch), guess.count(ch)) for ch in set(guess))
    return exact, common - exact


def _play(env, choose, seed=None, options=None) -> tuple[float, int, bool]:
    obs, info = env.reset(seed=seed, options=options)
    total, turns, done = 0.0, 0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(f"<answer>{choose(obs, info)}</answer>")
        total, turns, done = total + reward, turns + 1, terminated or truncated
    return total, turns, terminated


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_mastermind_reference_play_always_earns_one(difficulty):
    env = gym.make("thinkgym/Mastermind-v0", difficulty=difficulty, disable_env_checker=True)
    for seed in range(6):
        total, turns, solved = _play(env, lambda obs, info: info["answer"], seed=seed)
        assert solved and total == 1.0 and turns <= env.unwrapped.problem.budget


def test_mastermind_budget_is_the_exact_worst_case_of_the_reference_strategy():
    env = gym.make("thinkgym/Mastermind-v0", difficulty=1, disable_env_checker=True)
    budget = mastermind.budget(3, 4)
    worst = 0
    for secret in map("".join, itertools.product("ABCD", repeat=3)):
        total, turns, solved = _play(env, lambda obs, info: info["answer"], options={"secret": secret})
        assert solved and total == 1.0
        worst = max(worst, turns)
    assert worst == budget


def test_mastermind_feedback_and_scripted_players():
    env = gym.make("thinkgym/Mastermind-v0", difficulty=2, disable_env_checker=True)
    unwrapped = env.unwrapped
    rng = np.random.default_rng(0)
    for _ in range(4):  # a player that guesses a random code consistent with the feedback it parsed
        env.reset(seed=int(rng.integers(1000)))
        letters, secret = unwrapped.alphabet, unwrapped.problem.secret
        candidates = ["".join(c) for c in itertools.product(letters, repeat=4)]
        done, total = False, 0.0
        while not done:
            guess = candidates[int(rng.integers(len(candidates)))]
            obs, reward, terminated, truncated, _ = env.step(f"<answer>{guess.lower()}</answer>")
            exact, misplaced = _feedback(secret, guess)
            assert f"{guess} -> {exact} exact, {misplaced} misplaced" in obs
            candidates = [c for c in candidates if _feedback(c, guess) == (exact, misplaced)]
            total, done = total + reward, terminated or truncated
        turns = unwrapped.turn
        assert terminated and total == pytest.approx(max(0.0, 1 - 0.1 * max(0, turns - unwrapped.problem.budget)))

    # Solving late costs 0.1 a guess beyond the budget.
    budget = mastermind.budget(4, 6)
    wrong = iter(["ABCD", "BCDE", "CDEF", "DEFA", "EFAB", "FABC", "ACEB", "BDFA"][: budget + 2])
    total, turns, solved = _play(env, lambda obs, info: next(wrong, "AAAA"), options={"secret": "AAAA"})
    assert solved and turns == budget + 3 and total == pytest.approx(0.7)

    # Unreadable guesses waste turns and the episode is truncated with return 0.
    total, turns, solved = _play(env, lambda obs, info: "purple", seed=1)
    assert not solved and total == 0.0 and turns == unwrapped.max_turns
    with pytest.raises(gym.error.ResetNeeded):
        env.step("<answer>AAAA</answer>")
    with pytest.raises(ValueError, match="secret"):
        env.reset(options={"secret": "AAAAA"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"code": "AAAA"})


def test_mastermind_observations_stay_printable_ascii():
    env = gym.make("thinkgym/Mastermind-v0", difficulty=1, disable_env_checker=True)
    env.reset(seed=0)
    for completion in ["<answer>\U0001f600\u202e\x1b[31m</answer>", "no tags", "<answer>" + "Z" * 3000 + "</answer>"]:
        obs, reward, *_ = env.step(completion)
        assert reward == 0.0 and set(obs) <= set(string.printable)
