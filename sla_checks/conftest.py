"""The SLA gate: `pytest sla_checks/ --scenario scenarios/smoke.yaml` or `--run-dir reports/<id>`.

The hooks and fixtures live in slagate.pytest_plugin; importing them here registers them
for this folder (robust to where pytest's rootdir is, unlike `pytest_plugins`).
"""

from slagate.pytest_plugin import (  # noqa: F401
    pytest_addoption,
    pytest_configure,
    pytest_generate_tests,
    pytest_sessionstart,
    sla_verdict,
    slagate_verdicts,
)
