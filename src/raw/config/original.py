"""``.raw/config.yaml`` as the original RAW runtime wrote it, read as this kit's.

The original's ``raw init`` writes ``version: 0.2.0`` (a string) and ``created_at``;
its builder reads a ``builder:`` section with ``budgets``, ``gates``, ``skills`` and
``mode``. Such a file is recognised by its string version (or, with no version, by
``created_at``) and mapped before validation:

- ``version: "0.x.y"`` becomes ``version: 1``;
- ``created_at`` is kept only as a comment by ``raw config upgrade``;
- ``builder.budgets``, ``builder.skills`` and ``builder.mode`` configure the original's
  agent build loop, which this kit does not have: they are set aside, and named;
- ``builder.gates.optional.<name>.timeout_seconds`` defaults to the original's 300 s
  where the file leaves it out (this kit's default is 60 s).

Everything else is validated as strictly as a file of this kit: an unknown gate name
is still an error (the original ignored it silently, which hid typos).
"""

from __future__ import annotations

import copy
from typing import Any

from raw._patterns import LazyPattern
from raw._records import Record

__all__ = [
    "ORIGINAL_GATE_TIMEOUT_SECONDS",
    "OriginalConfig",
    "is_original",
    "map_original",
    "upgraded_text",
]

_ORIGINAL_VERSION = LazyPattern(r"^0\.\d+(\.\d+)?$")
ORIGINAL_GATE_TIMEOUT_SECONDS = 300
"""The original builder's default time limit for an optional gate."""
_BUILDER_LOOP_KEYS = ("budgets", "skills", "mode")


class OriginalConfig(Record):
    """What was mapped from a config of the original runtime, for messages and the upgrade.

    ``set_aside``: keys this kit has no use for, by dotted path, with their values;
    ``defaults_kept``: keys given the original's default explicitly (dotted paths);
    ``mapped``: the whole config in this kit's format, what ``raw config upgrade`` writes.

    A plain class with a dataclass's ``==`` and ``repr`` (:mod:`raw._records`: start-up).
    """

    _fields = ("version", "created_at", "set_aside", "defaults_kept", "mapped")

    def __init__(
        self,
        version: str | None,
        created_at: str | None = None,
        set_aside: dict[str, Any] | None = None,
        defaults_kept: list[str] | None = None,
        mapped: dict[str, Any] | None = None,
    ) -> None:
        self.version = version
        self.created_at = created_at
        self.set_aside: dict[str, Any] = {} if set_aside is None else set_aside
        self.defaults_kept: list[str] = [] if defaults_kept is None else defaults_kept
        self.mapped: dict[str, Any] = {} if mapped is None else mapped

    def summary(self) -> str:
        parts = [f"written for the original RAW runtime (version {self.version or '?'})"]
        if self.set_aside:
            parts.append("unused here: " + ", ".join(self.set_aside))
        return "; ".join(parts)


def is_original(data: dict[str, Any]) -> bool:
    """Whether ``data`` (a parsed config file) has the original runtime's shape."""
    version = data.get("version")
    if isinstance(version, str) and _ORIGINAL_VERSION.match(version.strip()):
        return True
    return "version" not in data and "created_at" in data


def map_original(data: dict[str, Any]) -> tuple[dict[str, Any], OriginalConfig]:
    """The config ``data`` means in this kit's format, and what was changed to get it."""
    mapped = copy.deepcopy(data)
    version = mapped.pop("version", None)
    created = mapped.pop("created_at", None)
    info = OriginalConfig(
        version=None if version is None else str(version),
        created_at=None if created is None else str(created),
    )
    mapped = {"version": 1, **mapped}
    builder = mapped.get("builder")
    if isinstance(builder, dict):
        for key in _BUILDER_LOOP_KEYS:
            if key in builder:
                info.set_aside[f"builder.{key}"] = builder.pop(key)
        gates = builder.get("gates")
        optional = gates.get("optional") if isinstance(gates, dict) else None
        if isinstance(optional, dict):
            for name, gate in optional.items():
                if isinstance(gate, dict) and "timeout_seconds" not in gate:
                    gate["timeout_seconds"] = ORIGINAL_GATE_TIMEOUT_SECONDS
                    info.defaults_kept.append(f"builder.gates.optional.{name}.timeout_seconds")
        if not builder:
            del mapped["builder"]
    info.mapped = copy.deepcopy(mapped)
    return mapped, info


def upgraded_text(info: OriginalConfig) -> str:
    """The file ``raw config upgrade`` writes: the mapped config, with what it dropped noted."""
    import yaml  # Lazy: only the upgrade writes YAML.

    lines = ["# Upgraded by `raw config upgrade` from the original RAW runtime's format"]
    lines[0] += f" (version {info.version})." if info.version else "."
    if info.created_at:
        lines.append(f"# created_at: {info.created_at}")
    for key in info.set_aside:
        lines.append(f"# {key} dropped: it configured the original's agent build loop.")
    body = yaml.safe_dump(info.mapped, sort_keys=False, default_flow_style=False)
    return "\n".join(lines) + "\n" + body
