"""Run every benchmark, one after the other, then print their headline numbers together.

``make bench`` runs this. Each benchmark is a script in this folder that prints its own table
and writes ``benchmarks/results/<name>.json`` with a ``summary`` mapping of headline numbers
(label -> number or text); this script prints those summaries as one table at the end. A
benchmark that is missing is skipped; one that fails is reported and the others still run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("envs", "grpo_step")
"""Scripts in the order they run: the env benchmark takes minutes, the GRPO step longer."""


def run(name: str) -> tuple[str, float]:
    """Run ``<name>.py`` with this interpreter; return its status and wall seconds."""
    script = HERE / f"{name}.py"
    if not script.exists():
        return "not present", 0.0
    print(f"\n=== {name} ===", flush=True)
    start = time.perf_counter()
    code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
    return ("ok" if code == 0 else f"failed (exit {code})"), time.perf_counter() - start


def summary(name: str) -> dict[str, object]:
    path = HERE / "results" / f"{name}.json"
    try:
        return dict(json.loads(path.read_text()).get("summary", {}))
    except (OSError, ValueError, TypeError):
        return {}


def main() -> int:
    statuses = {name: run(name) for name in BENCHMARKS}
    print("\n=== summary ===")
    width = max((len(k) for name in BENCHMARKS for k in summary(name)), default=20) + 2
    failed = False
    for name, (status, seconds) in statuses.items():
        print(f"{name}: {status}" + (f" in {seconds:.0f} s" if seconds else ""))
        failed |= status.startswith("failed")
        if status != "ok":
            continue
        for key, value in summary(name).items():
            print(f"  {key:<{width}}{value}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
