"""Evaluation reports: ``results.json``, a Markdown table, bar charts, and before/after comparisons.

An evaluation directory holds ``results.json`` (shape below), ``results.md``, ``accuracy.png``
(per-task accuracy with 95% error bars), ``completions.jsonl`` (one scored episode a line) and
``settings.json`` (how the evaluation was run)::

    {"model": str,
     "tasks": {env_id: {"accuracy": float, "n": int, "ci95": [lo, hi], "pass@k": {k: float},
                        "maj@k": {k: float}, "mean_reward": float, "format_rate": float,
                        "mean_completion_tokens": float, "multi_turn": bool,
                        "by_difficulty": {level: {...the same metrics...}},
                        "usage": {...}}},   # served models only: requests, cached, prompt_tokens, completion_tokens
     "mean_accuracy": float,
     "usage": {...}}                        # served models only: the totals

Charts are drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from thinkgym.agents.metrics import difference_interval, paired_difference_interval
from thinkgym.errors import DataFileError, UserError

RESULTS_KEYS = ("model", "tasks", "mean_accuracy")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def short_name(env_id: str) -> str:
    """``"thinkgym/ShortestPath-v0"`` -> ``"ShortestPath"``, for table rows and chart labels."""
    return env_id.split("/")[-1].rsplit("-v", 1)[0]


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read ``results.json`` from an evaluation directory (or the file itself) and check its shape."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results.json at {path} (run `thinkgym eval --out DIR` first)")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path}: not valid JSON ({err})") from None
    missing = [k for k in RESULTS_KEYS if k not in results]
    if missing:
        raise DataFileError(f"{path} is not a thinkgym results file: missing {', '.join(missing)}")
    return results


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _ci(ci: Sequence[float]) -> str:
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]"


def markdown_table(results: Mapping[str, Any]) -> str:
    """Per-task table: accuracy with 95% CI, pass@k, maj@k, format rate, mean length (percentages)."""
    tasks = results["tasks"]
    ks = sorted({k for t in tasks.values() for k in t["pass@k"]}, key=int)
    ks = ks if ks != ["1"] else []  # greedy only: pass@1 is the accuracy column
    majs = sorted({k for t in tasks.values() for k in t.get("maj@k", {})}, key=int)
    head = ["task", "n", "accuracy", "95% CI", *(f"pass@{k}" for k in ks), *(f"maj@{k}" for k in majs), "format", "tokens"]
    lines = [f"Model: `{results['model']}`", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for env_id, t in tasks.items():
        label = short_name(env_id) + (" (multi-turn: success; mean return " + _pct(t["mean_return"]) + ")" if t.get("multi_turn") else "")
        row = [label, str(t["n"]), _pct(t["accuracy"]), _ci(t["ci95"])]
        row += [_pct(t["pass@k"][k]) if k in t["pass@k"] else "-" for k in ks]
        row += [_pct(t["maj@k"][k]) if k in t.get("maj@k", {}) else "-" for k in majs]
        row += [_pct(t["format_rate"]), f"{t['mean_completion_tokens']:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"Mean accuracy over {len(tasks)} tasks: {_pct(results['mean_accuracy'])}%", ""]
    usage = results.get("usage")
    if usage:  # a served model's evaluation (thinkgym.agents.api)
        lines += [f"API usage: {usage['requests']} requests ({usage['cached']} answered from the response cache), "
                  f"{usage['prompt_tokens']} prompt tokens, {usage['completion_tokens']} completion tokens.", ""]
    levels = [(env_id, level, d) for env_id, t in tasks.items() for level, d in t["by_difficulty"].items()]
    if len({level for _, level, _ in levels}) > 1 or len(levels) > len(tasks):
        lines += ["By difficulty:", "", "| task | level | n | accuracy | 95% CI |", "|---|---|---|---|---|"]
        lines += [f"| {short_name(e)} | {lv} | {d['n']} | {_pct(d['accuracy'])} | {_ci(d['ci95'])} |" for e, lv, d in levels]
        lines.append("")
    return "\n".join(lines)


def bar_chart(results: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Per-task accuracy bars with 95% CI error bars, saved as a PNG."""
    plt = _pyplot()
    tasks = results["tasks"]
    names = [short_name(e) for e in tasks]
    acc = [100 * t["accuracy"] for t in tasks.values()]
    err = [[100 * (t["accuracy"] - t["ci95"][0]) for t in tasks.values()], [100 * (t["ci95"][1] - t["accuracy"]) for t in tasks.values()]]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(names) + 1.5), 4.0))
    ax.bar(range(len(names)), acc, yerr=err, capsize=4, color="tab:blue")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{results['model']}: held-out accuracy (mean {_pct(results['mean_accuracy'])}%)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def write_eval(out_dir: str | os.PathLike, results: Mapping[str, Any], records: Iterable[Mapping[str, Any]], settings: Mapping[str, Any]) -> dict[str, Path]:
    """Write an evaluation directory; returns the paths written by kind."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "results": out / "results.json",
        "table": out / "results.md",
        "chart": out / "accuracy.png",
        "completions": out / "completions.jsonl",
        "settings": out / "settings.json",
    }
    _atomic_write(paths["completions"], "".join(json.dumps(r) + "\n" for r in records))
    _atomic_write(paths["settings"], json.dumps(dict(settings), indent=2) + "\n")
    _atomic_write(paths["table"], markdown_table(results))
    bar_chart(results, paths["chart"])
    _atomic_write(paths["results"], json.dumps(results, indent=2) + "\n")
    return paths


# -- comparisons ------------------------------------------------------------------------------
Outcomes = Mapping[str, Mapping[tuple[int, int], bool]]
"""Greedy correctness per env and problem ``(difficulty, seed)``, read from completions.jsonl."""


def load_outcomes(path: str | os.PathLike) -> dict[str, dict[tuple[int, int], bool]]:
    """Per-problem greedy outcomes of an evaluation directory (empty when it has no completions)."""
    path = Path(path)
    file = (path if path.is_dir() else path.parent) / "completions.jsonl"
    outcomes: dict[str, dict[tuple[int, int], bool]] = {}
    if file.is_file():
        for line in file.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r.get("kind") == "greedy":
                outcomes.setdefault(r["env_id"], {})[(int(r["difficulty"]), int(r["seed"]))] = bool(r["correct"])
    return outcomes


def compare_rows(before: Mapping[str, Any], after: Mapping[str, Any], outcomes: tuple[Outcomes, Outcomes] | None = None) -> list[dict[str, Any]]:
    """One row per task present in both results: accuracies, CIs, delta and its 95% CI.

    When ``outcomes`` show that a task was evaluated on the same problems both times, the
    delta's interval is the paired one (Newcombe's method 10), else the independent one.
    """
    rows = []
    for env_id, a in before["tasks"].items():
        b = after["tasks"].get(env_id)
        if b is None:
            continue
        first, second = (outcomes[0].get(env_id, {}), outcomes[1].get(env_id, {})) if outcomes else ({}, {})
        paired = bool(first) and first.keys() == second.keys()
        if paired:
            keys = sorted(first)
            lo, hi = paired_difference_interval([first[k] for k in keys], [second[k] for k in keys])
        else:
            lo, hi = difference_interval(a["accuracy"], a["ci95"], b["accuracy"], b["ci95"])
        rows.append({"task": env_id, "n": (a["n"], b["n"]), "before": a["accuracy"], "before_ci": a["ci95"], "after": b["accuracy"],
                     "after_ci": b["ci95"], "delta": b["accuracy"] - a["accuracy"], "delta_ci": [lo, hi], "paired": paired})
    if not rows:
        raise UserError("the two evaluations share no task")
    return rows


def compare_table(before: Mapping[str, Any], after: Mapping[str, Any], labels: tuple[str, str] = ("before", "after"),
                  outcomes: tuple[Outcomes, Outcomes] | None = None) -> str:
    """Markdown table of per-task accuracy before and after, with deltas and 95% CIs (points)."""
    rows = compare_rows(before, after, outcomes)
    a, b = labels
    lines = [f"`{a}`: {before['model']}  ", f"`{b}`: {after['model']}", "",
             f"| task | n | {a} | 95% CI | {b} | 95% CI | delta | delta 95% CI |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = str(r["n"][0]) if r["n"][0] == r["n"][1] else f"{r['n'][0]}/{r['n'][1]}"
        mark = "" if r["paired"] else "*"
        lines.append(f"| {short_name(r['task'])} | {n} | {_pct(r['before'])} | {_ci(r['before_ci'])} | {_pct(r['after'])} | "
                     f"{_ci(r['after_ci'])} | {100 * r['delta']:+.1f} | [{100 * r['delta_ci'][0]:+.1f}, {100 * r['delta_ci'][1]:+.1f}]{mark} |")
    mean_a = sum(r["before"] for r in rows) / len(rows)
    mean_b = sum(r["after"] for r in rows) / len(rows)
    lines += [f"| **mean** | | {_pct(mean_a)} | | {_pct(mean_b)} | | {100 * (mean_b - mean_a):+.1f} | |", "",
              "Accuracy: greedy pass@1 in percent (multi-turn envs: success rate), with Wilson 95% intervals. The delta's "
              "interval is Newcombe's for paired outcomes (the same problems before and after)"
              + ("; * marks tasks without matching per-problem outcomes, where it is the independent-samples one (wider)." if any(not r["paired"] for r in rows) else "."),
              ""]
    return "\n".join(lines)


def compare_chart(before: Mapping[str, Any], after: Mapping[str, Any], path: str | os.PathLike, labels: tuple[str, str] = ("before", "after")) -> Path:
    """Grouped bars, before and after per task, with 95% CI error bars, saved as a PNG."""
    plt = _pyplot()
    rows = compare_rows(before, after)
    xs = range(len(rows))
    width = 0.38
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(rows) + 1.5), 4.0))
    for offset, key, label, color in ((-width / 2, "before", labels[0], "tab:gray"), (width / 2, "after", labels[1], "tab:blue")):
        vals = [100 * r[key] for r in rows]
        err = [[100 * (r[key] - r[f"{key}_ci"][0]) for r in rows], [100 * (r[f"{key}_ci"][1] - r[key]) for r in rows]]
        ax.bar([x + offset for x in xs], vals, width, yerr=err, capsize=3, label=label, color=color)
    ax.set_xticks(list(xs), [short_name(r["task"]) for r in rows], rotation=30, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title("held-out accuracy per task (95% CI)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


# -- a staged run (base -> cold start -> GRPO) ----------------------------------------------
def stage_summary(stages: Sequence[tuple[str, Mapping[str, Any], Outcomes]], chance: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Per-task accuracies of every stage of a run on the same held-out problems, the chance
    level beside them, and the gains between stages with paired 95% intervals: of each stage over
    the one before it, and of the last over the first. ``mean`` rows cover the counted tasks
    (chance below :data:`~thinkgym.agents.chance.COUNTED_BELOW`); written as ``report.json``."""
    from thinkgym.agents.chance import COUNTED_BELOW
    from thinkgym.agents.metrics import mean_paired_difference_interval

    labels = [label for label, _, _ in stages]
    pairs = [(labels[i - 1], labels[i]) for i in range(1, len(labels))] + ([(labels[0], labels[-1])] if len(labels) > 2 else [])
    env_ids = [e for e in stages[0][1]["tasks"] if all(e in results["tasks"] for _, results, _ in stages)]
    if not env_ids:
        raise UserError("the evaluations share no task")
    tasks: dict[str, Any] = {}
    paired: dict[tuple[str, str], list[tuple[list[bool], list[bool]]]] = {pair: [] for pair in pairs}
    for env_id in env_ids:
        level = chance.get(env_id, {}).get("chance")
        row: dict[str, Any] = {"chance": level, "counted": level is not None and level < COUNTED_BELOW, "stages": {}, "gains": {}}
        outcomes = {}
        for label, results, outs in stages:
            t = results["tasks"][env_id]
            row["stages"][label] = {"accuracy": t["accuracy"], "ci95": t["ci95"], "format_rate": t["format_rate"], "n": t["n"]}
            outcomes[label] = outs.get(env_id, {})
        for a, b in pairs:
            if outcomes[a] and outcomes[a].keys() == outcomes[b].keys():
                keys = sorted(outcomes[a])
                before, after = [outcomes[a][k] for k in keys], [outcomes[b][k] for k in keys]
                lo, hi = paired_difference_interval(before, after)
                if row["counted"]:
                    paired[(a, b)].append((before, after))
            else:
                x, y = row["stages"][a], row["stages"][b]
                lo, hi = difference_interval(x["accuracy"], x["ci95"], y["accuracy"], y["ci95"])
            row["gains"][f"{b}-{a}"] = {"mean": row["stages"][b]["accuracy"] - row["stages"][a]["accuracy"], "ci95": [lo, hi]}
        tasks[env_id] = row
    counted = [e for e in env_ids if tasks[e]["counted"]]
    mean: dict[str, Any] = {"tasks": counted, "stages": {}, "gains": {}}
    if counted:
        for label in labels:
            mean["stages"][label] = sum(tasks[e]["stages"][label]["accuracy"] for e in counted) / len(counted)
        for a, b in pairs:
            if len(paired[(a, b)]) == len(counted):
                centre, lo, hi = mean_paired_difference_interval(paired[(a, b)])
                mean["gains"][f"{b}-{a}"] = {"mean": centre, "ci95": [lo, hi]}
            else:
                mean["gains"][f"{b}-{a}"] = {"mean": mean["stages"][b] - mean["stages"][a], "ci95": None}
    return {"stages": labels, "models": {label: results["model"] for label, results, _ in stages}, "tasks": tasks, "mean_counted": mean,
            "counted_below": COUNTED_BELOW}


