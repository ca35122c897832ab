"""Calling the async integrations from synchronous code, such as a RAW workflow's ``def`` step.

Every interface is async first and has a synchronous twin of each method
(``send_sync``, ``place_call_sync``, ...) built on :func:`run_sync`. A RAW
workflow's sync steps run in a thread with no event loop (``raw run``, the
Temporal activity, the coordinator's dispatcher), where the twin runs the call
on a short-lived loop of its own.
"""

from __future__ import annotations

from raw.aio import run_sync

__all__ = ["run_sync"]
