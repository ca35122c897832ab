"""Packages whose names load on first use (PEP 562), so importing the package stays cheap.

A package lists each name it exports once, mapped to the module that defines it::

    from raw._lazy import lazy_exports as _lazy_exports

    _EXPORTS = {"render": "raw.deploy.rendering", ...}
    __all__ = list(_EXPORTS)
    __getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)

Type checkers cannot read the mapping: the package also imports the names under
``TYPE_CHECKING`` (``from raw.deploy.rendering import render as render``), and
tests/test_public_api.py keeps those imports equal to the mapping.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``, which exports ``exports``."""
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups find it without coming here
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
