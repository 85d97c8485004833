"""One test item per SLA the scenario declares; the id is the SLA's id."""

from slagate.pytest_plugin import assert_sla
from slagate.sla.verdict import Verdict


def test_sla(sla_verdict: Verdict) -> None:
    assert_sla(sla_verdict)
