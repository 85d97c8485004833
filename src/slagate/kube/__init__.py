"""The Kubernetes adapter: connect, record what the cluster does, act, check permissions.

::

    connecting   ApiClient from --kubeconfig/--context/in-cluster; errors wrapped
    resources    the six watched resource types and their list calls
    bodies       TypedDicts for the raw JSON the API server sends (the boundary)
    states       pure: raw objects -> pod states, replica rows, rollout progress, endpoints
    tracking     pure: per-kind trackers turning events and re-lists into timeline rows
    streaming    list and watch over the official client, raw JSON, closable from any thread
    watching     ClusterRecorder: one watch thread per kind, periodic flushes
    waiting      waiting for a rollout to complete and its old pods to be gone
    acting       the scenario actions and the ActionRunner that times them
    preflight    SelfSubjectAccessReviews and the mutation safety check
    resolving    Service name -> base URL (load-balancer status or sandbox annotation)

Threads, not gevent: this runs in the controller process (``slagate run``), never beside
Locust. ``bodies``, ``states`` and ``tracking`` import no client and are unit-tested
without a server.
"""
