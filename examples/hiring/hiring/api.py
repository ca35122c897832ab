"""The hiring system's FastAPI app: the candidates' status, beside the coordinator's routes.

``raw serve`` / ``raw up`` call :func:`create_app` (named in ``system.coordinator.app``);
the coordinator mounts its webhooks, inbox, health and status API on it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from hiring.state import project
from hiring.tables import STATUSES, Candidate
from raw.coordinator.api import require_api_token
from raw.coordinator.app import Coordinator, mount_coordinator
from raw.coordinator.errors import ResourceNotFoundError


class CandidateView(BaseModel):
    candidate_id: str
    name: str
    position: str
    status: str
    score: float | None
    qualified: bool | None
    llm: str | None
    call_time: datetime | None
    call_attempts: int
    correlation_id: str | None
    submitted_at: datetime
    updated_at: datetime
    cv_erased: bool


class CandidateDetail(CandidateView):
    analysis: dict[str, Any] | None
    summary: dict[str, Any] | None
    process_id: str
    process: dict[str, Any] | None
    """The process's ``raw_state`` (step, what it waits for and until when, history)."""
    process_error: str | None = None


class CandidateList(BaseModel):
    candidates: list[CandidateView]
    counts: dict[str, int]


def _utc(value: Any) -> Any:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _view(row: Candidate) -> dict[str, Any]:
    names = [name for name in CandidateView.model_fields if name != "cv_erased"]
    fields = {name: _utc(getattr(row, name)) for name in names}
    return {**fields, "cv_erased": row.cv_erased_at is not None}


def _coordinator(request: Request) -> Coordinator:
    coordinator: Coordinator = request.app.state.raw_coordinator
    return coordinator


router = APIRouter(
    prefix="/api/candidates", tags=["candidates"], dependencies=[Depends(require_api_token)]
)


@router.get("", summary="Candidates, newest first, with counts by status")
async def list_candidates(
    request: Request,
    status: Annotated[str | None, Query(description=f"One of: {', '.join(STATUSES)}")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CandidateList:
    db = _coordinator(request).db
    async with db.read() as session:
        query = select(Candidate).order_by(Candidate.submitted_at.desc()).limit(limit)
        if status is not None:
            query = query.where(Candidate.status == status)
        rows = (await session.scalars(query)).all()
        grouped = await session.execute(
            select(Candidate.status, func.count()).group_by(Candidate.status)
        )
        counts = {str(status): int(count) for status, count in grouped}
    return CandidateList(candidates=[CandidateView(**_view(r)) for r in rows], counts=counts)


@router.get("/{candidate_id}", summary="One candidate with its process state and history")
async def get_candidate(request: Request, candidate_id: str) -> CandidateDetail:
    from raw.orchestrator.client import process_id, process_type

    coordinator = _coordinator(request)
    async with coordinator.db.read() as session:
        row = await session.get(Candidate, candidate_id)
    if row is None:
        raise ResourceNotFoundError("candidate", candidate_id, "List them: GET /api/candidates.")
    pid = process_id(process_type("HiringProcess"), candidate_id)
    state, error = await coordinator.process_state(pid)
    return CandidateDetail(
        **_view(row),
        analysis=row.analysis,
        summary=row.summary,
        process_id=pid,
        process=state,
        process_error=error,
    )


def create_app() -> FastAPI:
    app = FastAPI(
        title="Hiring",
        description="CVs in, screening calls out: the hiring system's webhooks and status.",
    )
    app.include_router(router)
    mount_coordinator(app, project())
    return app
