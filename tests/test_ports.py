"""Free ports for servers come from below the kernel's ephemeral range, free and distinct."""

from __future__ import annotations

import itertools
import socket
from pathlib import Path

import pytest

from raw.ports import free_port, pick_free_ports


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = pick_free_ports(6)
    assert len(set(ports)) == 6
    assert all(10000 <= p < ephemeral for p in ports), ports
    for port in ports:  # each can be listened on at once
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
            sock.listen()


def test_a_port_someone_listens_on_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        held = taken.getsockname()[1]
        proposals = itertools.chain([held, held], range(10000, 32768))

        class Proposing:
            def randrange(self, start: int, stop: int) -> int:
                return next(proposals)

        monkeypatch.setattr("raw.ports.random.SystemRandom", Proposing)
        [port] = pick_free_ports(1)
        assert port != held
