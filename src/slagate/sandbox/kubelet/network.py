"""Pod IP addresses: one loopback /24 per sandbox, one address per pod.

Linux routes the whole of 127.0.0.0/8 to loopback and lets a process bind any address in
it, so each pod can listen on its own IP like a real pod does. A sandbox picks a random
``127.X.Y.0/24`` (X in 100..250) so that two sandboxes on one machine never collide.
"""

from __future__ import annotations

import ipaddress
import random
import threading

from slagate.errors import ConfigError, PodNetworkExhausted

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
FIRST_SECOND_OCTET = 100
LAST_SECOND_OCTET = 250


class PodNetwork:
    """Hands out the 254 host addresses of a loopback /24 (``.1`` to ``.254``).

    Allocation goes round the range after the last address handed out, as the host-local
    IPAM plugin does: a released address is reused, but only once every other free one
    has been used. So a proxy that still routes to a gone pod for a moment (the endpoint
    propagation delay) does not reach a new, maybe unready, pod at the same address.
    Thread-safe.
    """

    def __init__(self, network: str | ipaddress.IPv4Network) -> None:
        try:
            parsed = ipaddress.IPv4Network(network)
        except ValueError as error:
            raise ConfigError(f"pod network {network!s}: {error}") from error
        if parsed.prefixlen != 24 or not parsed.subnet_of(_LOOPBACK):
            raise ConfigError(
                f"pod network {parsed} must be a /24 inside 127.0.0.0/8, e.g. 127.180.7.0/24"
            )
        self._network = parsed
        self._hosts = [str(address) for address in parsed.hosts()]
        self._taken: set[str] = set()
        self._next = 0
        self._lock = threading.Lock()

    @classmethod
    def random(cls, rng: random.Random | None = None) -> PodNetwork:
        """A network ``127.X.Y.0/24`` with X in 100..250 and Y in 0..255, drawn from ``rng``."""
        draw = rng or random.SystemRandom()
        x = draw.randint(FIRST_SECOND_OCTET, LAST_SECOND_OCTET)
        return cls(f"127.{x}.{draw.randint(0, 255)}.0/24")

    @property
    def network(self) -> ipaddress.IPv4Network:
        return self._network

    @property
    def allocated(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._taken)

    def allocate(self) -> str:
        """A free address; ``PodNetworkExhausted`` when all 254 are taken."""
        with self._lock:
            for offset in range(len(self._hosts)):
                index = (self._next + offset) % len(self._hosts)
                address = self._hosts[index]
                if address not in self._taken:
                    self._taken.add(address)
                    self._next = index + 1
                    return address
        raise PodNetworkExhausted(
            f"all {len(self._hosts)} addresses of pod network {self._network} are in use; "
            "delete pods or start another sandbox"
        )

    def release(self, address: str) -> None:
        """Give ``address`` back; releasing a free or foreign address does nothing."""
        with self._lock:
            self._taken.discard(address)
