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
    """Run ``setup`` now if :mod:`logging` is loaded, else as soon as anything imports it.

    The kit's own lines come through :func:`logger`; a workflow (or a kit module that
    takes its logger the usual way) may import :mod:`logging` itself, so a finder
    waits for that import and runs ``setup`` right after it.
    """
    if "logging" in sys.modules:
        logging_module()  # earlier set-up first, in order
        setup()
        return
    _pending.append(setup)
    if not any(isinstance(finder, _WhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WhenImported())


class _WhenImported:
    """A finder that answers nothing but notices the import of :mod:`logging`."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        # Lazy: only reached when logging is imported with set-up waiting for it.
        import importlib.util

        spec = importlib.util.find_spec(name)  # the finders that remain: the real one
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenSetUp(spec.loader)  # type: ignore[assignment]  # a Loader by duck
        return spec


class _ThenSetUp:
    """:mod:`logging`'s own loader, then the waiting set-up (the rest is the loader's)."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        logging_module()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._loader, attr)


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
