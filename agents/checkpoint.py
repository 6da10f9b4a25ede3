"""Checkpoints of a training run, written so that a kill at any moment leaves the last complete
one intact.

Layout of a run directory::

    RUN_DIR/
      config.yaml               the resolved training config
      log.jsonl                 one JSON line per step
      samples.jsonl             sampled completions
      checkpoints/
        step-000010/
          model/                save_pretrained format (config, safetensors, tokenizer)
          adapter/              LoRA adapters, when training with LoRA (model/ is then merged)
          trainer_state.pt      optimizer, scheduler, RNG states, step, sampler, curriculum
          DONE                  written last, inside the temporary directory

A checkpoint is written into ``checkpoints/.tmp-step-000010`` and renamed when complete; only
directories named ``step-*`` are ever read.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thinkgym.errors import UserError

CHECKPOINTS = "checkpoints"
_STEP_RE = re.compile(r"^step-(\d+)$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    """The complete checkpoints of a run, oldest first."""
    root = Path(run_dir) / CHECKPOINTS
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _STEP_RE.match(p.name)) and (p / "DONE").is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: str | os.PathLike[str]) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def model_dir_of(path: str | os.PathLike[str]) -> Path:
    """The model directory inside a model, checkpoint or run directory."""
    path = Path(path).expanduser()
    if (path / "config.json").is_file():
        return path
    if (path / "model" / "config.json").is_file():
        return path / "model"
    latest = latest_checkpoint(path)
    if latest is not None:
        return latest / "model"
    if (path / CHECKPOINTS).is_dir():
        raise UserError(f"run directory {str(path)!r} has no complete checkpoint yet")
    raise UserError(f"{str(path)!r} is not a model directory (no config.json), a checkpoint or a run directory")


def save_model(folder: Path, model: Any, tokenizer: Any, *, lora: bool) -> None:
    """Write ``folder/model`` in ``save_pretrained`` format (with the tokenizer); with LoRA also
    ``folder/adapter``, and ``model`` holds the adapters merged into the base weights."""
    if lora:
        model.save_pretrained(folder / "adapter")
        copy.deepcopy(model).merge_and_unload().save_pretrained(folder / "model")
    else:
        model.save_pretrained(folder / "model")
    tokenizer.save_pretrained(folder / "model")


def write_checkpoint(run_dir: str | os.PathLike[str], step: int, write: Callable[[Path], None], keep: int) -> Path:
    """Call ``write(tmp_dir)`` to fill a temporary directory, mark it complete, rename it to
    ``step-NNNNNN`` and delete all but the newest ``keep`` checkpoints (``keep <= 0``: keep all)."""
    root = Path(run_dir) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    final = root / checkpoint_name(step)
    tmp = root / f".tmp-{checkpoint_name(step)}"
    for stale in root.glob(".tmp-*"):  # left by a run killed while writing
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir()
    write(tmp)
    (tmp / "DONE").write_text(f"{step}\n")
    if final.exists():  # re-saving the same step (e.g. the final checkpoint after a periodic one)
        shutil.rmtree(final)
    os.rename(tmp, final)
    if keep > 0:
        for old in list_checkpoints(run_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final
