"""The one episode engine: one Episode type, one loop, one success key for training,
evaluation and rejection sampling."""

from __future__ import annotations

import itertools

import pytest

import thinkgym
from thinkgym.agents import evaluate, rejection, rollout
from thinkgym.agents.config import config_from_dict
from thinkgym.agents.episodes import Episode, play
from thinkgym.agents.trainer import episode_record
from thinkgym.splits import ProblemRef

MASTERMIND = "thinkgym/Mastermind-v0"
SECRET = "ABC"  # difficulty 1: 3 pegs over 4 letters


def _exact_pegs(guess: str, secret: str) -> int:
    return sum(g == s for g, s in zip(guess, secret))


def _wrong_guesses(secret: str, letters: str, count: int) -> list[str]:
    """``count`` guesses that are not the secret (checked here by comparing letters)."""
    wrong = ["".join(c) for c in itertools.product(letters, repeat=len(secret)) if _exact_pegs("".join(c), secret) < len(secret)]
    return wrong[:count]


def _mastermind_episode(wrong: int) -> tuple[Episode, float]:
    """A Mastermind episode that guesses ``wrong`` wrong codes, then the secret; played by the
    engine with a scripted sampler. Returns it and the env's budget."""
    env = thinkgym.make(MASTERMIND, difficulty=1, disable_env_checker=True)
    prompt, info = env.reset(seed=0, options={"secret": SECRET, "letters": "ABCD"})
    limit = env.unwrapped.problem.budget
    script = iter(_wrong_guesses(SECRET, "ABCD", wrong) + [SECRET])
    episode = Episode(ProblemRef(MASTERMIND, 0, 1, prompt, info["answer"]), [{"role": "user", "content": prompt}], env=env,
                      max_turns=info["max_turns"], multi_turn=True)

    def sampler(conversations, *, greedy, seed):
        return [(f"<answer>{next(script)}</answer>", 2) for _ in conversations]

    play([episode], sampler, batch_size=1, seed=0)
    env.close()
    return episode, limit


def test_mastermind_found_after_the_budget_is_a_failure_everywhere():
    within, limit = _mastermind_episode(wrong=1)
    assert within.correctness == 1.0 and within.correct and within.info["correct"] is True
    late, _ = _mastermind_episode(wrong=limit)  # found on guess limit + 1: pays 1 - 0.1
    assert len(late.texts) == limit + 1
    assert late.correctness == pytest.approx(0.9) and late.info.get("solved") is True
    assert late.info["correct"] is False and not late.correct
    # Evaluation's record and the training statistics (the curriculum's input) read the same key.
    config = config_from_dict({"mix": [{"id": MASTERMIND}]})
    assert late.record()["correct"] is False and episode_record(late, config)["success"] is False
    assert within.record()["correct"] is True and episode_record(within, config)["success"] is True


def test_multi_turn_env_sets_correct_false_until_the_episode_ends():
    env = thinkgym.make(MASTERMIND, difficulty=1, disable_env_checker=True)
    env.reset(seed=0, options={"secret": SECRET, "letters": "ABCD"})
    (guess,) = _wrong_guesses(SECRET, "ABCD", 1)
    *_, info = env.step(f"<answer>{guess}</answer>")
    assert info["correct"] is False
    *_, info = env.step("no answer at all")
    assert info["correct"] is False
    _, reward, terminated, _, info = env.step(f"<answer>{SECRET}</answer>")
    assert terminated and reward == 1.0 and info["correct"] is True
    env.close()


def test_training_evaluation_and_rejection_share_one_episode_type_and_loop():
    assert rollout.Episode is Episode and evaluate.Episode is Episode and rejection.Episode is Episode
    assert rollout.play is play and evaluate.play is play and rejection.play is play
    episodes, envs = evaluate._episodes(evaluate.EvalTask("thinkgym/Arithmetic-v0", (1,)), n=2, samples=1, seed=0, system_prompt=None)
    assert all(type(e) is Episode for e in episodes)
    for env in envs:
        env.close()


def test_rejection_keeps_exactly_the_completions_the_env_marks_correct():
    env = thinkgym.make("thinkgym/Arithmetic-v0", disable_env_checker=True)
    prompt, info = env.reset(seed=5)
    env.close()
    ref = ProblemRef("thinkgym/Arithmetic-v0", 5, 1, prompt, info["answer"])
    wrong = str(int(info["answer"]) + 1)  # a different integer: wrong by construction

    def sampler(conversations, *, greedy, seed):
        return [(f"<think>x</think><answer>{a}</answer>", 3) for a, _ in zip(itertools.cycle([info["answer"], wrong]), conversations)]

    (scored,) = rejection.sample_and_verify(sampler, [ref], k=4, system_prompt=None, batch_size=4)
    assert [f"<answer>{info['answer']}</answer>" in t for t in scored.texts] == scored.correct
    assert sum(scored.correct) == 2 and scored.solve_rate == 0.5
