"""`raw db upgrade | current | purge | erase`: the coordinator's database.

The database is ``DATABASE_URL``, else ``system.coordinator.database_url``, else
the SQLite file ``.raw/coordinator.db`` (with ``system.coordinator.database_tls``
for PostgreSQL over TLS). Exit 0 on success, 1 when the database refuses, 2 for a
URL that cannot be used, 3 when there is no project and no ``DATABASE_URL``, 4 when
the database cannot be reached (or a TLS setting does not fit the server: the
message names the setting). A URL is only ever shown with its password
hidden.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from raw import console as output
from raw.cli.process import action_adder
from raw.errors import ProjectError
from raw.project import find_project

if TYPE_CHECKING:
    from raw.coordinator.db.database import Database
    from raw.project import Project

EXAMPLES = """\
examples:
  raw db upgrade
  raw db current --json
  DATABASE_URL=postgresql://raw:secret@db:5432/raw raw db upgrade
  raw db purge --json
  raw db erase candidate-123
  raw db deliveries --route cv-submission --limit 5 --json
  raw db dead-letters
  raw db retry 42"""

T = TypeVar("T")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("upgrade", "Create or migrate the kit's tables (safe to run again).")
    p.set_defaults(handler=cmd_upgrade)
    p = action("current", "Show the kit's migration revision and whether it is the newest.")
    p.set_defaults(handler=cmd_current)
    p = action("purge", "Clear delivery bodies older than their route's retention_days.")
    p.set_defaults(handler=cmd_purge)
    p = action("erase", "Erase one entity's personal data (delivery bodies, finished inbox).")
    p.add_argument("entity_key", metavar="ENTITY_KEY", help="the entity's business key")
    p.set_defaults(handler=cmd_erase)
    p = action("deliveries", "Recent webhook deliveries, newest first (secrets hidden).")
    p.add_argument("--route", metavar="NAME", help="only this route's")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (default 50)")
    p.set_defaults(handler=cmd_deliveries)
    p = action("dead-letters", "Inbox actions the dispatcher gave up on, newest first.")
    p.add_argument("--route", metavar="NAME", help="only this route's")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (default 50)")
    p.set_defaults(handler=cmd_dead_letters)
    p = action("retry", "Send a dead letter back to the dispatcher, due now.")
    p.add_argument("record_id", type=int, metavar="ID", help="the inbox record's id")
    p.set_defaults(handler=cmd_retry)


def _project(args: argparse.Namespace) -> Project | None:
    try:
        return find_project(args.project_dir)
    except ProjectError:
        if os.environ.get("DATABASE_URL"):
            return None  # the URL says where; only the routes' settings are missing
        raise


def _run(args: argparse.Namespace, work: Callable[[Database, Project | None], Awaitable[T]]) -> T:
    """Open the project's database, run ``work``, and turn failures into exit codes."""
    try:
        # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
        from sqlalchemy.exc import SQLAlchemyError

        from raw.coordinator.db.database import (
            Database,
            DatabaseError,
            DatabaseTLSError,
            DatabaseUnavailableError,
            DatabaseURLError,
            database_url,
            failure_reason,
            unavailable_error,
        )
    except ModuleNotFoundError as exc:
        raise _Exit(
            output.FAILED,
            _MissingExtraError(exc.name or str(exc)),
        ) from None
    project = _project(args)
    url = ""
    try:
        url = database_url(project)

        async def main() -> T:
            async with Database(url, pool_size=1, max_overflow=0) as db:
                return await work(db, project)

        return asyncio.run(main())
    except DatabaseURLError as exc:
        raise _Exit(output.USAGE, exc) from None
    except DatabaseError as exc:  # DatabaseUnavailableError: 4, as every unreachable service
        raise _Exit(output.exit_code_for(exc), exc) from None
    except ModuleNotFoundError as exc:  # a driver missing, found on first connect
        raise _Exit(output.FAILED, _MissingExtraError(exc.name or str(exc))) from None
    except (OSError, SQLAlchemyError) as exc:  # the tables missing, a lost connection
        unavailable = unavailable_error(url, exc)
        if isinstance(unavailable, DatabaseTLSError):
            raise _Exit(output.exit_code_for(unavailable), unavailable) from None
        reason = failure_reason(exc, url)
        if "no such table" in reason or "does not exist" in reason:
            reason += " (run 'raw db upgrade' first)"
        raise _Exit(output.FAILED, DatabaseUnavailableError(url, reason)) from None


class _MissingExtraError(Exception):
    def __init__(self, module: str) -> None:
        super().__init__(
            f"'raw db' needs the coordinator extra (module '{module}' is missing): "
            "pip install 'raw-systems[coordinator]'."
        )


class _Exit(Exception):
    def __init__(self, code: int, error: BaseException) -> None:
        self.code = code
        self.error = error


def _handle(args: argparse.Namespace, call: Callable[[], int]) -> int:
    try:
        return call()
    except _Exit as stop:
        if args.json:
            output.emit_json(output.error_document(stop.error, stop.code))
        else:
            output.err(output.style("Error: ", "1;31") + str(stop.error))
        return stop.code


def _safe(url: str) -> str:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.coordinator.db.database import redact_url

    return redact_url(url)


