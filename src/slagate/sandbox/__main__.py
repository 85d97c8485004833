"""``python -m slagate.sandbox up|status|down|serve|proxy``: see ``slagate.sandbox.cli``."""

from slagate.sandbox.cli import sandbox

sandbox(prog_name="python -m slagate.sandbox")