def stage_table(summary: Mapping[str, Any]) -> str:
    """Markdown table of a :func:`stage_summary`: chance, each stage's accuracy with its 95% CI,
    the gains with paired 95% intervals, and the final format rate (percent)."""
    labels = summary["stages"]
    gains = list(next(iter(summary["tasks"].values()))["gains"])
    head = ["task", "n", "chance", *labels, *(f"{g.replace('-', ' − ')}" for g in gains), f"format ({labels[-1]})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def gain(g: Mapping[str, Any]) -> str:
        ci = g["ci95"]
        return f"{100 * g['mean']:+.1f}" + (f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]" if ci else "")

    for env_id, row in summary["tasks"].items():
        level = "-" if row["chance"] is None else _pct(row["chance"]) + ("" if row["counted"] else " †")
        cells = [short_name(env_id), str(row["stages"][labels[0]]["n"]), level]
        cells += [f"{_pct(row['stages'][s]['accuracy'])} {_ci(row['stages'][s]['ci95'])}" for s in labels]
        cells += [gain(row["gains"][g]) for g in gains]
        cells.append(_pct(row["stages"][labels[-1]]["format_rate"]))
        lines.append("| " + " | ".join(cells) + " |")
    mean = summary["mean_counted"]
    if mean["tasks"]:
        cells = [f"**mean of {len(mean['tasks'])} counted**", "", ""] + [_pct(mean["stages"][s]) for s in labels]
        cells += [gain(mean["gains"][g]) for g in gains] + [""]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Accuracy: greedy pass@1 in percent with Wilson 95% intervals; gains in points with Newcombe's paired 95% "
              f"intervals (the same problems at every stage; the mean's interval is normal over the counted tasks' paired "
              f"differences). Chance: the best score of an answer that ignores the problem (the most frequent reference "
              f"answer, or the best constant answer). † chance of {_pct(summary['counted_below'])}% or more: shown, not counted "
              f"in the mean.", ""]
    return "\n".join(lines)


