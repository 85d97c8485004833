"""``python -m slagate.load.worker``: a Locust worker with slagate's recorder (``slagate worker``).

Thin over Locust's own ``--worker``: it registers slagate's plugin (so the worker records
even if the locustfile does not import ``slagate.locust_plugin``) and hands the command
line to Locust's ``main``, which connects to the master, runs the users it is given,
reports every 3 s and quits when the master says so. The recorder's rows ride on those
reports (``slagate.load.environment.WorkerRecording``). ``-f -`` (the default of
``slagate worker``) asks the master for its locustfile, a Locust feature.

Usage: ``python -m slagate.load.worker --master-host H [--master-port P] [-f LOCUSTFILE]``
(any further option is Locust's own).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import locust  # first: it monkey-patches gevent (docs/locust.md, "Processes and imports")

from slagate.load.plugin import register


def main(argv: Sequence[str]) -> None:
    """Run Locust's ``main`` as a worker; it exits the process with Locust's code."""
    from locust.main import main as locust_main

    register(locust.events)
    locust_argv = [*argv, "--worker", "--exit-code-on-error", "0"]
    if "-f" not in locust_argv and "--locustfile" not in locust_argv:
        locust_argv = ["-f", "-", *locust_argv]
    sys.argv = ["locust", *locust_argv]
    locust_main()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main(sys.argv[1:])
