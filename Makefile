# dsshare: two commands on a fresh machine, `make demo` and `make test`.
# Every target creates the virtual environment itself when it is missing or
# older than pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dsshare-installed
PYTEST_ARGS ?=

.PHONY: venv demo test lint typecheck pytest bench bench-quick lab app screenshots reliability sandbox clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lab,xlsx,parquet]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dsshare)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m dsshare.runbooks.demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every scenario side by side (see README, "Performance"); exits non-zero if a run errors.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The same without the 1,000-10,000-account scale runs.
bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --skip scale

lab: $(STAMP)
	$(BIN)/python -m dsshare.widgets.serve lab --port $(or $(PORT),8888)

app: $(STAMP)
	$(BIN)/python -m dsshare.widgets.serve app --port $(or $(PORT),8866)

screenshots: $(STAMP)
	$(BIN)/python -m dsshare.widgets.screenshots --out docs/img

reliability: $(STAMP)
	$(BIN)/python -m dsshare.reliability

sandbox: $(STAMP)
	$(BIN)/dsshare sandbox --seed demo --manifest sandbox-manifest.json

clean:
	rm -rf $(VENV) runs build *.egg-info
