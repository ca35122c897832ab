"""Calling the async integrations from synchronous code, such as a RAW workflow's ``def`` step.

Every interface is async first and has a synchronous twin of each method
(``send_sync``, ``place_call_sync``, ...) built on :func:`run_sync`. A RAW
workflow's sync steps run in a thread with no event loop (``raw run``, the
Temporal activity, the coordinator's dispatcher), where the twin runs the call
on a short-lived loop of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from raw.aio import run_sync

__all__ = ["run_sync", "sync_twin"]

S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


def sync_twin(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], R]:
    """The synchronous twin of an async method, with its signature: ``x_sync = sync_twin(x)``."""

    @functools.wraps(method)
    def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(method(self, *args, **kwargs))

    twin.__name__ = twin.__qualname__ = f"{method.__name__}_sync"
    return twin
