"""Webhooks: check the platform's credential, store the raw update durably, answer 200.

Nothing here calls a platform: the inbox worker answers later, in order, per chat.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels import telegram
from bot.inbox_writer import NewUpdate
from bot.runtime import Runtime

log = logging.getLogger("sinergi.webhooks")
router = APIRouter()

# Telegram updates are small; anything near this is not an update worth keeping.
MAX_BODY = 1_048_576


def runtime_of(request: Request) -> Runtime:
    """The running Sinergi."""
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/webhook/telegram")
async def telegram_webhook(request: Request) -> Response:
    """Telegram posts an update; a repeated update_id has no second effect."""
    rt = runtime_of(request)
    secret = rt.settings.telegram_secret
    if not rt.settings.telegram_enabled or not secret:
        return JSONResponse({"ok": False}, status_code=404)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if given is None:
        rt.metrics.rejected.labels("telegram", "missing_secret").inc()
        return JSONResponse({"ok": False}, status_code=401)
    if not hmac.compare_digest(given.encode(), secret.encode()):
        rt.metrics.rejected.labels("telegram", "wrong_secret").inc()
        return JSONResponse({"ok": False}, status_code=403)
    body = await request.body()
    data = _json_object(body)
    if data is None or not isinstance(data.get("update_id"), int):
        rt.metrics.rejected.labels("telegram", "malformed").inc()
        log.warning("telegram update refused: not an update (%d bytes)", len(body))
        return JSONResponse({"ok": False, "error": "malformed update"}, status_code=400)
    return await store_update(rt, "telegram", str(data["update_id"]), telegram.chat_key(data), body)


def _json_object(body: bytes) -> dict[str, object] | None:
    """The body as a JSON object, or None when it is too big or not JSON."""
    if len(body) > MAX_BODY:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
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
    return JSONResponse({"ok": True})
