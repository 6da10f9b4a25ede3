"""thinkgym's exception hierarchy.

Two kinds of failure, told apart by type, not by message:

* a :class:`ThinkgymError` is raised on purpose and its message is meant for the user: the
  command line prints it in one line and exits with status 2. Most are a :class:`UserError`,
  input that cannot be used (a bad config value, an unknown env id, a missing or malformed data
  file, a model without a chat template); the message says what is wrong and, where it can, what
  to do instead. A ``UserError`` is a ``ValueError``, so callers that catch ``ValueError`` keep
  working.
* anything else is a bug (or a failure of the machine, such as running out of memory): the
  command line shows the traceback and says that it is a bug. A bare ``ValueError`` or
  ``KeyError`` from deep inside the code is no longer taken for bad input.

The classes::

    ThinkgymError
    ├── UserError (ValueError)
    │   ├── UnknownEnvError          envs.registry        env id not registered (did-you-mean)
    │   ├── MixError                 thinkgym.mix         an env mix that cannot be used
    │   ├── ConfigError              agents.config        a GRPO / SFT / recipe config
    │   ├── CLIError                 agents.cli           a bad command-line argument
    │   ├── MultiTurnNotSupported    thinkgym.scoring     a single completion for a multi-turn env
    │   ├── NoExplainError           agents.sft_data      an env without worked solutions
    │   ├── PuzzleFileError          envs.chess.lichess   a Lichess puzzle CSV
    │   ├── DataFileError            (here)               a JSON / JSONL / CSV input file
    │   └── StockfishNotFound        envs.chess.engine    (also a FileNotFoundError)
    └── TrainingDiverged (RuntimeError)   agents.faults   too many non-finite updates in a row

Not errors of this kind: ``InvalidAnswer`` (``rewards.verdict``) is how a parser tells the
scorer that a model's answer does not read; it is caught inside scoring and never reaches a
user. ``TrainingStopped`` (``agents.faults``) is the orderly end of a run stopped by a signal
(exit status 128 + the signal).
"""

from __future__ import annotations

BUG_REPORT = "this is a bug in thinkgym, not in your input: please report it to the maintainers with the traceback above"
"""The line the command line prints after the traceback of an unexpected exception."""


class ThinkgymError(Exception):
    """An error raised on purpose, whose message (one line) is for the user."""


class UserError(ThinkgymError, ValueError):
    """Input that cannot be used; the message is one line that says what is wrong.

    The command line reports it without a traceback (exit status 2). Raise it (or a subclass)
    where user input is read: configs, env ids and options, data files, command-line values.
    """


class DataFileError(UserError):
    """An input data file (JSON, JSONL, CSV) that does not read; the message names the file
    and, where known, the line."""
