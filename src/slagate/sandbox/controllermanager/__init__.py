"""The sandbox's kube-controller-manager: the controllers as loops, wired to the store.

Each loop asks the pure functions of ``slagate.sandbox.decisions`` what to do and writes
the answer back; nothing here decides on its own what upstream would do.

``ControllerManager`` (``managing``) runs them: informers (``informing``) list and watch
the store and put keys on work queues (``queueing``); a worker per controller
(``reconciling``) syncs each key by reading objects (``reading``), asking the pure
decisions in ``slagate.sandbox.decisions`` and writing the outcome (``writing``):

- ``deploying``: Deployments -> ReplicaSets (rolling update, proportional scaling, history);
- ``replicating``: ReplicaSets -> pods (create, delete in upstream order, status);
- ``autoscaling``: HorizontalPodAutoscalers -> the target's replicas (CPU, behavior);
- ``slicing``: Services + pods -> EndpointSlices (ready / serving / terminating);
- ``recording``: core/v1 Events, identical repeats aggregated by ``count``.
"""

from slagate.sandbox.controllermanager.managing import ControllerManager

__all__ = ["ControllerManager"]
