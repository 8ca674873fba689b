"""The chat simulator: staff chat as any household or mentor of their region, through the same core."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bot.channels.local import make_update
from bot.web.admin.conversation import transcript
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt
from bot.web.admin.web import locale_of, now_of, render
from bot.web.webhooks.store import store_update
from locales.i18n import use_locale
from storage import chats
from storage.normalize import phone_e164

router = APIRouter()
CHANNEL = "simulator"


@router.get("/simulator")
async def page(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """A phone number to chat as, then the transcript with its choices as buttons."""
    raw = request.query_params.get("phone", "")
    phone = phone_e164(raw) if raw else None
    lines = []
    if phone:
        async with rt.sessions() as session:
            if not await chats.phone_in_scope(session, staff.scope, phone, CHANNEL):
                raise HTTPException(404)
            inbound, outbound = await chats.local_chat(session, CHANNEL, phone)
        with use_locale(locale_of(request)):
            lines = transcript(rt, inbound, outbound)
    last = next((line for line in reversed(lines) if not line.inbound), None)
    return render(
        request,
        "simulator.html",
        staff=staff,
        phone=phone or "",
        raw=raw,
        lines=lines,
        choices=last.choices if last else [],
        bad_phone=bool(raw and not phone),
    )


@router.post("/simulator/send")
async def send(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    phone: str = Form(""),
    text: str = Form(""),
    choice: str = Form(""),
) -> Response:
    """Store the message like a webhook would, answer it at once, and show the transcript."""
    number = phone_e164(phone)
    if number is None:
        return RedirectResponse("/simulator?" + urlencode({"phone": phone[:20]}), status_code=303)
    async with rt.sessions() as session:
        if not await chats.phone_in_scope(session, staff.scope, number, CHANNEL):
            raise HTTPException(404)
    now = now_of(request)
    update = make_update(number, text=text.strip()[:4000], choice=choice[:64] or None, now=now)
    body = json.dumps(update).encode()
    await store_update(rt, CHANNEL, str(update["id"]), f"{CHANNEL}:{number}", body)
    await rt.inbox.process_chat(f"{CHANNEL}:{number}", now)
    while await rt.sender.deliver(now):
        pass
    return RedirectResponse("/simulator?" + urlencode({"phone": number}) + "#end", status_code=303)
