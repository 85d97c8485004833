# One command per job; .ci/run calls `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test check lint format types layers pytest benchmarks clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,sandbox]'
	touch $(STAMP)

install: $(STAMP)

## The main job on the embedded default: the reference shop + scenarios/smoke.yaml.
demo: install
	$(VENV)/bin/slagate demo

## Everything the project checks: format, lint, types, layers, tests.
test: install check pytest

check: lint types layers

lint: install
	$(VENV)/bin/ruff format --check src tests benchmarks locustfiles sla_checks
	$(VENV)/bin/ruff check src tests benchmarks locustfiles sla_checks

format: install
	$(VENV)/bin/ruff format src tests benchmarks locustfiles sla_checks
	$(VENV)/bin/ruff check --fix src tests benchmarks locustfiles sla_checks

types: install
	$(VENV)/bin/mypy

layers: install
	$(VENV)/bin/lint-imports

pytest: install
	$(VENV)/bin/pytest -q

## Performance figures against their targets, one at a time (not run by `make test` or CI).
benchmarks: install
	$(PY) benchmarks/judging.py
	$(PY) benchmarks/recorder_overhead.py
	$(PY) benchmarks/recorder_memory.py
	$(PY) benchmarks/proxy_throughput.py
	$(PY) benchmarks/watch_latency.py
	$(PY) benchmarks/sandbox_rollout.py
	$(PY) benchmarks/sandbox_autoscale.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
