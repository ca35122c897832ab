"""Running a coroutine to its end from synchronous code, whether or not a loop runs here.

The one ``run_sync`` of the kit: the integrations' ``*_sync`` twins, ``raw.run_workflow``
on an async workflow and the embedded engine's start-up wait all use it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion and return its result, from synchronous code.

    Called where no event loop runs (the usual case), it uses a loop of its own.
    Called from a thread that runs an event loop, it runs the coroutine in a thread
    of its own, in a copy of the caller's context (its clock, its run), and blocks
    that loop until it ends: prefer ``await`` there, and never block the loop that
    serves the local services you are calling. The coroutine's error is raised here.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    results: list[T] = []
    errors: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            results.append(context.run(asyncio.run, coroutine))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=target, name="raw-run-sync")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return results[0]
