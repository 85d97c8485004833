"""The Locust adapter: recorder, load shapes, the Locust plugin and the load child.

gevent and Locust live only here. ``recording``, ``plans``, ``aborting``, ``options``,
``progress`` and ``session`` import neither, so they are unit-tested in a plain process;
``wiring``, ``plugin``, ``shaping``, ``flushing``, ``importing`` and ``generating`` need
Locust (``import locust`` monkey-patches the process it is imported in).
"""
