"""The daily report's figures, read with a plain (synchronous) SQLAlchemy session: the
report workflow is a RAW workflow, and its steps are ordinary functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from hiring.tables import Candidate, HiringBase


class DailyFigures(BaseModel):
    date: date
    received: int
    rejected: int
    calls_completed: int
    by_status: dict[str, int]
    average_score: float | None


def engine_for(url: str | None) -> Engine:
    """The system's database; None gives an empty in-memory one (dry runs)."""
    if url is None:
        engine = create_engine("sqlite://")
        HiringBase.metadata.create_all(engine)
        return engine
    from raw.coordinator.db.database import normalize_url

    return create_engine(normalize_url(url, sync=True))


def daily_figures(engine: Engine, day: date) -> DailyFigures:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    today = (Candidate.updated_at >= start) & (Candidate.updated_at < end)
    with Session(engine) as session:
        received = session.scalar(
            select(func.count()).where(
                (Candidate.submitted_at >= start) & (Candidate.submitted_at < end)
            )
        )
        rejected = session.scalar(
            select(func.count()).where(today & (Candidate.status == "rejected"))
        )
        completed = session.scalar(
            select(func.count()).where(today & (Candidate.status == "completed"))
        )
        average = session.scalar(
            select(func.avg(Candidate.score)).where(
                (Candidate.submitted_at >= start) & (Candidate.submitted_at < end)
            )
        )
        rows = session.execute(select(Candidate.status, func.count()).group_by(Candidate.status))
        by_status = {str(status): int(count) for status, count in rows}
    return DailyFigures(
        date=day,
        received=received or 0,
        rejected=rejected or 0,
        calls_completed=completed or 0,
        by_status=by_status,
        average_score=round(float(average), 3) if average is not None else None,
    )


def markdown(figures: DailyFigures) -> str:
    lines = [
        f"# Hiring report for {figures.date.isoformat()}",
        "",
        f"- Applications received: {figures.received}",
        f"- Rejected: {figures.rejected}",
        f"- Screening calls completed: {figures.calls_completed}",
        "- Average CV score: "
        + (f"{figures.average_score:.2f}" if figures.average_score is not None else "-"),
        "",
        "## Candidates by status",
        "",
    ]
    lines += [f"- {status}: {count}" for status, count in sorted(figures.by_status.items())]
    if not figures.by_status:
        lines.append("- none yet")
    return "\n".join(lines) + "\n"
