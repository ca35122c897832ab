"""Schedules' crons are checked as Temporal Schedules read them, with the field and value named.

tests/orchestrator/test_schedules.py holds the same forms against a real Temporal server.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from raw.config.cron import InvalidCronError, check_cron
from raw.config.orchestrator import ScheduleConfig

# Forms Temporal Schedules read as written (each was created on a dev server).
ACCEPTED = [
    "0 8 * * *",
    "*/15 * * * *",
    "0-59/15 * * * *",
    "0 8/2 * * *",
    "30 18 * * 1-5",
    "0 8 * * 1-5/2,0",
    "0 8 * * mon",
    "0 8 * * MON-FRI",
    "0 8 * * Monday",
    "0 8 * * tu",
    "0 8 * * sun,sat",
    "0 8 * * 0-7",
    "0 8 * * 7",
    "0 8 1 jan *",
    "0 8 1 JANUARY *",
    "0 8 * jul-dec wed",
    "0 8 1,15 * *",
    "0 8 29 2 *",
    "0 08 * * *",
]

# Forms Temporal refuses (so `raw schedules sync` fails), with what the message says.
REFUSED_BY_TEMPORAL = {
    "61 7 * * *": "minute 61 is out of range 0-59",
    "99 99 * * *": "minute 99 is out of range 0-59; hour 99 is out of range 0-23",
    "0 24 * * *": "hour 24 is out of range 0-23",
    "0 8 0 * *": "day-of-month 0 is out of range 1-31",
    "0 8 * 13 *": "month 13 is out of range 1-12",
    "0 8 * * 8": "day-of-week 8 is out of range 0-7",
    "0 8 5-1 * *": "day-of-month range '5-1' runs backwards (5 > 1)",
    "0 8 * * fri-mon": "day-of-week range 'fri-mon' runs backwards (5 > 1)",
    "0 8 * * */0": "day-of-week '*/0': the step after '/' must be a whole number >= 1",
    "0 8 L * *": "day-of-month 'L': 'L' (the last day) is not read by Temporal Schedules",
    "0 8 * * 5L": "day-of-week '5L': 'L' (the last day) is not read",
    "0 8 1W * *": "day-of-month '1W': 'W' (the nearest weekday) is not read",
    "0 8 ? * *": "day-of-month '?': '?' is not read by Temporal Schedules; write '*'",
    "0 8 * * t": "day-of-week 't' is neither a number 0-7 nor a name such as 'mon'",
    "0 8 1 ja *": "month 'ja' is neither a number 1-12 nor a name such as 'feb'",
}

# Forms Temporal takes but misreads or never runs: refused before they reach it.
REFUSED_BEFORE_TEMPORAL = {
    "0 8 * * 1#2": "Temporal Schedules drop '#n' (the nth weekday of a month)",
    "0 8 30 2 *": "day-of-month '30' never comes in month '2', so the schedule would never run",
    "0 8 31 4 *": "day-of-month '31' never comes in month '4'",
}

# Forms outside the five fields the config has always asked for.
NOT_FIVE_FIELDS = {
    "0 8 * *": "it is not a five-field cron expression (minute hour day-of-month month "
    "day-of-week): it has 4",
    "@daily": "write '0 0 * * *' for @daily",
    "0 0 8 * * * *": "seconds, years and CRON_TZ= are not supported",
}


@pytest.mark.parametrize("cron", ACCEPTED)
def test_what_temporal_reads_as_written_is_accepted_unchanged(cron: str) -> None:
    assert check_cron(cron) == cron
    schedule = ScheduleConfig(id="report", cron=cron, workflow="report")
    assert schedule.cron == cron


@pytest.mark.parametrize(
    ("cron", "reason"),
    [*REFUSED_BY_TEMPORAL.items(), *REFUSED_BEFORE_TEMPORAL.items(), *NOT_FIVE_FIELDS.items()],
)
def test_a_bad_cron_is_refused_naming_the_field_and_value(cron: str, reason: str) -> None:
    with pytest.raises(InvalidCronError) as caught:
        check_cron(cron, schedule="daily-report")
    assert str(caught.value).startswith(f"schedule 'daily-report': cron '{cron}': ")
    assert reason in str(caught.value)


def test_the_config_schema_refuses_it_naming_the_schedule() -> None:
    with pytest.raises(ValidationError) as caught:
        ScheduleConfig(id="daily-report", cron="61 7 * * *", workflow="daily-report")
    assert "schedule 'daily-report': cron '61 7 * * *': minute 61 is out of range 0-59." in str(
        caught.value
    )
