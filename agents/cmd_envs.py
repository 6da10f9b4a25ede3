"""``thinkgym envs``, ``thinkgym sample`` and ``thinkgym score``: look at the registered envs."""

from __future__ import annotations

import argparse

import thinkgym
from thinkgym.envs.registry import env_info, families
from thinkgym.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("envs", help="list the registered envs")
    p.add_argument("--family", help="only this family")
    p.set_defaults(func=cmd_envs)

    p = sub.add_parser("sample", help="print a problem's prompt and reference answer")
    p.add_argument("env_id")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--difficulty", type=int, default=1)
    p.add_argument("--explain", action="store_true", help="also print the worked solution, when the task has one")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("score", help="score an answer (or a whole completion) for one problem")
    p.add_argument("env_id")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--difficulty", type=int, default=1)
    p.add_argument("--answer", required=True, help="the answer text, or a completion with <answer> tags")
    p.set_defaults(func=cmd_score)


def cmd_envs(args: argparse.Namespace) -> int:
    if args.family and args.family not in families():
        raise UserError(f"unknown family {args.family!r}; families: {', '.join(families())}")
    rows = [("id", "family", "levels", "turns", "needs")]
    for env_id in thinkgym.list_envs(args.family):
        info = env_info(env_id)
        rows.append((env_id, info.family, f"1-{info.max_difficulty}", info.turns, ", ".join(info.requires) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def _reset(args: argparse.Namespace):
    env = thinkgym.make(args.env_id, difficulty=args.difficulty)
    prompt, info = env.reset(seed=args.seed)
    return env, prompt, info


def cmd_sample(args: argparse.Namespace) -> int:
    env, prompt, info = _reset(args)
    print(prompt)
    print(f"\nreference answer: {info['answer']}")
    if args.explain:
        try:
            print(f"\nworked solution:\n{env.unwrapped.explain()}")
        except (NotImplementedError, AttributeError):
            print("\n(this task has no worked solution)")
    env.close()
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    env, _, _ = _reset(args)
    completion = args.answer if "<answer>" in args.answer.lower() else f"<answer>{args.answer}</answer>"
    _, reward, _, _, info = env.step(completion)
    print(f"reward: {reward:g}")
    if info.get("reason"):
        print(f"reason: {info['reason']}")
    env.close()
    return 0
