"""Deprecated: the config reference moved to :mod:`raw.config.reference`.

``python -m raw.config_reference --write docs/config.md`` still works for one release;
use ``python -m raw.config.reference --write docs/config.md``.
"""

from __future__ import annotations

import sys

from raw._moved import moved_names

__getattr__ = moved_names(
    __name__,
    dict.fromkeys(
        ("BEGIN", "END", "reference_rows", "reference_table", "update_document", "main"),
        "raw.config.reference",
    ),
)

if __name__ == "__main__":
    sys.exit(__getattr__("main")(sys.argv[1:]))
