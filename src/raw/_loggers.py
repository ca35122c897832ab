"""Loggers taken on first use, so a run that logs nothing never imports :mod:`logging`.

Importing :mod:`logging` costs a ``raw run`` about 12 M instructions (issue 20), and a
run that logs nothing needs none of it. A module names its logger as usual::

    from raw._loggers import logger

    _log = logger("raw.workflow")  # logging is not imported yet
    _log.warning("...")            # now it is: logging.getLogger("raw.workflow").warning(...)

Every attribute goes to ``logging.getLogger(name)`` at the moment it is read, so pytest's
``caplog``, handlers and levels see the real logger. Set-up that only matters once a
record is written (``raw run``'s stderr handler) waits in :func:`on_first_use`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import logging as _logging_types

__all__ = ["logger", "logging_module", "on_first_use"]

_pending: list[Callable[[], None]] = []


def logging_module() -> ModuleType:
    """:mod:`logging`, imported now if need be, with the set-up :func:`on_first_use` deferred."""
    # Lazy: importing logging is the cost this module saves a run that logs nothing.
    import logging

    while _pending:
        _pending.pop(0)()
    return logging


def on_first_use(setup: Callable[[], None]) -> None:
    """Run ``setup`` now if :mod:`logging` is loaded, else just before the kit first logs."""
    if "logging" in sys.modules:
        logging_module()  # earlier set-up first, in order
        setup()
    else:
        _pending.append(setup)


class _Logger:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(logging_module().getLogger(self.name), attr)

    def __repr__(self) -> str:
        return f"<logger {self.name} (taken on first use)>"


def logger(name: str) -> _logging_types.Logger:
    """The logger ``name``, looked up (and :mod:`logging` imported) when first used."""
    return cast("_logging_types.Logger", _Logger(name))
