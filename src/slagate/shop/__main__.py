"""``python -m slagate.shop product|order ...``: how launchers start a shop replica."""

from __future__ import annotations

from slagate.shop.cli import shop

if __name__ == "__main__":
    shop(prog_name="python -m slagate.shop")
