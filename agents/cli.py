"""The ``thinkgym`` command line (also ``python -m thinkgym``).

Each sub-command is a module of its own that provides ``add_parser(subparsers)`` and sets
``func`` on its parser; :data:`COMMANDS` lists them, in the order ``--help`` shows them.

Errors (see :mod:`thinkgym.errors`): an error thinkgym raises on purpose (a
:class:`~thinkgym.errors.ThinkgymError`: a bad config, an unknown env id, a malformed data
file, a diverged run), a file the user named that cannot be opened, or a config that is not
valid YAML prints one line and exits with 2; ``--debug`` shows the traceback instead. Anything
else (a bare ``ValueError``, ``KeyError``, ...) is a bug: its traceback is shown, then a line
saying so, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

import yaml

from thinkgym.agents.faults import TrainingStopped
from thinkgym.errors import BUG_REPORT, ThinkgymError, UserError

COMMANDS = [
    "thinkgym.agents.cmd_envs",  # envs, sample, score
    "thinkgym.agents.cmd_train",  # train
    "thinkgym.agents.cmd_sft",  # sft, sample-correct, prune
    "thinkgym.agents.cmd_recipe",  # recipe: cold-start SFT, GRPO, rejection-sampling SFT
    "thinkgym.agents.cmd_eval",  # eval, compare, plot
    "thinkgym.agents.cmd_run",  # run: evaluate, train, evaluate, report (make train)
    "thinkgym.agents.cmd_export",  # export
]
"""Modules that each add one or more sub-commands."""


class CLIError(UserError):
    """A bad command-line argument; reported in one line, without a traceback."""


USER_ERRORS = (ThinkgymError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, yaml.YAMLError)
"""What :func:`main` reports in one line (exit 2): thinkgym's own errors, a path the user gave
that cannot be read, a YAML config that does not parse."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thinkgym", description="Reasoning envs with verifiable rewards, and a GRPO agent.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`thinkgym envs | head`): not a bug, stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it
    except TrainingStopped as stopped:  # SIGINT/SIGTERM during training (run, recipe): checkpoint written
        print(f"thinkgym {args.command}: {stopped}", file=sys.stderr)
        return stopped.exit_code
    except USER_ERRORS as err:
        if args.debug:
            raise
        if isinstance(err, yaml.YAMLError):
            from thinkgym.agents.config import yaml_error_text

            err = CLIError(f"not valid YAML: {yaml_error_text(err)}")
        print(f"thinkgym {args.command}: error: {err}", file=sys.stderr)
        return 2
    except Exception:  # a bug: show where it happened
        traceback.print_exc()
        print(f"thinkgym {args.command}: {BUG_REPORT}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
