"""SLA judging: pure functions over a recorded timeline.

``judging.judge(scenario, timeline)`` resolves each SLA's window (``windows``), runs the
evaluator of its kind (``availability``, ``latency``, ``throughput``) and returns verdicts
(``verdict``); ``judging.exit_code_for`` turns them into the gate's exit code. Nothing here
talks to a cluster, a clock or a logger; ``summary`` is the only module that writes a file.
"""
