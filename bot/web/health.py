"""Operations: /healthz answers when the database does; /metrics in Prometheus text."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.web.webhooks.store import runtime_of
from storage import escalations, inbox, outbox

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    """200 with `{"status": "ok"}` when the database answers, else 503."""
    rt = runtime_of(request)
    try:
        async with rt.sessions() as session:
            await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return JSONResponse({"status": "error", "database": "down"}, status_code=503)
    channels = sorted(rt.clients)
    return JSONResponse({"status": "ok", "database": "ok", "channels": channels})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Counters since start, and the outbox and inbox depth read now."""
    rt = runtime_of(request)
    try:
        async with rt.sessions() as session:
            rt.metrics.outbox_depth.set(await outbox.depth(session))
            rt.metrics.inbox_pending.set((await inbox.count_by_state(session)).get("pending", 0))
            rt.metrics.sla_breached.set(
                await escalations.count_breached(session, datetime.now(UTC))
            )
    except (SQLAlchemyError, OSError):
        pass  # the counters are still worth scraping when the database is away
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
