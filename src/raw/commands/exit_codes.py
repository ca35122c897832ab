"""The exit code of an error from any command: the core's table, plus the kits' errors.

:func:`raw.console.exit_code_for` knows the core's errors; the kits' own (a process or
schedule not found, a bad process id, an unset webhook secret) are matched here, so the
CLI and the MCP tools give every error the same code. A kit's errors can only have been
raised once its module is loaded, so nothing is imported to check them.
"""

from __future__ import annotations

import sys

from raw.console import NOT_FOUND, USAGE, exit_code_for

__all__ = ["exit_code"]

KIT_ERRORS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("raw.orchestrator.client", ("ProcessNotFoundError",), NOT_FOUND),
    ("raw.orchestrator.client", ("InvalidProcessIdError", "InvalidVisibilityQueryError"), USAGE),
    ("raw.orchestrator.schedules", ("ScheduleNotFoundError",), NOT_FOUND),
    (
        "raw.coordinator.verify",
        ("MissingSecretError", "InvalidSecretError", "UnknownSchemeError"),
        USAGE,
    ),
)


def exit_code(exc: BaseException) -> int:
    for module_name, names, code in KIT_ERRORS:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        classes = tuple(getattr(module, name) for name in names)
        if isinstance(exc, classes):
            return code
    return exit_code_for(exc)
