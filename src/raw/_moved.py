"""Old import paths kept for one release: each name answers with a DeprecationWarning.

A module whose names moved keeps only a table of them::

    from raw._moved import moved_names

    __getattr__ = moved_names(__name__, {"SystemConfig": "raw.config.system", ...})

``from old.path import Name`` then gives the object from its new module and warns
with the line to write instead.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names", "resolve"]


def resolve(old_module: str, name: str, moved: Mapping[str, str], *, stacklevel: int = 3) -> Any:
    """``name`` from its new module, with a DeprecationWarning naming the new path."""
    new_module = moved.get(name)
    if new_module is None:
        raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
    warnings.warn(
        f"{old_module}.{name} has moved: import it from {new_module} "
        f"('from {new_module} import {name}'). The old path stops working in the next release.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return getattr(importlib.import_module(new_module), name)


def moved_names(old_module: str, moved: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` (PEP 562) of ``old_module``, whose names are in ``moved``."""

    def __getattr__(name: str) -> Any:
        return resolve(old_module, name, moved)

    return __getattr__
