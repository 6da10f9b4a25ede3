"""Multi-turn envs as TRL ``environment_factory`` tool environments: the factory and dataset,
each tool against an independent check (networkx for paths, python-chess for moves, the secret
for codes), and a real ``GRPOTrainer`` step on a tiny model with a tool-capable chat template,
whose rollouts call ``reset``, the tools and ``get_reward`` and whose reward reaches TRL's logs."""

from __future__ import annotations

import inspect
import re

import chess
import networkx as nx
import pytest

import thinkgym
from thinkgym.errors import UserError
from thinkgym.integrations.trl import (
    ForcedMateEnvironment,
    GraphExploreEnvironment,
    MastermindEnvironment,
    environment_dataset,
    environment_factory,
)

EXPLORE, MASTERMIND, MATE = "thinkgym/GraphExplore-v0", "thinkgym/Mastermind-v0", "thinkgym/ForcedMate-v0"


def _row(env_id, index=0):
    return environment_dataset({env_id: 1}, index + 1)[index]


def _bfs_action(text):
    """The next tool call of a breadth-first explorer reading the conversation ``text``:
    ``("neighbors", node)`` or ``("answer", path)``. Querying in BFS order makes the first path
    found to the goal a shortest one."""
    source, target = re.search(r"Find a shortest path from ([A-Z]+) to ([A-Z]+)", text).groups()
    known = {u: [v.strip() for v in vs.split(",")] for u, vs in re.findall(r"neighbors\(([A-Z]+)\) = ([A-Z, ]+)", text)}
    parent, queue = {source: None}, [source]
    while queue:
        node = queue.pop(0)
        if node not in known:
            return "neighbors", node
        for nxt in known[node]:
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
                if nxt == target:
                    path = [nxt]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    return "answer", " -> ".join(reversed(path))
    raise AssertionError("the goal is unreachable")


# -- the factory and the dataset ---------------------------------------------------------------
def test_factory_single_and_mix():
    assert environment_factory({MASTERMIND: 1}) is MastermindEnvironment
    assert environment_factory([EXPLORE, MASTERMIND, MATE]) == {
        EXPLORE: GraphExploreEnvironment, MASTERMIND: MastermindEnvironment, MATE: ForcedMateEnvironment}
    a, b = MastermindEnvironment(), MastermindEnvironment()
    assert a is not b  # one instance per rollout


def test_single_turn_envs_are_refused():
    with pytest.raises(UserError, match="thinkgym/Arithmetic-v0 has no tool environment.*reward_funcs"):
        environment_factory({"thinkgym/Arithmetic-v0": 1, MASTERMIND: 1})


def test_dataset_rows_name_their_problem_and_environment():
    rows = environment_dataset({EXPLORE: 1, MASTERMIND: 1}, 4)
    assert set(rows.column_names) >= {"prompt", "env_id", "seed", "difficulty", "environment"}
    assert sorted(rows["environment"]) == [EXPLORE, EXPLORE, MASTERMIND, MASTERMIND] and rows["environment"] == rows["env_id"]
    for row in rows:
        assert [m["role"] for m in row["prompt"]] == ["user"]  # no R1 system prompt: the tools replace answer blocks
        env = thinkgym.make(row["env_id"], difficulty=row["difficulty"])
        assert row["prompt"][0]["content"] == env.reset(seed=row["seed"])[0]


def test_tools_are_typed_and_documented():
    from transformers.utils import get_json_schema

    expected = {GraphExploreEnvironment: {"neighbors": "node", "answer": "path"}, MastermindEnvironment: {"guess": "code"},
                ForcedMateEnvironment: {"move": "san"}}
    for cls, tools in expected.items():
        public = {name for name, _ in inspect.getmembers(cls, predicate=inspect.isfunction) if not name.startswith("_")}
        assert public == {"reset", "get_reward", *tools}  # TRL exposes every other public method as a tool
        for name, arg in tools.items():
            schema = get_json_schema(getattr(cls, name))["function"]
            assert schema["parameters"]["properties"][arg]["type"] == "string" and schema["parameters"]["required"] == [arg]
            assert schema["description"] and schema["parameters"]["properties"][arg]["description"]


def test_reset_needs_the_rows_problem():
    env = MastermindEnvironment()
    with pytest.raises(UserError, match="needs the row's 'seed'"):
        env.reset()
    with pytest.raises(UserError, match="plays thinkgym/Mastermind-v0, but the row is a thinkgym/GraphExplore-v0"):
        env.reset(env_id=EXPLORE, seed=1, difficulty=1)


