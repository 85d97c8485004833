"""The system under test over HTTP, outside the load: is it there, did it keep its writes.

::

    reaching      preflight: every target URL answers HTTP before any load is sent
    reading_back  after the load: every acknowledged write is still readable

Plain threads and httpx: this runs in the controller process, never beside Locust.
"""
