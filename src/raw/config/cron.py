"""Cron expressions as Temporal Schedules read them, checked offline.

A schedule's cron has five fields, ``minute hour day-of-month month day-of-week``.
Each is ``*``, a value, a range ``a-b``, a step ``*/n``, ``a/n`` or ``a-b/n``, or a
comma list of those. Months and days may be named as Temporal reads them: a month
by three or more letters of its English name (``jan``, ``January``), a day by two
or more (``mo``, ``mon``, ``Monday``), in any case; day of week 7 is Sunday, like 0.

:func:`check_cron` refuses what ``raw schedules sync`` would be refused (a value
out of range, a range that runs backwards, a step of 0), what Temporal would
misread (``L``, ``W``, ``?`` and ``#``: Temporal drops ``#2`` and runs every such
day) and a date that never comes (``30 2``). The names are turned into numbers,
then the expression is parsed with ``cronsim``, which also finds the dates that
never come; our own walk over the fields gives the message its field and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from raw.errors import RawError

__all__ = ["InvalidCronError", "check_cron"]

FORMAT = "minute hour day-of-month month day-of-week"
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
# What a user may have meant by a form Temporal reads but a five-field cron does not.
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
UNREAD = {
    "#": "Temporal Schedules drop '#n' (the nth weekday of a month) and would run on every "
    "such day; remove it, or check the week in the workflow",
    "L": "'L' (the last day) is not read by Temporal Schedules; give day numbers",
    "W": "'W' (the nearest weekday) is not read by Temporal Schedules; give day numbers",
    "?": "'?' is not read by Temporal Schedules; write '*'",
}


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    min_letters: int = 0
    first_number: int = 0

    def value(self, text: str) -> int:
        """The number ``text`` stands for; raises ValueError with the reason."""
        if text.isdigit():
            number = int(text)
            if not self.low <= number <= self.high:
                raise ValueError(f"{self.name} {number} is out of range {self.low}-{self.high}")
            return number
        lowered = text.lower()
        if self.names and text.isalpha() and len(text) >= self.min_letters:
            for index, name in enumerate(self.names):
                if name.startswith(lowered):
                    return index + self.first_number
        upper = text.upper()
        digits = upper.rstrip("LW")
        if digits != upper and (not digits or digits.isdigit()):
            raise ValueError(f"{self.name} '{text}': {UNREAD['L' if 'L' in upper else 'W']}")
        if self.names:
            raise ValueError(
                f"{self.name} '{text}' is neither a number {self.low}-{self.high} nor a name "
                f"such as '{self.names[1][:3]}' ({self.min_letters} or more letters of "
                f"{self.names[1].capitalize()})"
            )
        raise ValueError(f"{self.name} '{text}' is not a number {self.low}-{self.high}")


FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTHS, 3, 1),
    _Field("day-of-week", 0, 7, DAYS, 2, 0),
)


class InvalidCronError(RawError, ValueError):
    """A schedule's cron that Temporal would refuse or misread, or that never fires."""

    def __init__(self, cron: str, reason: str, *, schedule: str | None = None) -> None:
        self.cron = cron
        self.reason = reason
        self.schedule = schedule
        where = f"schedule '{schedule}': " if schedule else ""
        super().__init__(f"{where}cron '{cron}': {reason}.")


def _term(field: _Field, term: str) -> str:
    """One comma-separated item of a field, its names turned into numbers."""
    for mark in "#?":
        if mark in term:
            raise ValueError(f"{field.name} '{term}': {UNREAD[mark]}")
    base, slash, step = term.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        raise ValueError(f"{field.name} '{term}': the step after '/' must be a whole number >= 1")
    if base == "*":
        return term
    parts = base.split("-")
    if len(parts) > 2 or not all(parts):
        raise ValueError(
            f"{field.name} '{term}' is not a value, a range 'a-b', a step '*/n' or a list"
        )
    numbers = [field.value(p) for p in parts]
    if len(numbers) == 2 and numbers[1] < numbers[0]:
        raise ValueError(
            f"{field.name} range '{base}' runs backwards ({numbers[0]} > {numbers[1]}); "
            f"write it from low to high, or as a list"
        )
    return "-".join(str(n) for n in numbers) + (slash + step)


def _fields(cron: str, schedule: str | None) -> list[str]:
    fields = cron.split()
    if len(fields) == 5:
        return fields
    hint = ""
    if cron.strip().lower() in DESCRIPTORS:
        hint = f"; write '{DESCRIPTORS[cron.strip().lower()]}' for {cron.strip()}"
    elif len(fields) in (6, 7):
        hint = "; seconds, years and CRON_TZ= are not supported (the time zone is its own key)"
    reason = f"it is not a five-field cron expression ({FORMAT}): it has {len(fields)}{hint}"
    raise InvalidCronError(cron, reason, schedule=schedule)


def check_cron(cron: str, *, schedule: str | None = None) -> str:
    """``cron`` unchanged when Temporal Schedules read it as written and it fires.

    Raises :class:`InvalidCronError` naming the schedule, the field and the value.
    """
    translated, problems = [], []
    for field, text in zip(FIELDS, _fields(cron, schedule), strict=True):
        try:
            translated.append(",".join(_term(field, t) for t in text.split(",")))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise InvalidCronError(cron, "; ".join(problems), schedule=schedule)
    try:
        CronSim(" ".join(translated), datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        # Every field is well formed by now: what is left is a date that never comes.
        reason = str(exc)
        if "day-of-month" in reason:
            reason = (
                f"day-of-month '{translated[2]}' never comes in month '{translated[3]}', "
                "so the schedule would never run"
            )
        raise InvalidCronError(cron, reason, schedule=schedule) from None
    return cron
