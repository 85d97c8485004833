"""The Prometheus adapter: queries through prometheus-api-client, errors wrapped.

::

    querying    PrometheusQuerier: instant and range queries; ``MetricsSource`` is its seam
    planning    the PromQL SLAs of a scenario as queries: placeholders filled, ids given
    fetching    a run's series into the ``metrics`` table (or a ``metrics_failed`` event)
    preflight   before any load: reachable, every query valid, every preset's metric there

Plain threads and ``requests`` (prometheus-api-client's): this runs in the controller
process, never beside Locust.
"""
