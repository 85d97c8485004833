"""What the sandbox's controllers decide, as pure functions with upstream Kubernetes semantics.

Nothing here does I/O, reads a clock or imports kubernetes: every function takes frozen
dataclasses and times as float seconds (``*_s``) and returns a decision. The loops in
``slagate.sandbox.controllermanager`` feed them from the object store and write the
decisions back; an import-linter contract keeps this package pure.

- ``hpa``: the HorizontalPodAutoscaler sync (autoscaling/v2, CPU resource metric);
  ``hpa_replicas`` computes the per-metric proposal, ``hpa_behavior`` stabilizes and
  rate-limits it.
- ``rollout``: the Deployment sync (RollingUpdate, Recreate, proportional scaling) over
  the values in ``deployments``; ``fenceposts`` resolves maxSurge/maxUnavailable,
  ``revisions`` the pod-template-hash and revision annotations, ``deployment_status`` the
  status, conditions and the ``kubectl rollout status`` rule.
- ``replicaset``: pod availability, ReplicaSet status and which pods to delete first.
- ``conditions``: the status-condition value shared by all of them; ``pods``: pod phases
  (shared with the kubelet, whose own pure decisions live beside it:
  ``kubelet.probe_states`` and ``kubelet.termination``).
"""
