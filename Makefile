# One command per job; .ci/run calls `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test-tools prometheus postgresql chromium demo test check lint format types layers pytest benchmarks clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,sandbox,postgres]'
	touch $(STAMP)

## What slagate and the demo need: the venv and the sandbox's Prometheus.
install: $(STAMP) prometheus

## What the tests need beyond that: PostgreSQL (the shop's tests against a real server)
## and Chromium (the tests that open report.html and the history index).
test-tools: postgresql chromium

## A Debian package, installed when missing and this is root with apt-get; elsewhere a
## note says how and what runs without it.
## $(call debian_package,PACKAGE,SHELL TEST FOR PRESENCE,FOR WHAT,WITHOUT IT)
define debian_package
	@if $(2); then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing $(1) for $(3): apt-get install -y $(1)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends $(1) >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(1); } \
	  || echo "note: apt-get could not install $(1): $(4)"; \
	else \
	  echo "note: $(1) is not installed: $(4)."; \
	  echo "      Install it with: sudo apt-get install -y $(1) (Debian/Ubuntu)."; \
	fi
endef

## SLAGATE_PROMETHEUS may name another prometheus binary.
prometheus:
	$(call debian_package,prometheus,[ -n "$$SLAGATE_PROMETHEUS" ] || command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ],the sandbox,the sandbox runs without it and PromQL SLAs are refused)

## The tests start their own server; the package's own cluster is not used.
postgresql:
	$(call debian_package,postgresql,ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1,the shop's tests against a real server,those tests are skipped)

chromium:
	$(call debian_package,chromium,command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ],the tests that open report.html in a browser,those tests are skipped)

## The main job on the embedded default: the reference shop + scenarios/smoke.yaml.
demo: install
	$(VENV)/bin/slagate demo

## Everything the project checks: format, lint, types, layers, tests.
test: install test-tools check pytest

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

## The tests without e2e on every core (pytest-xdist); the e2e tests two at a time: each
## mostly waits on its processes (a sandbox run keeps about half a core busy), and their
## margins hold with a CPU hog on one core beside the two. A file's tests stay on one
## worker, so a module-scoped fixture (a sandbox daemon, recorded baseline runs) is made
## once.
pytest: install test-tools
	$(VENV)/bin/pytest -q -m "not e2e" -n auto --durations=10
	$(VENV)/bin/pytest -q -m e2e -n 2 --dist loadfile --durations=25

## Performance figures against their targets, one at a time (not run by `make test` or CI).
benchmarks: install
	$(PY) benchmarks/judging.py
	$(PY) benchmarks/live_judging.py
	$(PY) benchmarks/report_size.py
	$(PY) benchmarks/promql_judging.py
	$(PY) benchmarks/recorder_overhead.py
	$(PY) benchmarks/workers_throughput.py
	$(PY) benchmarks/recorder_memory.py
	$(PY) benchmarks/endpoint_explosion.py
	$(PY) benchmarks/proxy_throughput.py
	$(PY) benchmarks/watch_latency.py
	$(PY) benchmarks/sandbox_rollout.py
	$(PY) benchmarks/sandbox_autoscale.py
	$(PY) benchmarks/sandbox_prometheus.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