# -- each env, checked independently -----------------------------------------------------------
def test_graph_explore_shortest_path_scores_one():
    row = _row(EXPLORE)
    env = GraphExploreEnvironment()
    text = row["prompt"][0]["content"] + env.reset(**row)
    assert "neighbors(node)" in text and "answer(path)" in text
    while not env.done:
        tool, arg = _bfs_action(text)
        text += "\n" + getattr(env, tool)(arg)
    problem = env._env.unwrapped.problem
    path = arg.split(" -> ")
    assert tool == "answer" and nx.is_path(problem.graph, path)
    assert len(path) - 1 == nx.shortest_path_length(problem.graph, problem.source, problem.target)
    assert env.get_reward() == 1.0 and env.solved
    assert env.neighbors(path[0]) == "The game is over; further calls change nothing." and env.get_reward() == 1.0


def test_graph_explore_invalid_path_scores_zero():
    row = _row(EXPLORE, 1)
    env = GraphExploreEnvironment()
    env.reset(**row)
    problem = env._env.unwrapped.problem
    assert not problem.graph.has_edge(problem.source, problem.target)  # checked here, not by the env
    reply = env.answer(f"{problem.source} -> {problem.target}")
    assert env.done and env.get_reward() == 0.0 and not env.solved and "Game over" in reply


def test_mastermind_guessing_the_secret_scores_one_and_tags_cannot_smuggle_a_guess():
    row = _row(MASTERMIND)
    env = MastermindEnvironment()
    env.reset(**row)
    secret = env._env.unwrapped.problem.secret
    wrong = "".join("B" if c == "A" else "A" for c in secret)
    assert wrong != secret
    env.guess(f"{wrong}</answer><answer>{secret}")  # one guess, read as a whole: never the secret
    assert env.get_reward() == 0.0 and not env.done and env.turns == 1
    env.guess(wrong)
    assert env.get_reward() == 0.0 and not env.done
    reply = env.guess(secret.lower())
    assert env.done and env.solved and env.get_reward() == 1.0 and "The game is over" in reply


def test_forced_mate_illegal_move_scores_zero():
    row = _row(MATE)
    env = ForcedMateEnvironment()
    env.reset(**row)
    board = chess.Board(env._env.unwrapped.problem.fen)
    king = board.king(not board.turn)  # the defender's king: no attacker move lands on it
    illegal = chess.square_name(king)
    assert not any(m.to_square == king for m in board.legal_moves)
    env.move(f"Q{illegal}")
    assert env.done and env.get_reward() == 0.0 and not env.solved


def test_forced_mate_mating_line_scores_one():
    """Mate in two found by brute force with python-chess, the defence read off a board kept here."""
    row = _row(MATE)
    env = ForcedMateEnvironment()
    env.reset(**row)
    board = chess.Board(env._env.unwrapped.problem.fen)

    def mates_in_one(b):
        for m in b.legal_moves:
            b.push(m)
            mate = b.is_checkmate()
            b.pop()
            if mate:
                return m
        return None

    first = mates_in_one(board)
    if first is None:
        for m in board.legal_moves:
            board.push(m)
            forced = not board.is_game_over() and all(_mate_after(board, r, mates_in_one) for r in list(board.legal_moves))
            board.pop()
            if forced:
                first = m
                break
    assert first is not None
    reply = env.move(board.san(first))
    board.push(first)
    if not board.is_checkmate():
        replies = [r for r in board.legal_moves if board.san(r) in reply or r.uci() in reply]
        assert replies, reply
        board.push(replies[0])
        env.move(board.san(mates_in_one(board)))
    assert env.done and env.solved and env.get_reward() == 1.0


def _mate_after(board, reply, mates_in_one):
    board.push(reply)
    try:
        return mates_in_one(board) is not None
    finally:
        board.pop()


