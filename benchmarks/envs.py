"""Env throughput against reasoning-gym: problems generated and completions verified per second.

Run: ``python benchmarks/envs.py`` (about two minutes on two cores; needs the ``bench`` extra,
``pip install -e ".[bench]"``). Prints a table and writes ``benchmarks/results/envs.json``.

Four comparable tasks, each at the thinkgym difficulty closest to reasoning-gym's default
config (noted in the table): basic arithmetic, shortest path (ours: a weighted graph, theirs:
a grid maze), knights and knaves, mini sudoku and n-queens.

* **Generation**: thinkgym's bare ``generate(rng, config)``, and the env path
  ``env.reset(seed=i)`` (seeding, generation, prompt check) through ``gymnasium.make``;
  reasoning-gym's ``create_dataset(...)`` followed by reading every item.
* **Verification of realistic completions**: per problem, eight completions: the reference
  answer, two correct answers in other accepted forms (one after a ~4,000-character
  ``<think>``), two wrong answers, an answer the parser rejects, an answer without tags and a
  truncated ~6,000-character think. thinkgym: the bare ``verify(problem, answer)`` on the
  answer texts, and ``env.step(completion)`` (extraction, guard, verification, format reward)
  both through ``gymnasium.make``'s wrappers and on ``env.unwrapped``. reasoning-gym:
  ``score_answer(answer, entry)`` on the same kinds of answer texts, and with its own
  ``extract_answer`` on the whole completions. (reasoning-gym's n-queens scorer calls
  ``eval`` on the answer; only the fixed strings below reach it.)
* **Worst case**: the slowest ``env.step`` over long hostile completions, for every registered
  env without an external engine (engine-backed envs are listed as skipped).
"""

from __future__ import annotations

import itertools
import json
import platform
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.registry import env_info, list_envs
from thinkgym.rewards.extract import AnswerNotFound, extract_answer
from thinkgym.rewards.verdict import InvalidAnswer

RESULTS = Path(__file__).resolve().parent / "results" / "envs.json"
N_PROBLEMS = 200
MIN_SECONDS = 0.4  # each rate is the best of REPEATS runs of at least this long
REPEATS = 3

_WORDS = "so the next step is to check whether this value fits and then compare it with the others".split()


def _prose(rng: np.random.Generator, chars: int) -> str:
    """Filler reasoning text of about ``chars`` characters."""
    words: list[str] = []
    total = 0
    while total < chars:
        word = _WORDS[int(rng.integers(len(_WORDS)))]
        words.append(word)
        total += len(word) + 1
    return " ".join(words)


@dataclass(frozen=True)
class Answers:
    """Answer texts of one problem: reference, other correct forms, wrong, unreadable."""

    reference: str
    correct: tuple[str, str]
    wrong: tuple[str, str]
    malformed: str


def completions(answers: Answers, rng: np.random.Generator) -> list[str]:
    """The eight realistic completions of one problem (see the module docstring)."""
    short, long = _prose(rng, 300), _prose(rng, 4000)
    tagged = [
        (short, answers.reference),
        (short, answers.correct[0]),
        (long, answers.correct[1]),
        (short, answers.wrong[0]),
        (short, answers.wrong[1]),
        (short, answers.malformed),
    ]
    texts = [f"<think>\n{think}\n</think>\n<answer>{answer}</answer>" for think, answer in tagged]
    texts.append(f"{short}\nSo the answer is {answers.reference}.")
    texts.append(f"<think>\n{_prose(rng, 6000)}")
    return texts


# -- the comparable tasks --------------------------------------------------------------------


def _arith_ours(p: Any) -> Answers:
    v = p.value
    return Answers(p.answer, (f"{v:,}", f"= {v}"), (str(v + 1), str(v - 10)), "(3 + 4) * 2")


def _arith_rg(e: dict) -> Answers:
    a = e["answer"]
    wrong = str(int(float(a)) + 1) if a.lstrip("-").replace(".", "", 1).isdigit() else a + "1"
    return Answers(a, (f" {a} ", f"{a}\n"), (wrong, a + "0"), "(3 + 4) * 2")


def _path_ours(p: Any) -> Answers:
    nodes = p.answer.split(" -> ")
    return Answers(
        p.answer, (", ".join(nodes), " ".join(nodes).lower()),
        (" -> ".join(reversed(nodes)), f"{p.source} -> {p.target}"), "first A then B",
    )