def cmd_upgrade(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.coordinator.db.database import current_revision, head_revision, upgrade

    async def work(db: Database, project: Project | None) -> dict[str, Any]:
        # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
        from raw.coordinator.db.system_migrations import upgrade_system

        before = await current_revision(db)
        after = await upgrade(db)
        system = await upgrade_system(db, project) if project is not None else None
        return {
            "database": _safe(db.url),
            "before": before,
            "revision": after,
            "system_revision": system,
        }

    def call() -> int:
        doc = _run(args, work)
        doc["head"] = head_revision()
        doc["changed"] = doc["before"] != doc["revision"]
        if args.json:
            output.emit_json(doc)
        elif doc["changed"]:
            print(
                f"{doc['database']}: upgraded from {doc['before'] or 'an empty database'} "
                f"to {doc['revision']} (newest)."
            )
        else:
            print(f"{doc['database']}: already at {doc['revision']} (newest); nothing to do.")
        if not args.json and doc["system_revision"] is not None:
            print(f"{doc['database']}: the system's own tables are at {doc['system_revision']}.")
        return output.OK

    return _handle(args, call)


def cmd_current(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.coordinator.db.database import current_revision, head_revision

    async def work(db: Database, _project: Project | None) -> dict[str, Any]:
        return {"database": _safe(db.url), "revision": await current_revision(db)}

    def call() -> int:
        doc = _run(args, work)
        doc["head"] = head_revision()
        doc["up_to_date"] = doc["revision"] == doc["head"]
        if args.json:
            output.emit_json(doc)
        elif doc["up_to_date"]:
            print(f"{doc['database']}: at {doc['revision']} (newest).")
        else:
            where = f"at {doc['revision']}" if doc["revision"] else "not migrated"
            print(f"{doc['database']}: {where}; newest is {doc['head']}. Run 'raw db upgrade'.")
        return output.OK

    return _handle(args, call)


def cmd_purge(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.config.coordinator import CoordinatorConfig
    from raw.coordinator.db.retention import purge

    async def work(db: Database, project: Project | None) -> dict[str, Any]:
        coordinator = (
            project.config.system.coordinator if project is not None else CoordinatorConfig()
        )
        await db.ping()  # with no route to purge, still say when the database is away
        report = await purge(db, coordinator)
        return {
            "database": _safe(db.url),
            **report.model_dump(mode="json"),
            "purged": report.purged,
        }

    def call() -> int:
        doc = _run(args, work)
        if args.json:
            output.emit_json(doc)
            return output.OK
        lines = [f"{doc['database']}: {doc['purged']} delivery bodies cleared."]
        for route in doc["routes"]:
            lines.append(
                f"  {route['route']}: {route['purged']} older than {route['retention_days']} days"
            )
        if doc["kept_forever"]:
            lines.append(f"  kept (no retention_days): {', '.join(doc['kept_forever'])}")
        print("\n".join(lines))
        return output.OK

    return _handle(args, call)


def cmd_erase(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.coordinator.db.retention import erase_entity_report

    async def work(db: Database, _project: Project | None) -> dict[str, Any]:
        report = await erase_entity_report(db, args.entity_key)
        return {"database": _safe(db.url), **report.model_dump(mode="json"), "erased": report.total}

    def call() -> int:
        doc = _run(args, work)
        if args.json:
            output.emit_json(doc)
        else:
            print(
                f"Entity '{doc['entity_key']}': {doc['erased']} records erased "
                f"({doc['deliveries']} delivery bodies, {doc['inbox_records']} inbox payloads, "
                f"{doc['runs']} runs)."
            )
        return output.OK

    return _handle(args, call)


def _records(args: argparse.Namespace, listing: str) -> int:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.commands import inbox

    document = getattr(inbox, f"{listing}_document")

    async def work(db: Database, _project: Project | None) -> Any:
        return await document(db, route=args.route, limit=args.limit)

    def call() -> int:
        body = _run(args, work).body
        if args.json:
            output.emit_json(body)
            return output.OK
        rows = body.get("deliveries", body.get("records", []))
        if not rows:
            output.err(f"No {listing.replace('_', ' ')}.")
        for row in rows:
            if listing == "deliveries":
                print(f"{row['id']:>6}  {row['received_at']}  {row['route']}  {row['status_code']}")
            else:
                kind = row["action"].get("type", "-")
                print(f"{row['id']:>6}  {row['route']}  {kind}  {row['last_error']}")
        return output.OK

    return _handle(args, call)


def cmd_deliveries(args: argparse.Namespace) -> int:
    return _records(args, "deliveries")


def cmd_dead_letters(args: argparse.Namespace) -> int:
    return _records(args, "dead_letters")


def cmd_retry(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw db loads SQLAlchemy.
    from raw.commands.inbox import retry_dead_letter_document

    async def work(db: Database, _project: Project | None) -> Any:
        return await retry_dead_letter_document(db, args.record_id)

    def call() -> int:
        body = _run(args, work).body
        if args.json:
            output.emit_json(body)
        else:
            print(f"Inbox record {body['id']} is {body['status']} again, due now.")
        return output.OK

    return _handle(args, call)
