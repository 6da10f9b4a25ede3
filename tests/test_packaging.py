"""The built wheel holds what the editable install serves: every module and data file under the
folders that ``thinkgym``, ``thinkgym.envs``, ``thinkgym.agents`` and ``thinkgym.rewards`` import
from, and nothing of the tests. The wheel is built offline from a copy of the sources (``pip
wheel --no-deps --no-build-isolation``), then imported from its unpacked files."""

from __future__ import annotations

import importlib
import runpy
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOTS = ("thinkgym", "thinkgym.envs", "thinkgym.agents", "thinkgym.rewards")
SOURCES = ("pyproject.toml", "setup.py", "README.md")


def served_files() -> set[str]:
    """The files the current (editable) install imports, as paths inside a wheel."""
    names = set()
    for package in ROOTS:
        folder = Path(importlib.import_module(package).__path__[0])
        prefix = package.replace(".", "/")
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                names.add(f"{prefix}/{path.relative_to(folder).as_posix()}")
    return names


def test_every_package_folder_is_discovered():
    discovered = set(runpy.run_path(str(ROOT / "setup.py"), run_name="setup")["discover_packages"]())
    on_disk = {name.rsplit("/", 1)[0].replace("/", ".") for name in served_files() if name.endswith("/__init__.py")}
    assert discovered == on_disk
    assert {"thinkgym.envs.math", "thinkgym.envs.chess", "thinkgym.envs.graph", "thinkgym.envs.logic", "thinkgym.integrations"} <= discovered


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copy(ROOT / name, src / name)
    for folder in ("thinkgym", "envs", "agents", "rewards"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "--wheel-dir", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("thinkgym-*.whl")
    return built


def test_the_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = served_files() - names
    assert not missing, sorted(missing)
    assert {"thinkgym/envs/data/lichess_sample.csv", "thinkgym/envs/data/math_sample.jsonl"} <= names
    stray = sorted(n for n in names if not n.startswith(("thinkgym/", "thinkgym-")))
    assert not stray, stray  # no top-level envs/, agents/, rewards/ or tests/
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "thinkgym = thinkgym.agents.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_unpacked_wheel_imports_and_reads_its_data(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    script = (
        "import thinkgym, gymnasium as gym\n"
        "assert thinkgym.__file__.startswith(%r), thinkgym.__file__\n"
        "for env_id in ('thinkgym/LichessPuzzle-v0', 'thinkgym/MathDataset-v0'):\n"
        "    env = gym.make(env_id); prompt, info = env.reset(seed=0); assert prompt and info['answer']\n"
        "import thinkgym.agents.cli\n"
        "print(len(thinkgym.list_envs()))\n"
    ) % str(tmp_path / "site")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) == len(importlib.import_module("thinkgym").list_envs())
