"""SLA judging: pure functions over a recorded timeline.

``judging.judge(scenario, timeline)`` resolves each SLA's window, runs the evaluator of its
kind and returns verdicts; ``judging.exit_code_for`` turns them into the gate's exit code.
Every evaluator module is named for what its SLAs measure:

::

    availability      availability %, failed requests       (requests, failures)
    latency           a latency percentile                  (latency histogram)
    throughput        requests per second                   (requests)
    ready_endpoints   a Service's ready endpoints           (endpoints)
    replicas          desired replicas at most N, flapping  (replicas)
    scaling           time to scale out / in to N           (replicas, pods, events)
    rollout_duration  time until each rollout settled       (harness events)
    lost_writes       acknowledged writes not read back     (acks, integrity)

and share:

::

    verdict        Verdict, Status, Window, Evidence and the one value formatter
    building       verdicts with the spec's threshold: judged, never, no-data
    windows        the named windows, from the harness events and run.json
    rollout_spans  the rollouts a run triggered, from the harness events
    history        the states of Kubernetes objects over a window
    selecting      the rows of the per-second tables for a window and an endpoint
    traffic        what the request-table evaluators share
    percentiles    Locust's percentile over a histogram
    evidence       evidence lines for request failures, latency and throughput
    diagnosing     the likely cause of failed requests (termination race, unready pod)
    formatting     words, numbers and times as messages print them

Nothing here talks to a cluster, reads a clock, logs or writes a file.
"""
