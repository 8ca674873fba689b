"""The shape of every staff action: one unit of work, records read through the scope, 404 outside it, then a redirect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import HTTPException
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from storage.db import unit_of_work
from storage.scope import NotFound


@asynccontextmanager
async def staff_action(rt: Runtime) -> AsyncIterator[AsyncSession]:
    """All of the action or none of it; a record outside the scope (NotFound) answers 404."""
    try:
        async with unit_of_work(rt.sessions) as session:
            yield session
    except NotFound:
        raise HTTPException(404) from None


def see_other(url: str) -> RedirectResponse:
    """The browser goes on to `url` after a form (303, so a reload does not post again)."""
    return RedirectResponse(url, status_code=303)
