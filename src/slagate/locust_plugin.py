"""Opt in to slagate from a locustfile: ``import slagate.locust_plugin``.

Importing this module registers slagate's listeners on ``locust.events`` (the one thing
in slagate that acts at import time, because an import is how Locust plugins opt in):
every run then records a timeline in a run folder, and ``--scenario FILE`` makes it a
full experiment judged against the scenario's SLAs. See ``slagate.load.plugin``.

Locustfiles get ``service_url(environment, name)`` and
``acknowledge(environment, kind, key)`` from here.
"""

from __future__ import annotations

import locust

from slagate.load.plugin import acknowledge, register, service_url

register(locust.events)

__all__ = ["acknowledge", "service_url"]
