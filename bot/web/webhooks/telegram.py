"""Telegram's webhook: the secret token checked in constant time, the update stored once.

Nothing here calls a platform: the inbox worker answers later, in order, per chat.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from bot.channels import telegram
from bot.web.webhooks.store import (
    BodyTooLarge,
    json_object,
    post_route,
    read_body,
    runtime_of,
    store_update,
    too_large,
)

log = logging.getLogger("sinergi.webhooks")


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
    try:
        body = await read_body(request)
    except BodyTooLarge:
        return too_large(rt, "telegram")
    data = json_object(body)
    if data is None or not isinstance(data.get("update_id"), int):
        rt.metrics.rejected.labels("telegram", "malformed").inc()
        log.warning("telegram update refused: not an update (%d bytes)", len(body))
        return JSONResponse({"ok": False, "error": "malformed update"}, status_code=400)
    return await store_update(rt, "telegram", str(data["update_id"]), telegram.chat_key(data), body)


routes = [post_route("/webhook/telegram", telegram_webhook)]
