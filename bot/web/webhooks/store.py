"""What both webhooks share: the body read under a cap, one JSON reader, one store path.

A platform's POST is answered as soon as its updates are committed (sealed) to the inbox;
the inbox worker answers the people later, in order, per chat.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.inbox_writer import NewUpdate
from bot.runtime import Runtime

log = logging.getLogger("sinergi.webhooks")

# Updates are small (Telegram's and Meta's are a few kB); anything near this is not worth keeping.
MAX_BODY = 1_048_576


# The answer to almost every POST, rendered once.
OK = b'{"ok":true}'


class BodyTooLarge(Exception):
    """The POST's body is over the cap; it was not read further."""


class PlainEndpoint:
    """A webhook handler served as a bare ASGI app, past FastAPI's per-request machinery.

    FastAPI's route wrapper (dependency solving, its exit stack, response checks) took a
    third of each webhook POST for a handler that needs none of it: the handler reads the
    raw request and returns a response, as before. Middleware (security headers, error
    pages for a crash) still wraps it.
    """

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


def post_route(path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
    """A POST route for the app's router that calls `handler` as a plain endpoint."""
    return Route(path, PlainEndpoint(handler), methods=["POST"], include_in_schema=False)


def runtime_of(request: Request) -> Runtime:
    """The running Sinergi."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read as it streams in and abandoned past `limit` bytes (memory stays bounded)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(rt: Runtime, channel: str) -> Response:
    """413, counted, with nothing stored."""
    rt.metrics.rejected.labels(channel, "too_large").inc()
    log.warning("%s webhook refused: body over %d bytes", channel, MAX_BODY)
    return JSONResponse({"ok": False, "error": "body too large"}, status_code=413)


def json_object(body: bytes) -> dict[str, object] | None:
    """The body as a JSON object, or None when it is not one (bad bytes, too deep, an array)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


async def store_update(
    rt: Runtime, channel: str, external_id: str, chat_key: str, body: bytes
) -> Response:
    """Committed (sealed), then 200; with the database down, 503 so the platform retries."""
    update = NewUpdate(
        channel=channel,
        external_id=external_id,
        chat_key=chat_key,
        raw=rt.vault.seal(body.decode("utf-8", errors="replace")),
        received_at=datetime.now(UTC),
    )
    return await store_updates(rt, channel, [update])


async def store_updates(rt: Runtime, channel: str, updates: list[NewUpdate]) -> Response:
    """All updates of one POST committed together (shared with concurrent POSTs), then 200."""
    try:
        fresh = await rt.inbox_writer.store(updates)
    except (SQLAlchemyError, OSError):
        log.exception("could not store %s update", channel)
        return JSONResponse({"ok": False}, status_code=503)
    new = sum(fresh)
    if new:
        rt.metrics.updates.labels(channel).inc(new)
        rt.inbox_wake.set()
    if len(updates) > new:
        rt.metrics.duplicates.labels(channel).inc(len(updates) - new)
    return Response(OK, media_type="application/json")
