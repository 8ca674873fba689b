"""A stored WhatsApp item → the neutral model: an Inbound for a message, a StatusUpdate for a receipt."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.channels.base import SendResult
from bot.channels.whatsapp.graph import classify
from bot.channels.whatsapp.webhook import CHANNEL, dicts, envelope, text_of
from bot.messages import Address, Inbound, Media, StatusUpdate

MEDIA_KINDS = {"image": "photo", "document": "document", "audio": "audio"}
# Not a person talking to us: a reaction (or its removal), a deleted or edited message.
NOT_SPOKEN = {"reaction", "revoke", "revoked", "deleted", "edit", "edited", "message_edit"}
# A wa_id is a phone number in international form without the plus.
WA_ID = re.compile(r"[0-9]{6,20}")
# A business-scoped user id: a country code, a dot, letters and digits (`ID.13491208655302741918`).
BSUID = re.compile(r"[A-Z]{2}\.[0-9A-Za-z]{1,60}")


def parse(raw: str) -> list[Inbound]:
    """The neutral message of one stored item (none for a receipt or what is not a person
    talking to us); raises on one we cannot read or whose sender is no number or BSUID."""
    data = envelope(json.loads(raw))
    if data.get("type") == "status":
        return []
    message = data["message"]
    if not _spoken(message):
        return []
    return [_message(data.get("contact") or {}, message)]


def _spoken(message: dict[str, Any]) -> bool:
    """A person writing to us: not a group's message, a reaction, a deletion or an edit."""
    return not message.get("group_id") and message.get("type") not in NOT_SPOKEN


def receipts(raw: str) -> list[StatusUpdate]:
    """The receipt in one stored item (none for a message): it updates the outbox, not the chat."""
    data = envelope(json.loads(raw))
    if data.get("type") != "status":
        return []
    return [_status(data["status"])]


def _status(status: dict[str, Any]) -> StatusUpdate:
    """A receipt, with Meta's first error code when it failed."""
    error = next(iter(dicts(status.get("errors"))), {})
    code = error.get("code")
    failure = (
        classify(0, code if isinstance(code, int) else None, "")
        if status["status"] == "failed"
        else None
    )
    return StatusUpdate(
        channel=CHANNEL,
        external_message_id=str(status["id"]),
        status=str(status["status"]),
        at=_time(status.get("timestamp")),
        error_code=code if isinstance(code, int) else None,
        error_title=text_of(error.get("title")) or None,
        outcome=_outcome(failure) if failure else None,
    )


def _outcome(result: SendResult) -> str:
    """What a failed receipt means for the message it speaks of."""
    if result.window_closed:
        return "window_closed"
    if result.unreachable:
        return "unreachable"
    return "failed" if result.permanent else "retry"


def _message(contact: dict[str, Any], message: dict[str, Any]) -> Inbound:
    """One message, keyed on the BSUID when there is one, else on the wa_id."""
    wa_id = text_of(message.get("from")) or text_of(contact.get("wa_id"))
    bsuid = text_of(contact.get("user_id")) or text_of(message.get("from_user_id"))
    key = bsuid or wa_id
    if not key:
        raise ValueError("message without a sender")
    if (wa_id and not WA_ID.fullmatch(wa_id)) or (bsuid and not BSUID.fullmatch(bsuid)):
        raise ValueError("sender is neither a number nor a BSUID")
    base: dict[str, Any] = dict(
        address=Address(CHANNEL, key),
        sent_at=_time(message.get("timestamp")),
        message_id=str(message["id"]),
        phone=_phone(wa_id),
        alt_id=wa_id if bsuid and wa_id else None,
        # Like Telegram's callback id, the wamid is acknowledged (marked read) with the first reply.
        callback_id=str(message["id"]),
    )
    kind = message.get("type")
    if kind == "system":
        return _system(message, base, key)
    return _content(kind, message, base, wa_id)


def _content(kind: Any, message: dict[str, Any], base: dict[str, Any], wa_id: str) -> Inbound:
    """Text, a button or list answer, media, a location or a contact card; else unsupported."""
    if kind == "text":
        return Inbound(kind="text", text=text_of((message.get("text") or {}).get("body")), **base)
    if kind == "interactive":
        return _interactive(message.get("interactive") or {}, base)
    if kind == "button":  # a quick-reply button of a template
        button = message.get("button") or {}
        payload = text_of(button.get("payload")) or text_of(button.get("text"))
        return Inbound(kind="choice", choice=payload, text=text_of(button.get("text")), **base)
    if kind in MEDIA_KINDS:
        part = message.get(kind) or {}
        media = Media(MEDIA_KINDS[kind], str(part["id"]), text_of(part.get("mime_type")) or None)
        return Inbound(kind="media", media=media, text=text_of(part.get("caption")), **base)
    if kind == "location":
        place = message.get("location") or {}
        text = " ".join(p for p in (text_of(place.get("name")), text_of(place.get("address"))) if p)
        return Inbound(kind="location", text=text, **base)
    if kind == "contacts":
        return _contact_card(message, base, wa_id)
    return Inbound(kind="unsupported", **base)


def _interactive(interactive: dict[str, Any], base: dict[str, Any]) -> Inbound:
    """A reply button or list row: its id is the choice's key."""
    kind = interactive.get("type")
    answer = interactive.get(kind) if kind in ("button_reply", "list_reply") else None
    if not isinstance(answer, dict) or not text_of(answer.get("id")):
        return Inbound(kind="unsupported", **base)
    return Inbound(
        kind="choice", choice=text_of(answer["id"]), text=text_of(answer.get("title")), **base
    )


def _contact_card(message: dict[str, Any], base: dict[str, Any], wa_id: str) -> Inbound:
    """A shared contact card; it is the sender's own when its WhatsApp number is the sender's."""
    card = next(iter(dicts(message.get("contacts"))), {})
    phone = next(iter(dicts(card.get("phones"))), {})
    number = text_of(phone.get("wa_id")) or text_of(phone.get("phone"))
    own = bool(wa_id) and text_of(phone.get("wa_id")) == wa_id
    return Inbound(kind="contact", contact_phone=number or None, contact_is_own=own, **base)


def _system(message: dict[str, Any], base: dict[str, Any], old_key: str) -> Inbound:
    """A changed number: the identity moves to the new key and keeps its household link."""
    system = message.get("system") or {}
    kind = text_of(system.get("type"))
    if kind not in ("user_changed_number", "customer_changed_number"):
        return Inbound(kind="system", system=kind or "unknown", **base)
    new_wa = text_of(system.get("wa_id")) or text_of(system.get("new_wa_id"))
    new_key = text_of(system.get("user_id")) or new_wa or old_key
    if not (WA_ID.fullmatch(new_key) or BSUID.fullmatch(new_key)):
        raise ValueError("new number is neither a number nor a BSUID")
    base.update(
        address=Address(CHANNEL, new_key), alt_id=old_key, phone=_phone(new_wa) or base["phone"]
    )
    return Inbound(kind="system", system="user_changed_number", **base)


def _phone(wa_id: str) -> str | None:
    """A wa_id is the number in international form without the plus."""
    return "+" + wa_id if wa_id.isdigit() else None


def _time(value: Any) -> datetime:
    """Meta's timestamps are Unix seconds as strings."""
    return datetime.fromtimestamp(int(value), UTC)
