"""The FastAPI app: routes as an explicit list, background loops in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import FastAPI

from bot import workers
from bot.runtime import Runtime
from bot.web import admin, health
from bot.web.webhooks import telegram as telegram_webhook
from bot.web.webhooks import whatsapp as whatsapp_webhook
from scheduler.clock import Clock
from scheduler.jobs import Schedule, run_due


def create_app(rt: Runtime, *, background: bool = True) -> FastAPI:
    """The web app over a built runtime; `background=False` leaves the loops to the caller (tests)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = workers.start(rt) if background else []
        clock = (
            _clock(rt) if background and getattr(_app.state, "scheduler_enabled", False) else None
        )
        try:
            yield
        finally:
            if clock is not None:
                await clock.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await rt.close()

    app = FastAPI(
        title="Sinergi", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.runtime = rt
    # First in the router, as plain endpoints: the webhooks are the hot path.
    app.router.routes.extend(telegram_webhook.routes + whatsapp_webhook.routes)
    for router in (whatsapp_webhook.router, health.router):
        app.include_router(router)
    admin.install(app)
    return app


def _clock(rt: Runtime) -> Clock:
    """The scheduler clock of `serve`: jobs every minute, then the sender is woken."""
    schedule = Schedule.from_settings(rt.settings)

    async def jobs(now: datetime) -> None:
        await run_due(rt.sessions, now, schedule)
        rt.outbox_wake.set()

    clock = Clock(jobs, rt.engine)
    clock.start()
    return clock
