"""SLA judging: pure functions over a recorded timeline.

``judging.judge(scenario, timeline)`` resolves each SLA's window (``windows``), runs the
evaluator of its kind and returns verdicts (``verdict``); ``judging.exit_code_for`` turns
them into the gate's exit code. Client-side kinds (``availability``, ``latency``,
``throughput``) read the request tables; cluster-side kinds (``kube_endpoints``,
``kube_rollouts``, ``kube_scaling``, ``kube_replicas``, ``integrity``) read the Kubernetes
tables, and ``diagnosing`` names the likely cause of failed requests. Nothing here talks to
a cluster, a clock or a logger; ``summary`` is the only module that writes a file.
"""
