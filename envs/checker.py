"""A checker for env authors: the contract every thinkgym env is held to, and a red team that
tries the answers a lazy or devious policy would try.

``check_env(env_id)`` runs every check on one registered env and returns a list of
:class:`Finding` (empty when the env passes); the project's own tests call the same checks for
every registered env, so a plugin env that passes here passes there::

    from thinkgym.envs import check_env
    for finding in check_env("myplugin/Parity-v0"):
        print(finding)

The red team (:data:`ATTACKS`) builds hostile answers from what any env exposes: the prompt and
the reference answer ``info["answer"]`` (and the reference of another seed, as a different
candidate). Each attack is wrong *by construction*, decided here without the env's verifier:

* ``negation``: the answer denies the reference (``not 7``, ``7 is wrong``);
* ``hedge``: the answer qualifies it (``about 7``, ``7 or more``, ``maybe 7``, ``7?``) or
  offers a second candidate (``7 or 8``, ``7 is wrong, 8 is right``);
* ``several-answers``: answer blocks or boxes that differ, every candidate listed;
* ``echo``: the prompt's own unevaluated expression where the reference is a number;
* ``near-miss``: a value within a tolerance of an exact numeric reference (``7.0000007``,
  ``7 + 10^(-40)``), or ``7%`` for 7 in a problem that is not about percentages;
* ``prompt-number``: the prompt's other numbers and its format example, where the reference is a
  number (a problem has one numeric answer).

Attacks that compare values do so with :class:`fractions.Fraction` on plain numbers only, so a
value is "different" only when it is provably different. Every attack must score 0: a reward
of 1.0 means a correct answer. Multi-turn envs get the contract checks only.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import gymnasium as gym
from gymnasium.utils.env_checker import check_env as gymnasium_check_env

from thinkgym.envs.registry import env_info, families

SEEDS = (0, 1, 2)
HOSTILE_TIME_LIMIT = 2.0
"""Seconds within which a hostile completion must be scored 0."""


@dataclass(frozen=True)
class Finding:
    """One way an env fails the contract or the red team."""

    env_id: str
    check: str
    message: str
    difficulty: int | None = None
    seed: int | None = None

    def __str__(self) -> str:
        where = "".join(
            part for part in (f" difficulty={self.difficulty}" if self.difficulty is not None else "",
                              f" seed={self.seed}" if self.seed is not None else "")
        )
        return f"{self.env_id} [{self.check}{where}]: {self.message}"


@dataclass(frozen=True)
class Case:
    """What an attack may look at: the posed problem and its reference answer."""

    prompt: str
    reference: str
    other: str | None
    """The reference answer of another seed that differs from this one (a different candidate)."""


@dataclass(frozen=True)
class Attack:
    """A hostile completion and why it is wrong (established without the env's verifier)."""

    completion: str
    why: str


def check_env(env_id: str, *, seeds: tuple[int, ...] = SEEDS, red_team: bool = True) -> list[Finding]:
    """Run the contract checks (and, for single-turn envs, the red team) on ``env_id``."""
    info = env_info(env_id)
    levels = range(1, info.max_difficulty + 1)
    findings = check_api(env_id) + check_determinism(env_id, seeds) + check_bad_configs(env_id)
    findings += check_levels_differ(env_id, seeds)
    for level in levels:
        findings += check_reference(env_id, level, seeds)
    findings += check_hostile(env_id)
    if red_team and not info.multi_turn:
        for level in sorted({1, info.max_difficulty}):
            findings += check_red_team(env_id, level, seeds)
    return findings


def make(env_id: str, **kwargs) -> gym.Env:
    return gym.make(env_id, disable_env_checker=True, **kwargs)


# -- the contract ------------------------------------------------------------------------------
def check_api(env_id: str) -> list[Finding]:
    """Gymnasium's own checker, text spaces, a known family and at least three levels."""
    findings = []
    env = make(env_id)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # text envs have no render modes
            gymnasium_check_env(env.unwrapped, skip_render_check=True)
    except Exception as err:  # the checker's own assertion or the env's error: both are findings
        findings.append(Finding(env_id, "api", f"gymnasium's check_env failed: {type(err).__name__}: {err}"))
    unwrapped = env.unwrapped
    for name in ("observation_space", "action_space"):
        if not isinstance(getattr(unwrapped, name), gym.spaces.Text):
            findings.append(Finding(env_id, "api", f"{name} must be gymnasium.spaces.Text"))
    if unwrapped.family not in families():
        findings.append(Finding(env_id, "api", f"family {unwrapped.family!r} is not registered"))
    if unwrapped.max_difficulty < 3:
        findings.append(Finding(env_id, "api", "declare at least three difficulty levels"))
    env.close()
    return findings


def play_reference(env: gym.Env, seed: int) -> tuple[float, dict]:
    """Play one episode by the reference answers; return the episode return and the last info."""
    _, info = env.reset(seed=seed)
    total, done, turns = 0.0, False, 0
    while not done and turns < 1000:
        _, reward, terminated, truncated, info = env.step(f"<answer>{info['answer']}</answer>")
        total += reward
        done = terminated or truncated
        turns += 1
    return total, info


def check_reference(env_id: str, difficulty: int, seeds: tuple[int, ...] = SEEDS) -> list[Finding]:
    """The reference answer is a non-empty string and playing it earns exactly 1.0."""
    findings = []
    env = make(env_id, difficulty=difficulty)
    for seed in seeds:
        prompt, info = env.reset(seed=seed)
        if not env.unwrapped.observation_space.contains(prompt):
            findings.append(Finding(env_id, "reference", "the prompt is outside the observation space", difficulty, seed))
        if not (isinstance(info.get("answer"), str) and info["answer"]):
            findings.append(Finding(env_id, "reference", "reset() must return info['answer'], a non-empty str", difficulty, seed))
            continue
        total, last = play_reference(env, seed)
        if abs(total - 1.0) > 1e-9:
            findings.append(Finding(env_id, "reference", f"the reference answer scored {total}: {last.get('reason')}", difficulty, seed))
    env.close()
    return findings


def check_determinism(env_id: str, seeds: tuple[int, ...] = SEEDS) -> list[Finding]:
    """The same seed poses the same problem; different seeds pose different ones."""
    findings = []
    a, b = make(env_id), make(env_id)
    for seed in seeds:
        pa, ia = a.reset(seed=seed)
        pb, ib = b.reset(seed=seed)
        if (pa, ia["answer"]) != (pb, ib["answer"]):
            findings.append(Finding(env_id, "determinism", "two resets with the same seed posed different problems", seed=seed))
    prompts = {a.reset(seed=s)[0] for s in range(8)}
    if len(prompts) < 6:
        findings.append(Finding(env_id, "determinism", f"8 seeds posed only {len(prompts)} different problems"))
    a.close(), b.close()
    return findings


def check_levels_differ(env_id: str, seeds: tuple[int, ...] = SEEDS) -> list[Finding]:
    """For the same seed, each level poses a different problem (a level is a harder problem,
    not the same one again)."""
    findings = []
    top = env_info(env_id).max_difficulty
    envs = {level: make(env_id, difficulty=level) for level in range(1, top + 1)}
    for seed in seeds:
        seen: dict[str, int] = {}
        for level, env in envs.items():
            prompt, _ = env.reset(seed=seed)
            if prompt in seen:
                findings.append(Finding(env_id, "levels", f"levels {seen[prompt]} and {level} pose the same problem", seed=seed))
            seen.setdefault(prompt, level)
    for env in envs.values():
        env.close()
    return findings


def check_bad_configs(env_id: str) -> list[Finding]:
    """A bad difficulty or an unknown option raises ValueError naming it."""
    findings = []
    top = env_info(env_id).max_difficulty
    for bad, word in [(0, "difficulty"), (top + 1, "difficulty"), (-1, "difficulty"), ("2", "difficulty"), (1.5, "difficulty")]:
        findings += _expect_value_error(env_id, {"difficulty": bad}, word)
    findings += _expect_value_error(env_id, {"no_such_option": 3}, "unknown option")
    return findings


def _expect_value_error(env_id: str, kwargs: dict, word: str) -> list[Finding]:
    try:
        make(env_id, **kwargs).close()
    except ValueError as err:
        if word in str(err):
            return []
        return [Finding(env_id, "config", f"{kwargs} raised ValueError without saying {word!r}: {err}")]
    except Exception as err:
        return [Finding(env_id, "config", f"{kwargs} raised {type(err).__name__}, not ValueError: {err}")]
    return [Finding(env_id, "config", f"{kwargs} was accepted; raise ValueError")]


HOSTILE = (
    "",
    "<answer></answer>",
    "<answer>",
    "</answer>",
    "<answer><answer>1</answer>",
    "<think>" * 10000,
    "<answer>" + "9" * 100000 + "</answer>",
    "x" * 1_000_000,
    "<answer>" + "(" * 5000 + "</answer>",
    "<answer>\x00\x01\x02\x1b[31m</answer>",
    "<answer>__import__('os').system('touch /tmp/thinkgym_pwned')</answer>",
    "<answer>9**9**9**9</answer>",
    "<answer>().__class__.__bases__[0].__subclasses__()</answer>",
    "\\boxed{" * 3000,
    "<answer>" + "A -> " * 3000 + "</answer>",
    "<answer>\u202e\ufeff\U0001f600 \u2212 \u00bd</answer>",
    "<answer>certainly not the answer 12345</answer>",
)
"""Completions that no env may pay for: empty, huge, code, control characters, no answer."""


def check_hostile(env_id: str) -> list[Finding]:
    """Each hostile completion scores 0 within :data:`HOSTILE_TIME_LIMIT`, with a reason."""
    findings = []
    env = make(env_id)
    for i, completion in enumerate(HOSTILE):
        env.reset(seed=i)
        start = time.perf_counter()
        try:
            _, reward, _, _, info = env.step(completion)
        except Exception as err:
            findings.append(Finding(env_id, "hostile", f"completion #{i} raised {type(err).__name__}: {err}", seed=i))
            continue
        elapsed = time.perf_counter() - start
        if reward != 0.0:
            findings.append(Finding(env_id, "hostile", f"completion #{i} ({completion[:40]!r}) scored {reward}", seed=i))
        if elapsed > HOSTILE_TIME_LIMIT:
            findings.append(Finding(env_id, "hostile", f"completion #{i} took {elapsed:.2f} s", seed=i))
        if "reason" not in info:
            findings.append(Finding(env_id, "hostile", f"completion #{i}: info has no 'reason'", seed=i))
    env.close()
    return findings


# -- the red team ------------------------------------------------------------------------------
_PLAIN_NUMBER = re.compile(r"\s*(-?)(\d{1,30})(?:\.(\d{1,30}))?(?:\s*/\s*(\d{1,30}))?\s*")


def plain_number(text: str) -> Fraction | None:
    """The value of an integer, decimal or ``p/q`` written plainly; None for anything else."""
    match = _PLAIN_NUMBER.fullmatch(text)
    if not match:
        return None
    sign, whole, decimals, denominator = match.groups()
    if denominator is not None and (decimals is not None or int(denominator) == 0):
        return None
    value = Fraction(f"{whole}.{decimals}" if decimals else whole) / int(denominator or 1)
    return -value if sign else value


def _is_exact(text: str) -> bool:
    return plain_number(text) is not None and "." not in text


def _single(text: str) -> bool:
    """A one-item answer (a number, a word, a path), where a second candidate is a hedge."""
    return not re.search(r"[,;=\n]|\b(?:or|and)\b", text, re.IGNORECASE)


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _other_value(case: Case) -> str | None:
    """A candidate provably different from the reference: another number, or another seed's answer."""
    value = plain_number(case.reference)
    if value is not None:
        return _show(value + 1)
    return case.other


def _answer(text: str) -> str:
    return f"<think>I worked it out.</think><answer>{text}</answer>"


def negation(case: Case) -> Iterator[Attack]:
    ref = case.reference
    for text in (f"not {ref}", f"NOT {ref}", f"{ref} is not the answer", f"The answer is not {ref}.",
                 f"{ref} is wrong", f"wrong: {ref}", f"{ref} is incorrect", f"It is not {ref}",
                 f"never {ref}", f"{ref} is false", f"\u00ac{ref}", f"\u2260 {ref}", f"!= {ref}"):
        yield Attack(_answer(text), "it denies the reference answer instead of stating it")


def hedge(case: Case) -> Iterator[Attack]:
    ref = case.reference
    for text in (f"about {ref}", f"approximately {ref}", f"roughly {ref}", f"maybe {ref}", f"probably {ref}",
                 f"{ref}?", f"at least {ref}", f"at most {ref}", f"{ref} or more", f"{ref} or less",
                 f"I guess {ref}", f"~{ref}", f"\u2248 {ref}"):
        yield Attack(_answer(text), "a hedged answer commits to nothing")
    other = _other_value(case)
    if other is not None and _single(ref) and _single(other) and other.strip().lower() != ref.strip().lower():
        texts = [f"{ref} or {other}", f"{other} or {ref}", f"either {ref} or {other}", f"{ref} (or {other})",
                 f"{ref} is wrong, {other} is right", f"{other}, not {ref}", f"I think {ref}, but maybe {other}"]
        if plain_number(ref) is None:  # "0 / 1" would be a number, 0
            texts.append(f"{ref}/{other}")
        for text in texts:
            yield Attack(_answer(text), f"it offers two different candidates, {ref!r} and {other!r}")


def several_answers(case: Case) -> Iterator[Attack]:
    ref, other = case.reference, _other_value(case)
    if other is not None and other.strip() != ref.strip():
        yield Attack(f"<answer>{other}</answer> or <answer>{ref}</answer>", "two answer blocks that differ")
        yield Attack(f"<think><answer>{ref}</answer></think><answer>{other}</answer><answer>{ref}</answer>",
                     "three answer blocks that differ")
        yield Attack(_answer(f"\\boxed{{{other}}} or \\boxed{{{ref}}}"), "two boxed answers that differ")
    value = plain_number(ref)
    if value is not None:
        candidates = [_show(value + k) for k in range(-3, 4)]
        yield Attack(_answer(", ".join(candidates)), "every candidate near the answer listed: a single number is asked")
        yield Attack(_answer(" or ".join(candidates)), "every candidate near the answer listed: a single number is asked")


_EXPRESSION = re.compile(r"(?<![\w.])[-(]*\d+(?:\.\d+)?(?:\s*[-+*/^]\s*[-(]*\d+(?:\.\d+)?\)*)+\)*")


def echo(case: Case) -> Iterator[Attack]:
    """The prompt's own arithmetic, unevaluated, where a computed number is the answer."""
    if plain_number(case.reference) is None:
        return
    seen = set()
    for match in _EXPRESSION.finditer(case.prompt):
        text = match.group(0).strip()
        if plain_number(text) is None and text not in seen and not re.fullmatch(r"\d+/\d+", text):
            seen.add(text)
            yield Attack(_answer(text), f"the prompt's expression {text!r} echoed, not computed")
        if len(seen) >= 8:
            return


def near_miss(case: Case) -> Iterator[Attack]:
    """Values close to an exact numeric reference, and a percent sign that changes the value."""
    ref = case.reference.strip()
    value = plain_number(ref)
    if value is None or not _is_exact(ref):
        return
    yield Attack(_answer(f"{ref} + 10^(-40)"), "differs from the exact answer by 10^-40")
    yield Attack(_answer(f"{ref} + 0.0000000001"), "differs from the exact answer by 10^-10")
    scale = abs(value) if value else Fraction(1)
    near = value + scale * Fraction(7, 10**7)
    yield Attack(_answer(f"{float(near):.12g}" if float(near) != float(value) else f"{ref}.0000007"),
                 "within a relative 1e-6 of the exact answer, but not equal")
    if value and "%" not in case.prompt and "percent" not in case.prompt.lower():
        yield Attack(_answer(f"{ref}%"), f"{ref}% is {_show(value / 100)}, and the problem is not about percentages")


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def prompt_number(case: Case) -> Iterator[Attack]:
    """The prompt's numbers (and its format example) other than the answer's value."""
    value = plain_number(case.reference)
    if value is None:
        return
    seen = {value}
    examples = re.findall(r"<answer>(.*?)</answer>", case.prompt)
    for text in examples + _NUMBER.findall(case.prompt):
        v = plain_number(text)
        if v is None or v in seen:
            continue
        seen.add(v)
        yield Attack(_answer(text.strip()), f"{text.strip()!r} is a number from the prompt, not the answer {case.reference!r}")
        if len(seen) > 12:
            return


ATTACKS: dict[str, Callable[[Case], Iterator[Attack]]] = {
    "negation": negation,
    "hedge": hedge,
    "several-answers": several_answers,
    "echo": echo,
    "near-miss": near_miss,
    "prompt-number": prompt_number,
}
"""The red team's exploit classes: each builds wrong answers for a case (see the module doc)."""


def red_team_cases(env_id: str, difficulty: int, seeds: tuple[int, ...] = SEEDS) -> Iterator[tuple[int, Case, gym.Env]]:
    """Yield (seed, case, env) with the env reset to the case's problem."""
    env = make(env_id, difficulty=difficulty)
    try:
        for seed in seeds:
            others = []  # other seeds' answers: a different candidate is among them (env-cost bounded)
            for k in range(1, 4):
                others.append(env.reset(seed=seed + 1000 * k)[1]["answer"])
            prompt, info = env.reset(seed=seed)
            reference = info["answer"]
            other = next((o for o in others if o.strip().lower() != reference.strip().lower()), None)
            yield seed, Case(prompt, reference, other), env
    finally:
        env.close()


def check_red_team(env_id: str, difficulty: int, seeds: tuple[int, ...] = SEEDS,
                   attacks: dict[str, Callable[[Case], Iterator[Attack]]] | None = None) -> list[Finding]:
    """Every attack of :data:`ATTACKS` must earn correctness 0 (single-turn envs)."""
    findings = []
    for seed, case, env in red_team_cases(env_id, difficulty, seeds):
        for name, attack in (attacks or ATTACKS).items():
            for hostile in attack(case):
                info = env.unwrapped.score(hostile.completion)
                score = info["reward_components"]["correctness"]
                if score != 0.0:
                    findings.append(Finding(
                        env_id, f"red-team:{name}",
                        f"{hostile.completion!r} scored {score} but is wrong ({hostile.why}); reference {case.reference!r}",
                        difficulty, seed))
    return findings
