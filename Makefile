# dsshare: two commands on a fresh machine, `make demo` and `make test`.
# Every target creates the virtual environment itself when it is missing or
# older than pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dsshare-installed
PYTEST_ARGS ?=

.PHONY: venv demo test lint typecheck pytest bench bench-startup lab app screenshots reliability sandbox clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dsshare)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m tools.demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks tools
	cd lib && PYTHONPATH=. ../$(BIN)/lint-imports --no-cache ../pyproject.toml

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.inventory_bench
	$(BIN)/python -m benchmarks.startup_bench

bench-startup: $(STAMP)
	$(BIN)/python -m benchmarks.startup_bench

lab: $(STAMP)
	$(BIN)/python -m tools.serve lab --port $(or $(PORT),8888)

app: $(STAMP)
	$(BIN)/python -m tools.serve app --port $(or $(PORT),8866)

screenshots: $(STAMP)
	$(BIN)/python -m tools.screenshots --out docs/img

reliability: $(STAMP)
	$(BIN)/python -m tools.reliability

sandbox: $(STAMP)
	$(BIN)/dsshare sandbox --seed demo --manifest sandbox-manifest.json

clean:
	rm -rf $(VENV) runs build *.egg-info
