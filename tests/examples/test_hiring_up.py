"""`raw up` for real: the hiring system as subprocesses over HTTP, killed mid-process, resumed.

A short happy path with the phone simulator's delay turned down: a CV through the
real webhook route, the scheduling email in the SMTP catcher, a booking a few
seconds ahead; then every process of the system (raw up, its parts, the Temporal
engine) is SIGKILLed while the process sleeps until the call. A second `raw up`
resumes it: the call is placed, its signed status callback comes back, the
summary is stored.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import copy_hiring
from .hiring_up import HiringUp, booking, candidate_id, cv

LEAD_SECONDS = 30
"""How far ahead the call is booked: the time the test has to see it scheduled and kill."""


def until_status(up: HiringUp, cid: str, status: str, *, within: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        answer = httpx.get(
            f"{up.base}/api/candidates/{cid}",
            headers={"Authorization": f"Bearer {up.token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, f"status {body['status']}, not {status}:\n{up.log()}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
@pytest.mark.timeout(300)
def test_raw_up_runs_the_hiring_system_and_resumes_after_a_crash(tmp_path: Path) -> None:
    up = HiringUp(
        copy_hiring(tmp_path / "hiring"),  # the phone simulator's delay turned down
        config_changes={"callback_delay_seconds: 3": "callback_delay_seconds: 0.5"},
    )
    try:
        up.start()
        assert "recorded responses" in up.log()  # no LLM provider here: it says so
        # Pattern 3 on the dev server (the time-skipping server has no Schedules).
        schedules = up.raw("schedules", "list", "--json")  # finds the running engine itself
        listed = {s["id"]: s for s in json.loads(schedules.stdout)["schedules"]}
        assert listed["daily-report"]["workflow"] == "generate-report"
        assert listed["daily-report"]["cron"] == "0 18 * * *"

        accepted = up.send("cv-submission", cv("ada@example.com", "Ada Lovelace"))
        cid = accepted["response"]["target"].split("/", 1)[1]  # hiring-process/<candidate>
        assert cid == candidate_id("ada@example.com")
        until_status(up, cid, "awaiting-booking")
        mail = json.loads(up.raw("integrations", "mail", "--json").stdout)["messages"]
        assert [m["subject"] for m in mail] == ["Book your screening call for Backend engineer"]

        # The kill must land while the process sleeps until the call: the booking is taken
        # and the process reaches that sleep in about a second on a quiet machine, but can
        # take many on a loaded one (a 6 s lead was missed once), so the call is well ahead.
        call_time = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
        end = call_time + timedelta(minutes=20)
        token = accepted["response"]["correlation_id"]  # what the booking link carries
        up.send(
            "calendar-booking",
            booking("ada@example.com", call_time.isoformat(), end.isoformat(), token),
        )
        until_status(up, cid, "call-scheduled")
    finally:
        up.kill()  # while the process sleeps until the call

    up.start()  # the same folder, port and engine database
    try:
        done = until_status(up, cid, "completed", within=60 + LEAD_SECONDS)
        assert done["call_attempts"] == 1
        assert done["summary"]["recommendation"] == "advance"
        assert done["process"]["step"] == "completed"
        stored = json.loads(
            (up.root / ".raw" / "storage" / "summaries" / f"{cid}.json").read_text()
        )
        assert stored == done["summary"]
        # The worker's RAW runs are in the run index the API reads (one database for all parts).
        runs = httpx.get(
            f"{up.base}/api/runs",
            params={"workflow": "generate-call-summary"},
            headers={"Authorization": f"Bearer {up.token}"},
            timeout=10,
        ).json()["runs"]
        assert [r["status"] for r in runs] == ["succeeded"]
    finally:
        up.stop()
    assert up.process is not None and up.process.returncode == 0, up.log()
    assert "Stopped." in up.log()
