"""WhatsApp webhooks: Meta's subscription check, and signed POSTs stored message by message.

The signature is checked over the exact bytes received, before anything is parsed; each
message and each status goes into the inbox under its own id, so a redelivery is a no-op.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.channels import whatsapp
from bot.inbox_writer import NewUpdate
from bot.runtime import Runtime
from bot.web.webhooks.store import (
    BodyTooLarge,
    json_object,
    post_route,
    read_body,
    runtime_of,
    store_updates,
    too_large,
)

log = logging.getLogger("sinergi.webhooks")
router = APIRouter()


@router.get("/webhook/whatsapp")
async def verify_subscription(request: Request) -> Response:
    """Meta's check when the webhook is set up: the challenge back, if the token is ours."""
    rt = runtime_of(request)
    expected = rt.settings.whatsapp_verify_token
    params = request.query_params
    token = params.get("hub.verify_token", "")
    if (
        expected
        and params.get("hub.mode") == "subscribe"
        and hmac.compare_digest(token.encode(), expected.encode())
    ):
        return PlainTextResponse(params.get("hub.challenge", ""))
    rt.metrics.rejected.labels("whatsapp", "verify_token").inc()
    return PlainTextResponse("forbidden", status_code=403)


async def receive(request: Request) -> Response:
    """Meta posts messages and receipts; each is stored once, then 200."""
    rt = runtime_of(request)
    secret = rt.settings.whatsapp_app_secret
    if not rt.settings.whatsapp_enabled or not secret:
        return JSONResponse({"ok": False}, status_code=404)
    signature = request.headers.get("X-Hub-Signature-256")
    if not signature:
        rt.metrics.rejected.labels("whatsapp", "missing_signature").inc()
        return JSONResponse({"ok": False}, status_code=401)
    try:
        body = await read_body(request)
    except BodyTooLarge:
        return too_large(rt, "whatsapp")
    if not whatsapp.valid_signature(body, signature, secret):
        rt.metrics.rejected.labels("whatsapp", "wrong_signature").inc()
        return JSONResponse({"ok": False}, status_code=403)
    data = json_object(body)
    if data is None:
        # Signed by Meta yet unreadable: retrying will not help, so say 400 and move on.
        rt.metrics.rejected.labels("whatsapp", "malformed").inc()
        log.warning("whatsapp webhook refused: not a JSON object (%d bytes)", len(body))
        return JSONResponse({"ok": False, "error": "malformed body"}, status_code=400)
    return await store_items(rt, whatsapp.split(data, body))


async def store_items(rt: Runtime, items: list[whatsapp.WebhookItem]) -> Response:
    """All items of one POST in one commit, then 200; with the database down, 503 so Meta retries."""
    now = datetime.now(UTC)
    updates = [
        NewUpdate(
            channel="whatsapp",
            external_id=item.external_id,
            chat_key=item.chat_key,
            raw=rt.vault.seal(item.raw),
            received_at=now,
        )
        for item in items
    ]
    return await store_updates(rt, "whatsapp", updates)


routes = [post_route("/webhook/whatsapp", receive)]
