"""Training curves of a run, from its JSON-lines log, as PNG files.

The trainer writes one JSON object per step to ``RUN_DIR/log.jsonl``. Nested objects are
flattened to ``"a/b"`` keys, and a key that holds an env id is a per-env series of the metric
the rest of the key names: ``{"envs": {"thinkgym/Arithmetic-v0": {"reward": 0.5}}}`` is the
``reward`` of ``Arithmetic``, ``{"reward": 0.4}`` the ``reward`` of ``all``. Each chart of
:data:`CHARTS` draws the metrics its pattern matches first (one panel per metric, one line per
env); the remaining numeric metrics go to ``other.png``. The x axis is the ``step`` field (the
line number when a line has none); long noisy series are drawn faintly with a moving average.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from thinkgym.errors import DataFileError

LOG_NAME = "log.jsonl"

CHARTS: tuple[tuple[str, str, str], ...] = (
    ("reward.png", "reward", r"reward|return"),
    ("accuracy.png", "accuracy / success", r"acc|correct|success|solve"),
    ("divergence.png", "divergence to the reference policy", r"(^|_)kl($|_)|divergence"),
    ("length.png", "completion length (tokens)", r"len|tokens(?!_per)"),
    ("curriculum.png", "curriculum level", r"level|difficulty|curriculum"),
)
"""(file name, title, regex on the lower-cased metric name); the first match wins."""
SKIP = re.compile(r"^(step|time|timestamp|epoch|wall)$")
ENV_ID = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.]+-v\d+")
ALL = "all"


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
            raise DataFileError(f"{path}:{number}: not a JSON line") from None
        if isinstance(record, dict):
            records.append(record)
    if not records:
        raise DataFileError(f"{path} holds no step records yet")
    return records


def split_key(key: str) -> tuple[str, str]:
    """``(metric, label)`` of a flattened key: the env's short name when it holds an env id."""
    match = ENV_ID.search(key)
    if match is None:
        return key, ALL
    label = match.group(0).split("/")[-1].rsplit("-v", 1)[0]
    parts = [p for p in (key[: match.start()] + key[match.end() :]).split("/") if p and p not in ("envs", "env")]
    return "/".join(parts) or "value", label


def series(records: list[dict[str, Any]]) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
    """Every numeric metric of the log: metric -> label -> ``(steps, values)``."""
    out: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for index, record in enumerate(records):
        step = record.get("step", index)
        step = float(step) if isinstance(step, (int, float)) and not isinstance(step, bool) else float(index)
        for key, value in flatten(record):
            if SKIP.match(key):
                continue
            metric, label = split_key(key)
            xs, ys = out.setdefault(metric, {}).setdefault(label, ([], []))
            xs.append(step)
            ys.append(value)
    return out


def group_metrics(metrics: Iterator[str] | list[str]) -> dict[str, list[str]]:
    """Chart file name -> the metrics drawn in it; unmatched metrics go to ``other.png``."""
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        target = next((name for name, _, pattern in CHARTS if re.search(pattern, metric.lower())), "other.png")
        groups.setdefault(target, []).append(metric)
    return groups


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over up to ``window`` values (shorter at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


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
    for name, metrics in group_metrics(sorted(all_series)).items():
        cols = min(2, len(metrics))
        rows = math.ceil(len(metrics) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.0 * rows + 0.4), squeeze=False)
        for ax, metric in zip(axes.flat, metrics):
            for label, (xs, ys) in sorted(all_series[metric].items(), key=lambda item: item[0] != ALL):
                style = {"color": "black", "linewidth": 2.0} if label == ALL else {"linewidth": 1.2}
                if len(ys) > 25:
                    line = ax.plot(xs, ys, alpha=0.25, **style)[0]
                    ax.plot(xs, moving_average(ys, max(2, len(ys) // 20)), label=label, color=line.get_color(), linewidth=style["linewidth"])
                else:
                    ax.plot(xs, ys, label=label, marker=".", **style)
            ax.set_title(metric, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="best")
        for ax in list(axes.flat)[len(metrics) :]:
            ax.set_visible(False)
        fig.suptitle(titles[name], fontsize=10)
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return sorted(written)