# -- a real TRL GRPOTrainer step ---------------------------------------------------------------
@pytest.mark.slow
def test_grpo_trainer_plays_the_envs_through_tools(tmp_path):
    """A tiny Llama with the Qwen2.5 (tool-calling) chat template, whose sampling is steered by a
    logits processor: GraphExplore rollouts are played by the breadth-first explorer above (so
    the reward is 1.0, checked with networkx), Mastermind rollouts guess once (reward 1.0 only
    for the secret). One GRPO step with a dict factory over both envs."""
    pytest.importorskip("trl")
    import os

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessor, LogitsProcessorList
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    from thinkgym.agents.policy import load_default_tokenizer

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    tokenizer = load_default_tokenizer()
    tokenizer.chat_template = qwen2_5_chat_template
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")

    def next_message(text):
        last = text.rsplit("<|im_start|>assistant", 1)[0]
        if "The game is over" in last.rsplit("<tool_response>", 1)[-1] and "<tool_response>" in last:
            return "done"
        if "Mastermind" in text:
            return '<tool_call>\n{"name": "guess", "arguments": {"code": "AAA"}}\n</tool_call>' if "<tool_response>" not in text else "done"
        tool, arg = _bfs_action(text)
        key = "node" if tool == "neighbors" else "path"
        return '<tool_call>\n{"name": "%s", "arguments": {"%s": "%s"}}\n</tool_call>' % (tool, key, arg)

    class Script(LogitsProcessor):
        """Forces each row's next message, token by token, decided from the row's prompt."""

        def __init__(self):
            self.start, self.targets = None, []

        def __call__(self, input_ids, scores):
            if self.start is None:
                self.start = input_ids.shape[1]
                for row in input_ids:
                    text = tokenizer.decode(row, skip_special_tokens=False)
                    self.targets.append(tokenizer(next_message(text), add_special_tokens=False)["input_ids"] + [end])
            step = input_ids.shape[1] - self.start
            forced = torch.full_like(scores, -float("inf"))
            for r, target in enumerate(self.targets):
                forced[r, target[min(step, len(target) - 1)]] = 0.0
            return forced

    class ScriptedLlama(LlamaForCausalLM):
        def generate(self, *args, **kwargs):
            kwargs["logits_processor"] = LogitsProcessorList([Script()])
            return super().generate(*args, **kwargs)

    calls = {"reset": 0, "tools": 0, "rewards": []}

    def spy(cls):
        class Spy(cls):
            def reset(self, **row):
                calls["reset"] += 1
                self.actions = []
                return super().reset(**row)

            def get_reward(self):
                reward = super().get_reward()
                calls["rewards"].append((type(self).__name__, reward, self))
                return reward

            def _act(self, text):
                calls["tools"] += 1
                self.actions.append(text)
                return super()._act(text)

        Spy.__name__ = Spy.__qualname__ = f"Spy{cls.__name__}"
        return Spy

    mix = {EXPLORE: 1, MASTERMIND: 1}
    factories = {env_id: spy(cls) for env_id, cls in environment_factory(mix).items()}
    dataset = environment_dataset(mix, 2)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1, max_position_embeddings=4096, tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = ScriptedLlama(config)
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, per_device_train_batch_size=4, num_generations=2, max_steps=1, logging_steps=1,
                      report_to="none", max_completion_length=512, save_strategy="no", bf16=False, gradient_checkpointing=False,
                      max_tool_calling_iterations=12, seed=0)
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, environment_factory=factories, train_dataset=dataset, args=args)
    trainer.train()

    logs = next(h for h in trainer.state.log_history if "rewards/SpyGraphExploreEnvironment/mean" in h)
    assert calls["reset"] >= 4 and calls["tools"] >= 4 and logs["tools/call_frequency"] > 0
    explore = [(r, env) for name, r, env in calls["rewards"] if name == "SpyGraphExploreEnvironment"]
    codes = [(r, env) for name, r, env in calls["rewards"] if name == "SpyMastermindEnvironment"]
    assert len(explore) == 2 and len(codes) == 2
    for reward, env in explore:  # the explorer's path, checked with networkx
        problem = env._env.unwrapped.problem
        path = env.actions[-1].removeprefix("path: ").split(" -> ")
        assert nx.is_path(problem.graph, path) and (path[0], path[-1]) == (problem.source, problem.target)
        assert len(path) - 1 == nx.shortest_path_length(problem.graph, problem.source, problem.target)
        assert env.done and reward == 1.0 and env.turns >= 2
    for reward, env in codes:
        assert reward == (1.0 if env._env.unwrapped.problem.secret == "AAA" else 0.0) and env.turns == 1
    assert logs["rewards/SpyGraphExploreEnvironment/mean"] == pytest.approx(1.0)
    assert logs["rewards/SpyMastermindEnvironment/mean"] == pytest.approx(sum(r for r, _ in codes) / 2)
    assert logs["reward"] == pytest.approx((2 * 1.0 + sum(r for r, _ in codes)) / 4)


def test_multiturn_example_defaults_are_tool_envs():
    import importlib.util
    from pathlib import Path

    pytest.importorskip("trl")
    path = Path(__file__).resolve().parents[1] / "examples" / "trl_multiturn.py"
    spec = importlib.util.spec_from_file_location("trl_multiturn", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    args = example.parse_args([])
    assert environment_factory(args.envs) == {EXPLORE: GraphExploreEnvironment, MASTERMIND: MastermindEnvironment, MATE: ForcedMateEnvironment}
