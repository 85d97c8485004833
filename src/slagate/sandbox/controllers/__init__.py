"""Pure decision logic of the sandbox controllers, with upstream Kubernetes semantics.

Nothing here does I/O, reads a clock or imports kubernetes: every function takes frozen
dataclasses and times as float seconds (``*_s``) and returns a decision. A controller loop
feeds them from the object store and writes the decisions back.

- ``hpa``: the HorizontalPodAutoscaler sync (autoscaling/v2, CPU resource metric);
  ``hpa_replicas`` computes the per-metric proposal, ``hpa_behavior`` stabilizes and
  rate-limits it.
- ``rollout``: the Deployment sync (RollingUpdate, Recreate, proportional scaling) over
  the values in ``deployments``; ``fenceposts`` resolves maxSurge/maxUnavailable,
  ``revisions`` the pod-template-hash and revision annotations, ``deployment_status`` the
  status, conditions and the ``kubectl rollout status`` rule.
- ``replicaset``: pod availability, ReplicaSet status and which pods to delete first.
- ``probes``: the kubelet probe worker; ``termination``: preStop, SIGTERM and SIGKILL times.
- ``conditions``: the status-condition value shared by all of them; ``pods``: pod phases.
"""
