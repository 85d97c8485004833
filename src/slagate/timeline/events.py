"""The vocabulary of the ``events`` table: who wrote an event, and what the harness says.

Harness events mark the phases of a run; the named windows (``load``, ``rollout``, ...)
are derived from them, so their kinds are a contract between writers and evaluators.
Kubernetes Events share the table with ``source`` kubernetes and their own reason as
``kind``. Both enums are ``StrEnum``: a member equals its text, so a column of strings
read back from Parquet compares equal to them.
"""

from __future__ import annotations

import enum


class EventSource(enum.StrEnum):
    HARNESS = "harness"
    KUBERNETES = "kubernetes"


class EventKind(enum.StrEnum):
    """Harness events, in the order a run writes them. ``name`` and ``message`` of each
    are described in docs/contracts.md."""

    RUN_START = "run_start"
    """The controller began the run (``slagate run``)."""

    LOAD_START = "load_start"
    """The first user is about to start (Locust ``test_start``)."""

    USERS = "users"
    """The target user count changed; ``name`` is the new count."""

    SPAWN_COMPLETE = "spawn_complete"
    """Locust reached the target user count; ``name`` is the count."""

    NAMES_FOLDED = "names_folded"
    """More distinct request names than ``load.max_endpoints``: from now on requests with
    a new name are counted under one overflow endpoint; ``message`` names it, gives
    examples and says to pass ``name=`` in the locustfile. Once per load process."""

    WORKER_JOINED = "worker_joined"
    """A distributed run: a Locust worker took part in the load; ``name`` its client id.
    Written by the master when the load starts (and for a worker that joins later)."""

    WORKER_LOST = "worker_lost"
    """A distributed run: a worker stopped reporting while the load ran (missed Locust's
    heartbeats, or quit); ``name`` its client id, ``message`` how. What it reported
    before is kept; its last seconds are not. Fails the ``workers`` verdict unless the
    scenario says ``load.tolerate_worker_loss: true``."""

    ACTION_START = "action_start"
    """A scenario action began; ``name`` its label (``rollout_restart deployment/order``)."""

    ROLLOUT_COMPLETE = "rollout_complete"
    """``kubectl rollout status`` would say done; ``message`` ``revision N``."""

    ROLLOUT_SETTLED = "rollout_settled"
    """No pod of an old ReplicaSet is left: ends the ``rollout`` window."""

    ACTION_FAILED = "action_failed"
    """An action could not do its job; ``message`` says why."""

    ACTION_END = "action_end"
    """An action ended, always last: ``ok``, ``timeout``, ``stopped`` or the error."""

    ROLLBACK_START = "rollback_start"
    """A rollout with ``on_fail: rollback`` is being undone because the run failed or was
    stopped; ``name`` ``rollback deployment/order``, ``message`` ``to revision N: why``."""

    ROLLBACK_END = "rollback_end"
    """The undo ended, always after its ``rollback_start``: ``ok revision M`` (complete and
    the pods of the undone revision gone), ``skipped: ...``, ``timeout: ...``,
    ``stopped: ...`` or the error."""

    ABORT = "abort"
    """A safety stop; ``name`` the rule, ``message`` the explanation."""

    LOAD_STOP = "load_stop"
    """The users stopped; ``message`` a ``StopReason``."""

    LOCUST_TOTALS = "locust_totals"
    """Locust's own aggregated totals once the load ended: ``message``
    ``requests=N failures=M``, to compare with the timeline's exact counts."""

    METRICS_FETCHED = "metrics_fetched"
    """A Prometheus query's series were fetched into ``metrics``; ``name`` its id,
    ``message`` how many series and samples."""

    METRICS_FAILED = "metrics_failed"
    """A Prometheus query could not be fetched; ``name`` its id, ``message`` why
    (unreachable, rejected). The latest of ``metrics_fetched`` / ``metrics_failed`` for a
    query decides: a failed one leaves its SLA no-data with that reason."""

    WATCH_GAP = "watch_gap"
    """The cluster recorder had no watch of a kind from ``t_ms`` on (the API server cut,
    down or refusing); ``name`` the resource (``pods``), ``message`` how long, the first
    error and how it resumed. Nothing is lost on resume (from the last resourceVersion,
    or a re-list diffed against the last known state), but transitions that happened in
    the gap carry the time they were received after it."""

    API_SLOW = "api_slow"
    """The API server answered slowly from ``t_ms`` on (cutting nothing); ``name``
    ``apiserver``, ``message`` for how long, the slowest answer and how it ended. Watch
    events in the span were received late and carry the time they were received."""

    RUN_END = "run_end"
    """The controller ended the run; ``message`` why, when it stopped early."""


class StopReason(enum.StrEnum):
    """Why the load stopped (the ``load_stop`` event's message)."""

    FINISHED = "finished"
    """The load shape ran to its end."""

    SIGNAL = "signal"
    """Ctrl-C, SIGTERM, or Locust stopped before the shape finished."""

    ROLLBACK_START = "rollback_start"
    """A rollout with ``on_fail: rollback`` is being undone because the run failed or was
    stopped; ``name`` ``rollback deployment/order``, ``message`` ``to revision N: why``."""

    ROLLBACK_END = "rollback_end"
    """The undo ended, always after its ``rollback_start``: ``ok revision M`` (complete and
    the pods of the undone revision gone), ``skipped: ...``, ``timeout: ...``,
    ``stopped: ...`` or the error."""

    ABORT = "abort"
    """A safety stop: the scenario's abort rule or ``limits.max_duration``."""
