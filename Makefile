# One command per job; .ci/run calls `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install prometheus chromium demo test check lint format types layers pytest benchmarks clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,sandbox]'
	touch $(STAMP)

install: $(STAMP) prometheus chromium

## The sandbox's Prometheus (Debian's package): installed when missing and this is root
## with apt-get; elsewhere a note says how (the sandbox then runs without Prometheus).
prometheus:
	@if [ -n "$$SLAGATE_PROMETHEUS" ] || command -v prometheus >/dev/null 2>&1 \
	    || [ -x /usr/bin/prometheus ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Prometheus for the sandbox: apt-get install -y prometheus"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus; } \
	  || echo "note: apt-get could not install prometheus; the sandbox runs without it"; \
	else \
	  echo "note: Prometheus is not installed: the sandbox runs without it and PromQL SLAs"; \
	  echo "      are refused. Install it with: sudo apt-get install -y prometheus"; \
	  echo "      (Debian/Ubuntu), or set SLAGATE_PROMETHEUS to a prometheus binary."; \
	fi

## Headless Chromium (Debian's package) for the e2e tests that open report.html and the
## history index and fail on console errors: installed when missing and this is root with
## apt-get; elsewhere a note says how (those tests then skip).
chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Chromium for the page tests: apt-get install -y chromium"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
	  || echo "note: apt-get could not install chromium; the page tests skip"; \
	else \
	  echo "note: Chromium is not installed: the tests that open report.html and the"; \
	  echo "      history index in a browser skip. Install it with:"; \
	  echo "      sudo apt-get install -y chromium (Debian/Ubuntu)."; \
	fi

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
	$(PY) benchmarks/report_size.py
	$(PY) benchmarks/promql_judging.py
	$(PY) benchmarks/recorder_overhead.py
	$(PY) benchmarks/recorder_memory.py
	$(PY) benchmarks/endpoint_explosion.py
	$(PY) benchmarks/proxy_throughput.py
	$(PY) benchmarks/watch_latency.py
	$(PY) benchmarks/sandbox_rollout.py
	$(PY) benchmarks/sandbox_autoscale.py
	$(PY) benchmarks/sandbox_prometheus.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
