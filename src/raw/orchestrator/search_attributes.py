"""The search attributes and the query every RAW process keeps up to date.

Status pages and lists read these instead of querying each process one by one:
``RawStep`` (the current step), ``RawWaitingFor`` (what the process waits for:
a signal name, "timer", or empty) and ``RawWaitUntil`` (until when). The
embedded engine registers them at start (``--search-attribute``); for an
external server, ``raw engine`` registers them through the operator service.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

RAW_STEP = SearchAttributeKey.for_keyword("RawStep")
RAW_WAITING_FOR = SearchAttributeKey.for_keyword("RawWaitingFor")
RAW_WAIT_UNTIL = SearchAttributeKey.for_datetime("RawWaitUntil")

ALL: dict[str, str] = {
    RAW_STEP.name: "Keyword",
    RAW_WAITING_FOR.name: "Keyword",
    RAW_WAIT_UNTIL.name: "Datetime",
}
"""Name -> Temporal type, as `temporal server start-dev --search-attribute` takes them."""

RAW_STATE_QUERY = "raw_state"
"""The query every process built on the kit answers with its RawState."""
