"""Training curves of a run, from its JSON-lines log, as PNG files.

The trainer writes one JSON object per step to ``RUN_DIR/log.jsonl``. Nested objects are
flattened to ``"a/b"`` keys (``{"reward": {"thinkgym/Arithmetic-v0": 0.5}}`` becomes
``"reward/thinkgym/Arithmetic-v0"``), and every numeric series is put in the chart whose pattern
its key matches first: reward, accuracy, divergence (KL), completion length, curriculum level,
then everything else numeric in one overview. The x axis is the ``step`` field (the line number
when a line has none).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

LOG_NAME = "log.jsonl"

CHARTS: tuple[tuple[str, str, str], ...] = (
    ("reward.png", "reward", r"reward|return"),
    ("accuracy.png", "accuracy / success", r"acc|correct|success|solve"),
    ("divergence.png", "divergence to the reference policy", r"(^|/|_)kl($|/|_)|divergence"),
    ("length.png", "completion length (tokens)", r"len|tokens(?!_per)"),
    ("curriculum.png", "curriculum level", r"level|difficulty|curriculum"),
)
"""(file name, title, regex on the lower-cased flattened key); the first match wins."""
SKIP = re.compile(r"^(step|time|timestamp|epoch|wall)$")


def flatten(obj: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """The numeric leaves of ``obj`` as ``("a/b", value)`` pairs (booleans and NaN skipped)."""
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, name + "/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            yield name, float(value)


def read_log(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The step records of a run (``RUN_DIR/log.jsonl``, or a log file given directly)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / LOG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no training log at {path} (is it a `thinkgym train` run directory?)")
    records = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                continue  # a last line cut short by a kill
            raise ValueError(f"{path}:{number}: not a JSON line") from None
        if isinstance(record, dict):
            records.append(record)
    if not records:
        raise ValueError(f"{path} holds no step records yet")
    return records


def series(records: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Every numeric key of the log as ``(steps, values)``."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for index, record in enumerate(records):
        step = record.get("step", index)
        step = float(step) if isinstance(step, (int, float)) else float(index)
        for key, value in flatten(record):
            if SKIP.match(key):
                continue
            xs, ys = out.setdefault(key, ([], []))
            xs.append(step)
            ys.append(value)
    return out


def group_series(all_series: Mapping[str, Any]) -> dict[str, list[str]]:
    """Chart file name -> the keys drawn in it; unmatched keys go to ``other.png``."""
    groups: dict[str, list[str]] = {}
    for key in all_series:
        target = next((name for name, _, pattern in CHARTS if re.search(pattern, key.lower())), "other.png")
        groups.setdefault(target, []).append(key)
    return groups


def plot_run(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> list[Path]:
    """Draw the run's curves into ``out_dir`` (default ``RUN_DIR/plots``); returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_series = series(read_log(run_dir))
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "plots"
    out.mkdir(parents=True, exist_ok=True)
    titles = {name: title for name, title, _ in CHARTS} | {"other.png": "other logged values"}
    written = []
    for name, keys in group_series(all_series).items():
        per_panel = 8
        panels = [keys[i : i + per_panel] for i in range(0, len(keys), per_panel)]
        fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 3.2 * len(panels)), squeeze=False)
        for ax, panel in zip(axes[:, 0], panels):
            for key in panel:
                xs, ys = all_series[key]
                ax.plot(xs, ys, label=key, linewidth=1.2, marker="." if len(xs) < 30 else None)
            ax.set_xlabel("step")
            ax.legend(fontsize=7, loc="best")
            ax.grid(alpha=0.3)
        axes[0, 0].set_title(titles[name], fontsize=10)
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return sorted(written)
