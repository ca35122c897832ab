"""Calling the async integrations from synchronous code, such as a RAW workflow's ``def`` step.

Every interface is async first and has a synchronous twin of each method
(``send_sync``, ``place_call_sync``, ...) built on :func:`run_sync`. A RAW
workflow's sync steps run in a thread with no event loop (``raw run``, the
Temporal activity, the coordinator's dispatcher), where the twin runs the call
on a short-lived loop of its own.
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
    of its own and blocks that loop until it ends (as ``raw.run_workflow`` does for
    async workflows): prefer ``await`` there, and never block the loop that serves
    the local services you are calling.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    results: list[T] = []
    errors: list[BaseException] = []
    context = contextvars.copy_context()  # the caller's clock and run context

    def target() -> None:
        try:
            results.append(context.run(asyncio.run, coroutine))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=target, name="raw-integrations-run-sync")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return results[0]