def _path_rg(e: dict) -> Answers:
    moves = e["answer"].split()
    return Answers(
        e["answer"], ("  ".join(moves), "\n".join(moves)),
        (" ".join(reversed(moves)), " ".join(moves[:-1]) or "up"), "go up twice then right",
    )


def _knights_ours(p: Any) -> Answers:
    pairs = p.answer.split(", ")
    flip = {"knight": "knave", "knave": "knight"}
    first, kind = pairs[0].split(": ")
    wrong = ", ".join([f"{first}: {flip[kind]}"] + pairs[1:])
    every = ", ".join(f"{q.split(': ')[0]}: {flip[q.split(': ')[1]]}" for q in pairs)
    sentence = " and ".join(f"{q.split(': ')[0]} is a {q.split(': ')[1]}" for q in reversed(pairs))
    return Answers(p.answer, (sentence, p.answer.replace(": ", "=").lower()), (wrong, every), pairs[0])


def _knights_rg(e: dict) -> Answers:
    a = e["answer"]
    knight, knave = e["metadata"]["knight_knave_terms"]["knight"], e["metadata"]["knight_knave_terms"]["knave"]
    parts = [s.strip().removeprefix("and ").rstrip(".") for s in a.split(", ")]
    swapped = a.replace(knight, "\0").replace(knave, knight).replace("\0", knave)
    first = parts[0].replace(knight, "\0").replace(knave, knight).replace("\0", knave)
    return Answers(a, (" and ".join(reversed(parts)), a.lower()), (", and ".join([first] + parts[1:]) + ".", swapped), parts[0])


def _swap_row_cells(rows: list[list[str]]) -> str:
    row = list(rows[0])
    row[0], row[1] = row[1], row[0]
    return "\n".join(" ".join(r) for r in [row] + rows[1:])


def _sudoku_ours(p: Any) -> Answers:
    rows = [line.split() for line in p.answer.splitlines()]
    changed = [list(r) for r in rows]
    changed[-1][-1] = "1" if changed[-1][-1] != "1" else "2"
    return Answers(
        p.answer, ("\n".join("".join(r) for r in rows), "".join("".join(r) for r in rows)),
        (_swap_row_cells(rows), "\n".join(" ".join(r) for r in changed)), p.answer.replace(rows[0][0], "?", 1),
    )


def _sudoku_rg(e: dict) -> Answers:
    rows = [line.split() for line in e["answer"].splitlines()]
    changed = [list(r) for r in rows]
    changed[-1][-1] = "1" if changed[-1][-1] != "1" else "2"
    return Answers(
        e["answer"], ("\n".join(" ".join(r) + "  " for r in rows), "\n".join("".join(r) for r in rows)),
        (_swap_row_cells(rows), "\n".join(" ".join(r) for r in changed)), e["answer"].replace(rows[0][0], "_", 1),
    )


def _queens_ours(p: Any) -> Answers:
    cols = p.answer.split()
    shifted = [str(int(c) % p.n + 1) for c in cols]
    return Answers(p.answer, (",".join(cols), f"[{', '.join(cols)}]"), (" ".join(reversed(cols)), " ".join(shifted)), "row 1 col 2")


def _queens_rg(e: dict) -> Answers:
    board = e["answer"]
    other = e["metadata"]["valid_answers"][-1]
    rows = board.splitlines()
    return Answers(board, (other, board + "\n"), ("\n".join(reversed(rows[1:] + rows[:1])), board.replace("Q", "_", 1)), "Q at a1")


@dataclass(frozen=True)
class Task:
    name: str
    env_id: str
    difficulty: int
    ours: Callable[[Any], Answers]
    rg_name: str
    rg: Callable[[dict], Answers]
    note: str


TASKS = (
    Task("arithmetic", "thinkgym/Arithmetic-v0", 3, _arith_ours, "basic_arithmetic", _arith_rg,
         "ours: 5-6 operands up to 99; rg: 2-6 terms of 1-4 digits"),
    Task("shortest path", "thinkgym/ShortestPath-v0", 2, _path_ours, "shortest_path", _path_rg,
         "ours: weighted graph, 8-10 nodes; rg: grid maze 5-8 x 5-8"),
    Task("knights/knaves", "thinkgym/KnightsKnaves-v0", 1, _knights_ours, "knights_knaves", _knights_rg,
         "ours: 3 people, unique solution checked; rg: 2 people"),
    Task("sudoku 4x4", "thinkgym/Sudoku-v0", 1, _sudoku_ours, "mini_sudoku", _sudoku_rg,
         "ours: 4x4, 8 givens, uniqueness proved; rg: mini sudoku 4x4"),
    Task("n-queens", "thinkgym/NQueens-v0", 3, _queens_ours, "n_queens", _queens_rg,
         "ours: N 8-10, 3 placed; rg: N 8, 1-7 removed"),
)


