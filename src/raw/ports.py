"""Free local ports for servers, chosen below the kernel's ephemeral range.

A port the kernel hands out for outgoing connections (Linux: 32768-60999) can be
taken by any client between the moment a port is found free and the moment a
server binds it, and a parallel test run opens many such connections. Ports below
that range are only ever taken by a listener, so choosing there (at random, checked
free) leaves only the rare clash of two listeners picking the same port.
"""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

__all__ = ["free_port", "pick_free_ports"]

_LOWEST = 10000


def _ephemeral_start() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


def pick_free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free on ``host`` now, below the ephemeral range where possible."""
    low = _ephemeral_start()
    rng = random.SystemRandom()
    held: list[socket.socket] = []
    try:
        for _ in range(count * 50):
            if len(held) == count:
                break
            port = rng.randrange(_LOWEST, low) if low > _LOWEST + count else 0
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        while len(held) < count:  # a crowded range: let the kernel choose
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            held.append(sock)
        return [int(s.getsockname()[1]) for s in held]
    finally:
        for sock in held:
            sock.close()


def free_port(host: str = "127.0.0.1") -> int:
    """One port free on ``host`` now (see :func:`pick_free_ports`)."""
    return pick_free_ports(1, host)[0]
