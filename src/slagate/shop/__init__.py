"""The reference shop: the system under test, a product and an order service.

Each replica is one OS process (FastAPI on uvicorn) started with ``slagate shop product``
or ``slagate shop order`` (or ``python -m slagate.shop ...``); replicas of a service share
one database (a SQLite file on one machine, or a PostgreSQL server for replicas on many
nodes), so any replica serves any request. ``LocalShop`` runs the whole shop on
loopback for tests and the demo.

Modules, from the bottom up:

- ``settings``: frozen settings (units in field names) and ``SigtermMode``
- ``errors``: the shop's branch of the exception tree
- ``database``: the database URL and the ``Database`` seam the stores talk through;
  ``sqlite`` (WAL mode, ``BEGIN IMMEDIATE``) and ``postgres`` (psycopg 3) implement it
- ``products``, ``orders``: the two stores, their SQL written once for both databases
- ``pooling``: running store calls in worker threads, writes one at a time
- ``health``, ``instrumenting``, ``burning``, ``apps``: probes, the latency histogram,
  CPU cost per request, and the app skeleton both services share
- ``product_app``, ``product_client``, ``order_app``: the two services' HTTP APIs (the
  endpoint lists and JSON shapes are in the app modules' docstrings)
- ``serving``: the composition root of one process, SIGTERM drain or exit
- ``cli``, ``__main__``: the ``shop`` click group
- ``processes``, ``launching``: child processes and ``LocalShop``

Ids: products are integers the database assigns (1, 2, ...); orders are uuid4 hex strings,
chosen before the stock is reserved so the order id doubles as the idempotent reservation
id.
"""
