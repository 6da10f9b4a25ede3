"""Package discovery for setuptools; everything else is in pyproject.toml.

The top-level folders envs/, agents/ and rewards/ install as thinkgym.envs, thinkgym.agents and
thinkgym.rewards (generic top-level names are never installed). setuptools' own discovery in
pyproject.toml cannot rename folders, so the packages are found here: every folder with an
``__init__.py`` under those roots, so a new ``envs/<family>/`` ships in the wheel without an edit.
"""

from setuptools import find_packages, setup

PACKAGE_DIRS = {"thinkgym": "thinkgym", "thinkgym.envs": "envs", "thinkgym.agents": "agents", "thinkgym.rewards": "rewards"}
"""Installed package name -> source folder."""


def discover_packages() -> list[str]:
    """Every package under the folders of :data:`PACKAGE_DIRS`, by installed name."""
    found = []
    for name, folder in PACKAGE_DIRS.items():
        found += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]
    return sorted(found)


if __name__ == "__main__":
    setup(packages=discover_packages(), package_dir=PACKAGE_DIRS)
