"""The Locust adapter: recorder, load shapes, the Locust plugin, the load child, workers.

gevent and Locust live only here. ``recorder``, ``plans``, ``aborting``, ``options``,
``progress``, ``session``, ``launching`` and ``workforce`` import neither, so they are
unit-tested in a plain process; ``environment``, ``plugin``, ``shaping``, ``flushing``,
``importing``, ``child``, ``distributing`` and ``worker`` need Locust (``import locust``
monkey-patches the process it is imported in).
"""
