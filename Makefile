# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-province data assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes (quick when already installed).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/coverage-planner run --data data --config coverage.toml --out maps

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check coverage tests benchmarks tools

# JavaScript/CSS for --offline-maps, from the npm registry (checked against pinned SHA-256).
assets: $(STAMP)
	$(BIN)/python -m coverage.io.assets install

data: $(STAMP)
	$(BIN)/coverage-planner demo-data --out data

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_county.py
	$(BIN)/python benchmarks/bench_plan.py --data data

bench-province: $(STAMP)
	$(BIN)/python benchmarks/bench_province.py
	$(BIN)/python benchmarks/bench_province_cli.py

clean:
	rm -rf $(VENV) artifacts maps/assets maps/*.html maps/*.gpkg maps/*.tif maps/*.kml maps/*.xlsx maps/*.csv maps/*.png
