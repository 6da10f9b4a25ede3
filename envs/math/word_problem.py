"""Templated word problems: shopping, travel, sharing, ages, geometry and percentages.

Prompt: a short story with numbers and a question, e.g. ``Mia buys 4 notebooks at $3 each and
pays with a $20 bill. How many dollars of change does she get?``, and the answer format.
Answer: the number, e.g. ``<answer>8</answer>`` (``$8``, ``8 dollars``, ``8.0``, ``17/2``,
``8.5`` and ``The answer is 8`` also read). Reward 1.0 when the value is exactly right, else 0:
every answer is an integer or a fraction, so a decimal counts only when it is exact (``8.5`` for
17/2; ``56.67`` is not 170/3). The answer must be one number written as a number: arithmetic
still to do (``360/6``, ``4*3 + 2``), an unreduced fraction, a mixed number or a percentage
scores 0. The answer is never a number written in the story, nor the example 12.

Difficulty: 1 = one operation; 2 = two operations; 3 = three or more steps with fractions,
percentages or an unknown to solve for. The story template is drawn first, so for one seed the
three levels pose the same kind of story with one more step each (``steps`` grows with the level).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from thinkgym.envs.levels import TaskConfig
from thinkgym.envs.math.common import pick, read_number
from thinkgym.envs.registry import register_task
from thinkgym.rewards.verdict import Verdict

NAMES = ("Mia", "Leo", "Ava", "Noah", "Zoe", "Omar", "Lena", "Ravi", "Sara", "Tom")
ITEMS = ("notebook", "pencil", "apple", "ticket", "sticker", "muffin", "marble", "book")

Story = tuple[str, Fraction, tuple[str, ...]]  # text with the question, answer, solution steps


@dataclass(frozen=True)
class WordProblemConfig(TaskConfig):
    """Each level adds one step of work to the same story."""


@dataclass(frozen=True)
class WordProblem:
    prompt: str
    answer: str
    value: Fraction
    steps: tuple[str, ...]


def _r(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high + 1))


def _shopping(rng: np.random.Generator, d: int) -> Story:
    name, item, n, price = pick(rng, NAMES), pick(rng, ITEMS), _r(rng, 2, 9), _r(rng, 2, 12)
    cost = n * price
    if d == 1:
        return (f"{name} buys {n} {item}s at ${price} each. How many dollars does {name} spend?", Fraction(cost),
                (f"{n} * {price} = {cost}",))
    bill = (cost // 10 + 1) * 10 + 10 * _r(rng, 0, 2)
    if d == 2:
        return (f"{name} buys {n} {item}s at ${price} each and pays with a ${bill} bill. "
                f"How many dollars of change does {name} get?", Fraction(bill - cost),
                (f"cost = {n} * {price} = {cost}", f"change = {bill} - {cost} = {bill - cost}"))
    off = pick(rng, [10, 20, 25, 50])
    paid = Fraction(cost) * (100 - off) / 100
    return (f"{name} buys {n} {item}s at ${price} each with a {off}% discount on the total and pays with a "
            f"${bill} bill. How many dollars of change does {name} get?", bill - paid,
            (f"cost = {n} * {price} = {cost}", f"after the discount: {cost} * {100 - off}/100 = {_show(paid)}",
             f"change = {bill} - {_show(paid)} = {_show(bill - paid)}"))


def _travel(rng: np.random.Generator, d: int) -> Story:
    speed, hours = _r(rng, 3, 12) * 10, _r(rng, 2, 6)
    if d == 1:
        return (f"A train travels at {speed} km per hour for {hours} hours. How many km does it travel?",
                Fraction(speed * hours), (f"{speed} * {hours} = {speed * hours}",))
    if d == 2:
        more = _r(rng, 2, 5)
        return (f"A car covers {speed * hours} km in {hours} hours. At the same speed, how many km does it "
                f"cover in {more} hours?", Fraction(speed * more),
                (f"speed = {speed * hours} / {hours} = {speed}", f"{speed} * {more} = {speed * more}"))
    s2, h2 = _r(rng, 3, 12) * 10, _r(rng, 1, 4)
    total, time = speed * hours + s2 * h2, hours + h2
    return (f"A cyclist rides {hours} hours at {speed} km/h and then {h2} hours at {s2} km/h. "
            f"What is the average speed for the whole trip in km/h?", Fraction(total, time),
            (f"distance = {speed} * {hours} + {s2} * {h2} = {total}", f"time = {hours} + {h2} = {time}",
             f"average = {total} / {time} = {_show(Fraction(total, time))}"))


def _sharing(rng: np.random.Generator, d: int) -> Story:
    people, each = _r(rng, 2, 8), _r(rng, 2, 12)
    if d == 1:
        return (f"{people * each} candies are shared equally among {people} children. How many candies does "
                f"each child get?", Fraction(each), (f"{people * each} / {people} = {each}",))
    kept = _r(rng, 1, 20)
    if d == 2:
        total = people * each + kept
        return (f"{pick(rng, NAMES)} has {total} candies, keeps {kept} and shares the rest equally among "
                f"{people} friends. How many candies does each friend get?", Fraction(each),
                (f"{total} - {kept} = {total - kept}", f"{total - kept} / {people} = {each}"))
    frac = pick(rng, [Fraction(1, 2), Fraction(1, 3), Fraction(1, 4), Fraction(2, 3)])
    share = (1 - frac).numerator * _r(rng, 1, 4)  # each friend's candies: the bag is then whole
    rest = people * share
    total = rest / (1 - frac)
    return (f"{pick(rng, NAMES)} gives away {frac} of a bag of candies and shares the rest equally among "
            f"{people} friends, who get {share} candies each. How many candies were in the bag at the start?", total,
            (f"the rest: {people} * {share} = {rest}", f"the rest is 1 - {frac} = {1 - frac} of the bag",
             f"bag = {rest} / ({1 - frac}) = {_show(total)}"))


def _ages(rng: np.random.Generator, d: int) -> Story:
    a, b = pick(rng, NAMES[:5]), pick(rng, NAMES[5:])
    young, gap = _r(rng, 3, 30), _r(rng, 2, 25)
    if d == 1:
        return (f"{b} is {young} years old and {a} is {gap} years older. How old is {a}?", Fraction(young + gap),
                (f"{young} + {gap} = {young + gap}",))
    later = _r(rng, 2, 10)
    if d == 2:
        total = 2 * young + gap + 2 * later
        steps = (f"in {later} years: (y + {later}) + (y + {gap} + {later}) = {total}",
                 f"2y = {total} - {gap} - {2 * later} = {2 * young}", f"y = {young}")
        return (f"{a} is {gap} years older than {b}. In {later} years the sum of their ages will be {total}. "
                f"How old is {b} now?", Fraction(young), steps)
    times = _r(rng, 2, 4)
    total = (times + 1) * young + 2 * later
    steps = (f"in {later} years: ({times}y + {later}) + (y + {later}) = {total}",
             f"{times + 1}y = {total} - {2 * later} = {(times + 1) * young}", f"y = {young}",
             f"{a} is {times} * {young} = {times * young}")
    return (f"{a} is {times} times as old as {b}. In {later} years the sum of their ages will be {total}. "
            f"How old is {a} now?", Fraction(times * young), steps)


def _geometry(rng: np.random.Generator, d: int) -> Story:
    w, h = _r(rng, 2, 15), _r(rng, 2, 15)
    if d == 1:
        return (f"A rectangle is {w} m wide and {h} m long. What is its area in square meters?", Fraction(w * h),
                (f"{w} * {h} = {w * h}",))
    if d == 2:
        return (f"A rectangle has a perimeter of {2 * (w + h)} m and a width of {w} m. What is its area in "
                f"square meters?", Fraction(w * h),
                (f"length = {2 * (w + h)} / 2 - {w} = {h}", f"area = {w} * {h} = {w * h}"))
    tile = pick(rng, [Fraction(1, 2), Fraction(1, 4)])
    tiles = Fraction(w * h) / (tile * tile)
    return (f"A floor is {w} m by {h} m. How many square tiles of side {tile} m are needed to cover it?", tiles,
            (f"floor area = {w * h}", f"tile area = {tile * tile}", f"{w * h} / {tile * tile} = {_show(tiles)}"))


def _percent(rng: np.random.Generator, d: int) -> Story:
    price, up = _r(rng, 2, 40) * 10, pick(rng, [10, 20, 25, 50])
    if d == 1:
        return (f"A jacket costs ${price}. What is {up}% of its price in dollars?", Fraction(price * up, 100),
                (f"{price} * {up}/100 = {_show(Fraction(price * up, 100))}",))
    rise = Fraction(price * up, 100)
    raised = price + rise
    steps = (f"the rise: {price} * {up}/100 = {_show(rise)}", f"after the rise: {price} + {_show(rise)} = {_show(raised)}")
    if d == 2:
        return (f"A jacket costs ${price}; the price rises by {up}%. What is the new price in dollars?", raised, steps)
    down = pick(rng, [10, 20, 25, 50])
    final = raised * (100 - down) / 100
    return (f"A jacket costs ${price}. The price rises by {up}% and then falls by {down}%. What is the final "
            f"price in dollars?", final,
            steps + (f"after the fall: {_show(raised)} * {100 - down}/100 = {_show(final)}",))


STORIES: tuple[Callable[[np.random.Generator, int], Story], ...] = (_shopping, _travel, _sharing, _ages, _geometry, _percent)


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


EXAMPLE = Fraction(12)  # the answer shown in the prompt's format line
_NUMBER = re.compile(r"\d+(?:/\d+)?")


def generate(rng: np.random.Generator, config: WordProblemConfig) -> WordProblem:
    """The story template is drawn first, so one seed poses the same story at every level, one
    more step of work a level. Draws are repeated until the answer is neither a number written
    in the story nor the format example, so copying a number from the prompt never scores."""
    story = pick(rng, STORIES)
    while True:
        text, value, steps = story(rng, config.difficulty)
        if value != EXAMPLE and value not in {Fraction(n) for n in _NUMBER.findall(text)}:
            break
    prompt = (f"{text}\nAnswer with the exact number: an integer, a fraction like 7/2, or a decimal only if it is "
              "exact (not rounded), e.g. <answer>12</answer>.")
    return WordProblem(prompt, _show(value), value, steps)


def verify(problem: WordProblem, answer: str) -> Verdict:
    value = read_number(answer)
    canonical = _show(value)
    if value == problem.value:
        return Verdict(1.0, canonical=canonical)
    return Verdict(0.0, "wrong value", canonical)


def explain(problem: WordProblem) -> str:
    return "\n".join(list(problem.steps) + [f"The answer is {problem.answer}."])


WordProblemEnv = register_task(
    "thinkgym/WordProblem-v0", family="math", config=WordProblemConfig, generate=generate, verify=verify,
    explain=explain, boxed_fallback=True,
)