# -- timing ----------------------------------------------------------------------------------


def rate(fn: Callable[[], int]) -> float:
    """Items per CPU second of this process: ``fn`` does some items and returns how many; best
    of REPEATS runs. CPU time, not wall time, so that other load on a shared machine does not
    distort the rates (on an idle machine the two agree: everything here is single-threaded)."""
    best = 0.0
    for _ in range(REPEATS):
        done, start = 0, time.process_time()
        while True:
            done += fn()
            elapsed = time.process_time() - start
            if elapsed >= MIN_SECONDS:
                break
        best = max(best, done / elapsed)
    return best


def _times(k: int, fn: Callable[[int], object]) -> int:
    for i in range(k):
        fn(i)
    return k


def _answer_texts(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        try:
            out.append(extract_answer(text))
        except AnswerNotFound:
            pass
    return out


def bench_ours(task: Task) -> dict[str, Any]:
    env = gym.make(task.env_id, difficulty=task.difficulty)
    raw = env.unwrapped
    generate, verify, config = type(raw).task_generate, type(raw).task_verify, raw.config
    rng = np.random.default_rng(0)
    gen_rate = rate(lambda: _times(20, lambda i: generate(rng, config)))
    seeds = itertools.count()
    reset_rate = rate(lambda: _times(20, lambda i: env.reset(seed=next(seeds))))
    per_difficulty = {}
    for d in range(1, raw.max_difficulty + 1):
        cfg = type(config)(difficulty=d)
        per_difficulty[d] = round(rate(lambda: _times(10, lambda i: generate(rng, cfg))))

    text_rng = np.random.default_rng(1)
    problems, texts = [], []
    for i in range(N_PROBLEMS):
        env.reset(seed=i)
        problems.append(raw.problem)
        texts.append(completions(task.ours(raw.problem), text_rng))
    answers = [_answer_texts(t) for t in texts]
    n_texts, n_answers = sum(map(len, texts)), sum(map(len, answers))

    def bare() -> int:
        for problem, batch in zip(problems, answers):
            for answer in batch:
                try:
                    verify(problem, answer)
                except InvalidAnswer:
                    pass
        return n_answers

    def stepper(target: Any) -> Callable[[], int]:
        def run() -> int:
            for problem, batch in zip(problems, texts):
                raw.problem = problem  # the problem reset() would pose; stepping re-scores it
                for text in batch:
                    target.step(text)
            return n_texts
        return run

    env.reset(seed=0)
    scores = []
    for problem, batch in zip(problems, texts):
        raw.problem = problem
        scores += [raw.step(text)[1] for text in batch]
    return {
        "env_id": task.env_id, "difficulty": task.difficulty,
        "generate_per_s": round(gen_rate), "reset_per_s": round(reset_rate),
        "generate_per_s_by_difficulty": per_difficulty,
        "verify_per_s": round(rate(bare)), "step_per_s": round(rate(stepper(env))),
        "step_unwrapped_per_s": round(rate(stepper(raw))),
        "mean_reward": round(float(np.mean(scores)), 3),
    }


def bench_rg(task: Task) -> dict[str, Any]:
    import reasoning_gym
    from reasoning_gym.utils import extract_answer as rg_extract

    seed = [0]

    def build() -> int:
        seed[0] += 1
        dataset = reasoning_gym.create_dataset(task.rg_name, size=50, seed=seed[0])
        for i in range(50):
            dataset[i]
        return 50

    gen_rate = rate(build)
    dataset = reasoning_gym.create_dataset(task.rg_name, size=N_PROBLEMS, seed=12345)
    entries = [dataset[i] for i in range(N_PROBLEMS)]
    text_rng = np.random.default_rng(1)
    texts = [completions(task.rg(e), text_rng) for e in entries]
    answers = [[a for a in (rg_extract(t) for t in batch) if a is not None] for batch in texts]
    n_texts, n_answers = sum(map(len, texts)), sum(map(len, answers))

    def bare() -> int:
        for entry, batch in zip(entries, answers):
            for answer in batch:
                dataset.score_answer(answer, entry)
        return n_answers

    def full() -> int:
        for entry, batch in zip(entries, texts):
            for text in batch:
                dataset.score_answer(rg_extract(text), entry)
        return n_texts

    scores = [dataset.score_answer(rg_extract(t), e) for e, batch in zip(entries, texts) for t in batch]
    return {
        "dataset": task.rg_name, "generate_per_s": round(gen_rate),
        "verify_per_s": round(rate(bare)), "step_per_s": round(rate(full)),
        "mean_reward": round(float(np.mean(scores)), 3),
    }


# -- worst case on hostile completions -------------------------------------------------------


def hostile_completions() -> list[tuple[str, str]]:
    """(label, completion) pairs: answers built to be slow to parse or huge, and malformed
    whole completions up to the 65,536-character cap."""
    rng = np.random.default_rng(7)
    noise = "".join(rng.choice(list(string.printable), size=4000))
    answers = {
        "4096 nines": "9" * 4096, "2000 nested parens": "(" * 2000 + "1" + ")" * 2000,
        "power tower ^": "9^9^9^9^9^9^9^9", "power tower **": "9**9**9**9**9", "10^10^10^10": "10^(10^(10^10))",
        "2^2^64 and factorials": "2^(2^64) + 3!!!!!!", "1e999999999": "1e999999999",
        "800 nested fracs": "\\frac{" * 800 + "1" + "}" * 800, "1000 nested sqrt": "sqrt(" * 1000 + "2" + ")" * 1000,
        "800-node path": "A -> " * 800 + "A", "370 knight pairs": "A: knight, " * 370, "2048 numbers": "1 " * 2048,
        "4096 dashes": "-" * 4096, "regex backtracking bait": "a" * 4000 + "!", "x^x^...": "x^" * 2000 + "x",
        "400 sudoku rows": "\n".join(["1 2 3 4 5 6 7 8 9"] * 400), "1300 chess moves": "e4 " * 1300,
        "2000 nested brackets": "[" * 2000 + "]" * 2000, "4000 open braces": "{" * 4000, "printable noise": noise,
        "800 colour pairs": "A=1, " * 800, "680 truth values": "True, " * 680, "4000-digit decimal": "0." + "3" * 4000,
        "1300 nested negations": "-(" * 1300 + "1" + ")" * 1300,
    }
    texts = [(label, f"<think>{_prose(rng, 2000)}</think><answer>{a}</answer>") for label, a in answers.items()]
    texts += [
        ("8000 open answer tags", "<answer>" * 8000), ("9000 think tags", "<think>" * 9000 + "</think><answer>1</answer>"),
        ("7000 close answer tags", "</answer>" * 7000), ("3600 answer blocks", "<answer>1</answer>" * 3600),
        ("65536 letters", "a" * 65536), ("64000-char think", "<think>" + "x" * 64000 + "</think><answer>1</answer>"),
    ]
    return texts


def worst_case(env_id: str, difficulty: int, texts: list[tuple[str, str]]) -> tuple[float, str]:
    """Slowest step (wall seconds: the 1 s limit is wall time) over ``texts``, and its label.

    Each text is stepped three times and its fastest time counts, so that a moment when the
    machine's scheduler runs something else is not taken for a slow verifier."""
    env = gym.make(env_id, difficulty=difficulty).unwrapped
    worst, which = 0.0, ""
    for i, (label, text) in enumerate(texts):
        times = []
        for _ in range(3):
            env.reset(seed=i)  # the same problem each time; multi-turn episodes may have ended
            start = time.perf_counter()
            env.step(text)
            times.append(time.perf_counter() - start)
        elapsed = min(times)
        if elapsed > worst:
            worst, which = elapsed, label
    env.close()
    return worst, which


def bench_worst() -> dict[str, Any]:
    texts = hostile_completions()
    rows: dict[str, Any] = {}
    for env_id in list_envs():
        info = env_info(env_id)
        if info.requires:
            rows[env_id] = {"skipped": f"needs {', '.join(info.requires)}"}
            continue
        cases = [worst_case(env_id, d, texts) for d in (1, info.max_difficulty)]
        seconds, which = max(cases)
        rows[env_id] = {"family": info.family, "worst_ms": round(seconds * 1000, 2), "input": which}
        print(f"  worst {env_id}: {seconds * 1000:.1f} ms ({which})", file=sys.stderr, flush=True)
    return rows


# -- report ----------------------------------------------------------------------------------


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    import os

    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    from importlib.metadata import version

    started = time.perf_counter()
    rows = []
    for task in TASKS:
        rows.append({"task": task.name, "note": task.note, "thinkgym": bench_ours(task), "reasoning_gym": bench_rg(task)})
        print(f"measured {task.name}", file=sys.stderr, flush=True)
    worst = bench_worst()
    measured = {k: v for k, v in worst.items() if "worst_ms" in v}
    slowest = max(measured, key=lambda k: measured[k]["worst_ms"])
    targets = {
        "generation_at_least_reasoning_gym": {
            r["task"]: r["thinkgym"]["generate_per_s"] >= r["reasoning_gym"]["generate_per_s"] for r in rows
        },
        "step_at_least_10000_per_s": {r["task"]: r["thinkgym"]["step_unwrapped_per_s"] >= 10_000 for r in rows},
        "no_verification_over_1s": measured[slowest]["worst_ms"] < 1000,
    }
    result = {
        "machine": machine(), "reasoning_gym_version": version("reasoning-gym"),
        "problems": N_PROBLEMS, "completions_per_problem": 8, "tasks": rows, "worst_case": worst,
        "targets": targets, "seconds": round(time.perf_counter() - started, 1),
        "summary": summary(rows, measured[slowest]["worst_ms"], slowest),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print_table(result)
    return 0


def summary(rows: list[dict[str, Any]], worst_ms: float, worst_env: str) -> dict[str, str]:
    """Headline numbers for ``run_all.py``: ours against reasoning-gym per task."""
    out = {}
    for r in rows:
        o, g = r["thinkgym"], r["reasoning_gym"]
        out[f"env gen/s {r['task']}"] = (
            f"{o['generate_per_s']:,} vs rg {g['generate_per_s']:,} ({o['generate_per_s'] / g['generate_per_s']:.2f}x)"
        )
    for r in rows:
        o, g = r["thinkgym"], r["reasoning_gym"]
        out[f"env step/s {r['task']}"] = f"{o['step_per_s']:,} (unwrapped {o['step_unwrapped_per_s']:,}) vs rg {g['step_per_s']:,}"
    out["env worst step on hostile input"] = f"{worst_ms:.0f} ms ({worst_env})"
    return out


def print_table(result: dict[str, Any]) -> None:
    print(f"\nEnv throughput, {result['machine']}, reasoning-gym {result['reasoning_gym_version']} (per CPU second, one core)")
    head = f"{'task':<15}{'d':>2} | {'gen rg':>8}{'gen ours':>9}{'reset':>8} | {'ver rg':>8}{'ver ours':>9} | {'step rg':>8}{'step':>8}{'unwrap':>8}"
    print(head)
    print("-" * len(head))
    for r in result["tasks"]:
        o, g = r["thinkgym"], r["reasoning_gym"]
        print(
            f"{r['task']:<15}{o['difficulty']:>2} | {g['generate_per_s']:>8}{o['generate_per_s']:>9}{o['reset_per_s']:>8} | "
            f"{g['verify_per_s']:>8}{o['verify_per_s']:>9} | {g['step_per_s']:>8}{o['step_per_s']:>8}{o['step_unwrapped_per_s']:>8}"
        )
    print("gen: bare generator (rg: create_dataset + items); reset: env.reset via gym.make; ver: bare scorer on answer texts;")
    print("step: whole completion (rg: its extract_answer + score_answer; ours: env.step via gym.make, and on env.unwrapped)")
    worst = result["worst_case"]
    by_family: dict[str, tuple[float, str]] = {}
    for env_id, row in worst.items():
        if "worst_ms" in row:
            by_family[row["family"]] = max(by_family.get(row["family"], (0.0, "")), (row["worst_ms"], env_id))
    print("worst step on hostile completions: " + ", ".join(f"{f} {ms:.0f} ms ({e.split('/')[-1]})" for f, (ms, e) in sorted(by_family.items())))
    skipped = [e for e, row in worst.items() if "skipped" in row]
    if skipped:
        print("skipped (engine): " + ", ".join(skipped))
    print(f"targets: {json.dumps(result['targets'])}")


if __name__ == "__main__":
    sys.exit(main())