def stage_chart(summary: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Grouped bars per task, one per stage with its 95% CI, and the chance level as a dashed
    line over each task's group; saved as a PNG."""
    plt = _pyplot()
    labels = summary["stages"]
    rows = list(summary["tasks"].items())
    width = 0.8 / len(labels)
    colors = ["tab:gray", "tab:orange", "tab:blue", "tab:green", "tab:purple"]
    fig, ax = plt.subplots(figsize=(max(4.5, 1.4 * len(rows) + 2.0), 4.2))
    for i, label in enumerate(labels):
        xs = [x - 0.4 + width * (i + 0.5) for x in range(len(rows))]
        stats = [row["stages"][label] for _, row in rows]
        vals = [100 * s["accuracy"] for s in stats]
        err = [[100 * (s["accuracy"] - s["ci95"][0]) for s in stats], [100 * (s["ci95"][1] - s["accuracy"]) for s in stats]]
        ax.bar(xs, vals, width, yerr=err, capsize=3, label=label, color=colors[i % len(colors)])
    for x, (_, row) in enumerate(rows):
        if row["chance"] is not None:
            ax.hlines(100 * row["chance"], x - 0.45, x + 0.45, colors="black", linestyles="dashed", label="chance" if x == 0 else None)
    names = [short_name(e) + ("" if row["counted"] else " †") for e, row in rows]
    ax.set_xticks(list(range(len(rows))), names, rotation=30, ha="right")
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("held-out accuracy per task and stage (95% CI; dashed: chance; † not counted)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
