# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv when it is missing and installs the locked set (requirements.lock:
# exact versions with hashes, for Python 3.11 and 3.12+) and then the project itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# uv resolves the lock (`make lock`); it is pinned so that a refresh is reproducible too.
UV_VERSION := 0.13.9
LATEST := .venv-latest

.PHONY: kernels demo test test-latest lock lint typecheck bench bench-province data assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock or the project's metadata changes.
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--no-build-isolation -e .
	@touch $(STAMP)

# The kernels compiled ahead of time (coverage/radio/aot.py; about 20 s of CPU): the one-site
# job then loads them in milliseconds instead of importing numba. Without a C compiler this
# says so and the kernels are compiled just in time as before.
KERNELS := $(VENV)/.kernels
KERNEL_SRC := $(addprefix coverage/radio/,diffraction.py engine.py window.py codec_kernels.py fold_kernels.py jit.py aot.py)
$(KERNELS): $(STAMP) $(KERNEL_SRC)
	$(BIN)/python -m coverage.radio.aot
	@touch $(KERNELS)

kernels: $(KERNELS)

# Refresh the lock from pyproject.toml's ranges (the newest releases that satisfy them).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	.venv-lock/bin/uv pip compile pyproject.toml requirements-build.in --extra test --extra dask \
		--universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" -o $(LOCK)
	$(PYTHON) tools/lock_inputs.py >> $(LOCK)

# The maps are offline by default: their scripts come from the asset cache (`assets`).
demo: $(KERNELS) assets
	$(BIN)/coverage-planner run --data data --config coverage.toml --out maps
	$(BIN)/coverage-planner progress --data data --config coverage.toml --out maps \
		--from 2020-08-31 --to 2020-09-30

# The end-to-end tests write offline maps too, so they need the same assets.
test: $(KERNELS) assets
	$(BIN)/python -m pytest -q

# The canary: the newest releases in a separate environment, so the next incompatible
# release is found here first. Not part of CI (it does not use the lock by design).
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade \
		--upgrade-strategy eager -e ".[test,dask]"
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/versions.txt
	$(LATEST)/bin/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check coverage tests benchmarks tools
	$(BIN)/lint-imports --no-cache

# Static types of the package (configuration in pyproject.toml, [tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy coverage

# JavaScript/CSS the maps copy into maps/assets/ (offline by default), from the npm registry (checked against pinned SHA-256).
assets: $(STAMP)
	$(BIN)/python -m coverage.io.assets install

data: $(STAMP)
	$(BIN)/coverage-planner demo-data --out data

bench: $(KERNELS)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_county.py
	$(BIN)/python benchmarks/bench_plan.py --data data

bench-province: $(STAMP)
	$(BIN)/python benchmarks/bench_province.py
	$(BIN)/python benchmarks/bench_province_cli.py

clean:
	rm -rf $(VENV) $(LATEST) .venv-lock artifacts coverage/radio/_kernels_aot* maps/assets maps/*.html maps/*.gpkg maps/*.tif maps/*.kml maps/*.xlsx maps/*.csv maps/*.png
