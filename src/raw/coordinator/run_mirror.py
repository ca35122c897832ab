"""The coordinator's run index as a mirror of every run the workflow runtime records.

The runtime (:mod:`raw.workflow.recorder`) knows no index: it mirrors each manifest to
the sinks of the factories registered with
:func:`raw.workflow.recorder.register_mirror_factory`. ``raw/__init__.py`` registers
:func:`run_index_mirror`, so every entry point (``raw run``, ``python run.py``,
``raw.run_workflow``, a worker, the app) reaches the same index.

This module stays light: it decides from a variable, the loaded config and one file's
existence, and imports the database code only when a database is configured.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from raw._loggers import logger
from raw.errors import RawError
from raw.local_state import DATABASE_FILE
from raw.project import Project
from raw.workflow.recorder import ManifestSink

if TYPE_CHECKING:
    from raw.config.database import DatabaseTLSConfig

__all__ = ["DEFAULT_DATABASE_FILE", "run_index_mirror"]

_log = logger(__name__)

DEFAULT_DATABASE_FILE = DATABASE_FILE
"""The coordinator's SQLite file under ``.raw/`` when no database is configured."""


def run_index_mirror(project: Project | None) -> ManifestSink | None:
    """The coordinator's run index when the project has a database, else None.

    A database is ``DATABASE_URL``, ``system.coordinator.database_url``, or the
    coordinator's default SQLite file once it exists. The check reads a variable, the
    loaded config and one file's existence: a ``raw run`` in a project without a
    database never imports the coordinator or a database driver. ``RAW_RUN_INDEX=0``
    turns the index off.
    """
    if os.environ.get("RAW_RUN_INDEX", "").strip().lower() in ("0", "false", "no", "off"):
        return None
    url = os.environ.get("DATABASE_URL") or (
        _configured_database_url(project.config.system_data) if project is not None else None
    )
    if not url and project is not None:
        # The system's own default database, once its coordinator has created it: runs
        # from a terminal then reach the same index as the worker's and the app's.
        default = project.raw_dir / DEFAULT_DATABASE_FILE
        if default.is_file():
            url = f"sqlite+aiosqlite:///{default}"
    if not url:
        return None
    if project is not None:
        # Lazy: only a run whose project has a database pays for the TLS settings' model.
        from raw.config.database import with_tls

        try:
            url = with_tls(url, _configured_tls(project.config.system_data), project.root)
        except ValueError as exc:  # an invalid database_tls: the run goes on without the index
            _log.warning("The run index is off: system.coordinator.database_tls: %s", exc)
            return None
    try:
        # Lazy: the coordinator extra may be missing, and SQLAlchemy costs ~150 ms to import.
        from raw.coordinator.db.run_index import sink_for
    except ImportError as exc:
        _log.warning(
            "A database is configured but the run index needs the coordinator extra "
            "(pip install 'raw-systems[coordinator]'): %s",
            exc,
        )
        return None
    try:
        return sink_for(url, project.root if project is not None else None)
    except RawError as exc:  # a URL the index cannot use: the run goes on without it
        _log.warning("The run index is off: %s", exc)
        return None


def _configured_database_url(system: dict[str, Any]) -> str | None:
    """``system.coordinator.database_url`` as written: a run must not pay for validating
    the whole ``system:`` section (the coordinator validates it when it starts)."""
    coordinator = system.get("coordinator")
    url = coordinator.get("database_url") if isinstance(coordinator, dict) else None
    return url if isinstance(url, str) and url else None


def _configured_tls(system: dict[str, Any]) -> DatabaseTLSConfig | None:
    """``system.coordinator.database_tls``, validated alone (the run index connects with it)."""
    coordinator = system.get("coordinator")
    tls = coordinator.get("database_tls") if isinstance(coordinator, dict) else None
    # Lazy: called only once a database is configured (see run_index_mirror).
    from raw.config.database import DatabaseTLSConfig

    return DatabaseTLSConfig.model_validate(tls) if isinstance(tls, dict) else None
