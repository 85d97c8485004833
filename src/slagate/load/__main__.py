"""``python -m slagate.load``: the load child (see ``slagate.load.child``)."""

from __future__ import annotations

import locust  # noqa: F401  # first: it monkey-patches gevent (reference, pitfall 1)

from slagate.load.child import main

raise SystemExit(main())
