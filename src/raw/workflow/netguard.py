"""The dry-run network guard.

A dry run must never reach the outside world. While code runs inside a dry run
(the run's context says so), opening a connection to, or resolving, anything
but a loopback address fails with :class:`DryRunNetworkError` naming the host.
The guard is installed once on the socket module but consults the current
context on every call, so work outside dry runs, in the same process and at the
same time, is untouched.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from typing import Any

from raw.errors import DryRunNetworkError
from raw.workflow.context import current_run

_installed = False
_asyncio_installed = False
_lock = threading.Lock()
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _in_dry_run() -> bool:
    run = current_run()
    return run is not None and run.dry


def _refuse(host: Any) -> DryRunNetworkError:
    error = DryRunNetworkError(str(host))
    run = current_run()
    if run is not None:  # kept so the run fails even if the workflow swallows the error
        run.network_violations.append(error)
    return error


def is_loopback(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, ...) is the local host
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check_address(family: int, address: Any) -> None:
    if family == getattr(socket, "AF_UNIX", -1) or not _in_dry_run():
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        raise _refuse(host)


def install() -> None:
    """Install the guard (idempotent); it only acts inside dry runs."""
    global _installed
    with _lock:
        _install_asyncio()
        if _installed:
            return
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex
        original_getaddrinfo = socket.getaddrinfo

        def connect(self: socket.socket, address: Any) -> None:
            _check_address(self.family, address)
            return original_connect(self, address)

        def connect_ex(self: socket.socket, address: Any) -> int:
            _check_address(self.family, address)
            return original_connect_ex(self, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if _in_dry_run() and not is_loopback(host):
                raise _refuse(host)
            return original_getaddrinfo(host, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = getaddrinfo
        _installed = True


def _install_asyncio() -> None:
    """Guard asyncio's name lookups, if asyncio is in use (the caller holds ``_lock``).

    An event loop resolves names in an executor thread, which does not see the
    run's context, so the socket-level guard alone would let the lookup through.
    """
    global _asyncio_installed
    if _asyncio_installed or "asyncio" not in sys.modules:
        return
    # Lazy: patched only when the run has loaded asyncio already.
    from asyncio import base_events

    original = base_events.BaseEventLoop.getaddrinfo

    async def getaddrinfo(
        self: base_events.BaseEventLoop, host: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if _in_dry_run() and not is_loopback(host):
            raise _refuse(host)
        return await original(self, host, *args, **kwargs)

    base_events.BaseEventLoop.getaddrinfo = getaddrinfo  # type: ignore[method-assign]
    _asyncio_installed = True
