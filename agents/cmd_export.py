"""``thinkgym export``: write problems as a dataset file (JSON lines or Parquet) for other trainers.

Rows are those of :func:`thinkgym.datasets.build`: ``prompt`` (chat messages), ``env_id``,
``seed``, ``difficulty``, ``answer``. ``ENV`` is an env id, optionally with a weight
(``thinkgym/Arithmetic-v0:2``), or one YAML file with a ``mix:`` entry (a training config).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from thinkgym.errors import UserError

if TYPE_CHECKING:
    from thinkgym.mix import Mix

FORMATS = {".jsonl": "jsonl", ".parquet": "parquet"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write problems to a .jsonl or .parquet dataset file")
    p.add_argument("envs", nargs="+", metavar="ENV", help="env id[:weight], or a training config (YAML) with a 'mix:' entry")
    p.add_argument("--n", type=int, required=True, help="number of problems")
    p.add_argument("--split", choices=["train", "eval"], default="train", help="train, or the held-out eval problems")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--difficulty", type=int, help="level of every env (default: the mix entry's, else 1)")
    p.add_argument("--out", type=Path, required=True, help="output file, .jsonl or .parquet")
    p.set_defaults(func=cmd_export)


def parse_mix(specs: list[str]) -> Mix:
    """The mix of the ENV arguments (``["a/X-v0:2", "a/Y-v0"]``, or one YAML path), read by the
    one mix parser, :func:`thinkgym.mix.parse_mix`."""
    from thinkgym.mix import parse_mix as parse

    return parse(specs[0] if len(specs) == 1 and specs[0].endswith((".yaml", ".yml")) else specs)


def cmd_export(args: argparse.Namespace) -> int:
    import datasets  # imported here: the other commands do not need the datasets library

    from thinkgym.datasets import build

    fmt = FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        raise UserError(f"--out must end in {' or '.join(FORMATS)}, got {args.out.name!r}")
    dataset = build(parse_mix(args.envs), args.n, args.split, args.seed, difficulty=args.difficulty)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    datasets.disable_progress_bars()
    if fmt == "jsonl":
        dataset.to_json(str(args.out), lines=True)
    else:
        dataset.to_parquet(str(args.out))
    print(f"wrote {len(dataset)} {args.split} problems to {args.out}")
    return 0
