"""``--log-format text|json``: the option every long-running command shares (:mod:`raw.logs`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from raw import logs

if TYPE_CHECKING:
    from raw.project import Project

__all__ = ["add_log_format", "start_logs"]


def add_log_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default=None,
        help="text (default) or json: one JSON object a line with the trace ids of the "
        f"active span (also {logs.ENV}, or system.observability.log_format)",
    )


def start_logs(args: argparse.Namespace, part: str, project: Project | None = None) -> str:
    """Configure the process's logging for ``part``; the format chosen."""
    configured = None
    if project is not None:
        configured = project.config.system.observability.log_format
    chosen = logs.resolve_format(getattr(args, "log_format", None), configured)
    logs.configure(part, chosen)
    return chosen
