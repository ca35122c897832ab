"""The heap of a long-running part (raw serve, raw dispatcher, raw worker), frozen once started.

CPython's cyclic garbage collector walks every tracked object on each full collection,
and a started coordinator holds over a hundred thousand of them (140,000 for the hiring
example: FastAPI, SQLAlchemy, Pydantic, temporalio and the project's modules), none of
which will ever be garbage.
Measured under ``benchmarks/webhook_ingest.py`` (issue 20), those walks were the whole
of ``raw serve``'s p99 tail on SQLite: with the collector off p99 fell from 107 to
37 ms; with the start-up heap frozen it went from 1.65x to 0.79x the hand-written
route's. :func:`gc.freeze` moves every object alive now into a permanent generation
the collector no longer scans; garbage made afterwards is collected as before.

A short command freezes what its imports made (:func:`freeze_imports`): ``raw run``
then skips walking the kit, Pydantic and the standard library at every collection,
above all the full ones of the interpreter's shutdown (~40 M instructions a launch,
benchmarks/README.md).
"""

from __future__ import annotations

import gc

__all__ = ["freeze_imports", "freeze_startup_heap"]


def freeze_startup_heap() -> int:
    """Collect the young garbage start-up left, then freeze the rest; how many were frozen.

    Only the young generations are collected first (~1 ms): a full collection of the
    hiring coordinator's started heap took 80 ms of its start and found nothing (the
    collector's own runs during the imports had taken the garbage already).
    """
    gc.collect(1)
    gc.freeze()
    return gc.get_freeze_count()


def freeze_imports() -> None:
    """Freeze the objects the imports made, with no collection first (it would cost more
    than it frees): modules, classes and functions, none of which will be garbage.

    What the command makes afterwards (the workflow's module, its objects, the run's
    records) is collected as before, at shutdown too, with its finalizers.
    """
    gc.freeze()
