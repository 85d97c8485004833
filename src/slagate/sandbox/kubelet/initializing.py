"""Init containers and native sidecars: which one is due, and when a pod is initialized.

Pure: decisions over the views the kubelet has of a pod's init containers. Upstream
(``kuberuntime_container.go`` ``computeInitContainerActions``, KEP-753 sidecars) runs
``initContainers`` in order, one at a time: a regular one must exit 0 before the next
starts (a failure restarts it, with back-off, unless the pod's ``restartPolicy`` is
``Never``, which fails the pod); a native sidecar (an init container with
``restartPolicy: Always``) must only have *started* (running, its startupProbe passed if
it has one), then the next one starts while it keeps running. The app containers start
once every init container has done its part, and initialization happens once: a sidecar
that restarts later does not send the pod back to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from slagate.sandbox.kubelet.specs import RestartPolicy
from slagate.sandbox.kubelet.status import ContainerView, Terminated


def has_done_its_part(view: ContainerView) -> bool:
    """A sidecar has started; a regular init container has exited 0."""
    if view.sidecar:
        return view.started
    return isinstance(view.state, Terminated) and view.state.exit_code == 0


def due_init(views: Sequence[ContainerView]) -> int:
    """The index of the init container initialization waits for; ``len(views)`` once
    the pod is initialized (every one has done its part)."""
    return next((i for i, view in enumerate(views) if not has_done_its_part(view)), len(views))


def failed_for_good(view: ContainerView, policy: RestartPolicy) -> bool:
    """A regular init container that failed under ``restartPolicy: Never``: the pod
    fails (upstream ``getPhase``: ``failedInitialization > 0`` and Never)."""
    state = view.state
    failed = isinstance(state, Terminated) and state.exit_code != 0
    return failed and not view.sidecar and policy is RestartPolicy.NEVER


def init_policy(sidecar: bool, pod_policy: RestartPolicy) -> RestartPolicy:
    """How an init container restarts: a sidecar always; a regular one only after a
    failure (``Always`` pods too), and never in a ``Never`` pod."""
    if sidecar:
        return RestartPolicy.ALWAYS
    return RestartPolicy.NEVER if pod_policy is RestartPolicy.NEVER else RestartPolicy.ON_FAILURE


def incomplete(views: Sequence[ContainerView]) -> list[str]:
    """Names of the init containers that have not done their part, for the
    ``Initialized`` condition's message (``containers with incomplete status: [...]``)."""
    return [view.name for view in views if not has_done_its_part(view)]
