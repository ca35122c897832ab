"""Checking a simulated system against a scenario's ``expect`` step.

Each check returns the mismatches it found, as readable lines; no mismatch means
the expectation holds. Expected mappings match as subsets (only the fields named
are compared, recursively); other values must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from raw.errors import RawError
from raw.integrations import for_project
from raw.integrations.errors import ObjectNotFoundError
from raw.simulate.scenario import (
    CallsExpect,
    ChatExpect,
    DatabaseExpect,
    EmailsExpect,
    Expectations,
    ProcessExpect,
    RunsExpect,
    StorageExpect,
)

if TYPE_CHECKING:
    from raw.simulate.harness import SimulatedSystem

__all__ = ["ExpectationError", "check", "differences"]


class ExpectationError(RawError):
    """An expectation that cannot hold however long it waits: it names a table, a column
    or a kind of record the system does not have."""


def _plain(value: Any) -> Any:
    """Database and model values as JSON would carry them."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _same_time(expected: Any, actual: Any) -> bool:
    if not (isinstance(expected, str) and isinstance(actual, str)):
        return False
    try:
        a = datetime.fromisoformat(expected.replace("Z", "+00:00"))
        b = datetime.fromisoformat(actual.replace("Z", "+00:00"))
    except ValueError:
        return False
    if a.tzinfo is None or b.tzinfo is None:  # SQLite hands back naive UTC
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a == b


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` departs from ``expected`` (mappings compared as subsets)."""
    actual = _plain(actual)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or 'value'}: expected an object, got {json.dumps(actual)}"]
        found: list[str] = []
        for key, value in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{where}: expected {json.dumps(value)}, but it is absent")
            else:
                found += differences(value, actual[key], where)
        return found
    if expected == actual or _same_time(expected, actual):
        return []
    return [
        f"{path or 'value'}: expected {json.dumps(expected, default=str)}, "
        f"got {json.dumps(actual, default=str)}"
    ]


def _each(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _count(what: str, matched: int, expected: int | None) -> list[str]:
    if expected is None:
        return [] if matched else [f"{what}: expected at least one, found none"]
    if matched != expected:
        return [f"{what}: expected {expected}, found {matched}"]
    return []


async def _process(system: SimulatedSystem, expect: ProcessExpect) -> list[str]:
    # Lazy: needs the orchestrator extra, which may be missing.
    from raw.orchestrator.client import process_id, process_type

    if expect.id:
        pid = expect.id
    elif expect.type and expect.key:
        pid = process_id(process_type(expect.type), expect.key)
    else:
        raise ExpectationError("process: give its id, or its type and key.")
    snapshot = await system.process(pid)
    label = f"process {pid}"
    if snapshot.status is None:
        return [f"{label}: does not exist"]
    found: list[str] = []
    if expect.status is not None and snapshot.status != expect.status:
        found.append(f"{label}: status expected {expect.status!r}, got {snapshot.status!r}")
    if expect.step is not None and snapshot.step != expect.step:
        found.append(f"{label}: step expected {expect.step!r}, got {snapshot.step!r}")
    if expect.waiting_for is not None and (snapshot.waiting_for or "") != expect.waiting_for:
        found.append(
            f"{label}: waiting_for expected {expect.waiting_for!r}, got {snapshot.waiting_for!r}"
        )
    if expect.result is not None:
        found += [f"{label} result: {d}" for d in differences(expect.result, snapshot.result)]
    if found and snapshot.state_error and (expect.step or expect.waiting_for):
        found.append(f"{label}: its state could not be read: {snapshot.state_error}")
    return found


async def _database(system: SimulatedSystem, expect: DatabaseExpect) -> list[str]:
    # Lazy: needs the coordinator extra, which may be missing.
    from sqlalchemy import MetaData, Table, inspect, select
    from sqlalchemy.exc import NoSuchTableError

    def rows(connection: Any) -> list[dict[str, Any]]:
        table = Table(expect.table, MetaData(), autoload_with=connection)
        unknown = [c for c in [*expect.where, *expect.values] if c not in table.c]
        if unknown:
            raise KeyError(
                f"table {expect.table} has no column {', '.join(unknown)} "
                f"(it has: {', '.join(table.c.keys())})"
            )
        query = select(table).where(*(table.c[k] == v for k, v in expect.where.items()))
        return [dict(row) for row in connection.execute(query).mappings()]

    label = f"table {expect.table} where {json.dumps(expect.where, default=str)}"
    try:
        async with system.db.engine.connect() as connection:
            found_rows = await connection.run_sync(rows)
    except NoSuchTableError:
        async with system.db.engine.connect() as connection:
            names = await connection.run_sync(lambda c: sorted(inspect(c).get_table_names()))
        raise ExpectationError(
            f"The database has no table '{expect.table}' (it has: {', '.join(names) or 'none'})."
        ) from None
    except KeyError as exc:
        raise ExpectationError(str(exc.args[0]).capitalize() + ".") from None
    problems = _count(f"{label}: rows", len(found_rows), expect.count)
    for row in found_rows:
        problems += [f"{label}: {d}" for d in differences(expect.values, row)]
    return problems


def _contains(haystack: str | None, needle: str | None) -> bool:
    return needle is None or needle.lower() in (haystack or "").lower()


def _emails(system: SimulatedSystem, expect: EmailsExpect) -> list[str]:
    assert system.services is not None
    matched = [
        m
        for m in system.services.mail.list()
        if (expect.to is None or expect.to in m.to or expect.to in m.envelope_to)
        and _contains(m.subject, expect.subject_contains)
        and _contains(m.text, expect.text_contains)
    ]
    filters = json.dumps(expect.model_dump(exclude_none=True, exclude={"count"}))
    return _count(f"emails {filters}", len(matched), expect.count)


def _calls(system: SimulatedSystem, expect: CallsExpect) -> list[str]:
    assert system.services is not None
    matched = [c for c in system.services.calls.list() if expect.to in (None, c.to)]
    return _count(f"calls to {expect.to or 'anyone'}", len(matched), expect.count)


def _chat(system: SimulatedSystem, expect: ChatExpect) -> list[str]:
    assert system.services is not None
    matched = [
        n
        for n in system.services.chat.list()
        if not n.duplicate and _contains(n.text, expect.text_contains)
    ]
    what = f"chat notifications containing {expect.text_contains!r}"
    return _count(what, len(matched), expect.count)


async def _storage(system: SimulatedSystem, expect: StorageExpect) -> list[str]:

    storage = for_project(system.project.root).storage
    try:
        data = await storage.get(expect.key)
    except ObjectNotFoundError:
        return [f"storage {expect.key}: does not exist"] if expect.exists else []
    if not expect.exists:
        return [f"storage {expect.key}: exists, expected it not to"]
    if expect.contains is not None and expect.contains not in data.decode("utf-8", "replace"):
        return [f"storage {expect.key}: does not contain {expect.contains!r}"]
    return []


async def _runs(system: SimulatedSystem, expect: RunsExpect) -> list[str]:
    # Lazy: needs the coordinator extra, which may be missing.
    from raw.coordinator.db.run_index import get_run, list_runs

    runs = await list_runs(system.db, workflow=expect.workflow, status=expect.status, limit=1000)
    what = f"runs of {expect.workflow}" + (f" ({expect.status})" if expect.status else "")
    problems = _count(what, len(runs), expect.count)
    if expect.output is not None and runs:
        latest = await get_run(system.db, runs[0].run_id)
        output = (latest.manifest or {}).get("output") if latest else None
        problems += [f"{what}, latest output: {d}" for d in differences(expect.output, output)]
    return problems


async def check(system: SimulatedSystem, expectations: Expectations) -> list[str]:
    """Every mismatch between the system and ``expectations`` (empty: they hold)."""
    found: list[str] = []
    for process in _each(expectations.process):
        found += await _process(system, process)
    for database in _each(expectations.database):
        found += await _database(system, database)
    captured = [n for n in ("emails", "calls", "chat") if getattr(expectations, n)]
    if captured and system.services is None:
        raise ExpectationError(
            f"{', '.join(captured)}: the system configures no integrations "
            "(system.integrations), so nothing is captured to check."
        )
    if captured:
        for emails in _each(expectations.emails):
            found += _emails(system, emails)
        for calls in _each(expectations.calls):
            found += _calls(system, calls)
        for chat in _each(expectations.chat):
            found += _chat(system, chat)
    for storage in _each(expectations.storage):
        found += await _storage(system, storage)
    for runs in _each(expectations.runs):
        found += await _runs(system, runs)
    return found


def describe(expectations: Expectations) -> str:
    """A short line naming what is checked."""
    parts: Sequence[str] = [
        name for name in type(expectations).model_fields if getattr(expectations, name)
    ]
    return "expect " + ", ".join(parts)
