"""WhatsApp webhooks: a signed POST split into one inbox item per message and per receipt.

Nothing here reads what a message says: each item is stored sealed, keyed by its wamid, and
parsed later by the inbox worker (`parse.py`). A body that holds one item (almost every one)
is stored as the bytes Meta sent, not written out again; only a body of several items is
cut into one small JSON document per item.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

CHANNEL = "whatsapp"
MAX_INBOX_ID = 128


@dataclass(frozen=True)
class WebhookItem:
    """One message or status of a webhook POST, as the inbox stores it."""

    external_id: str
    chat_key: str
    raw: str


@dataclass(frozen=True)
class _Found:
    """An item found in a body, before it is written out: its keys and its envelope."""

    external_id: str
    chat_key: str
    envelope: dict[str, Any]


def valid_signature(body: bytes, header: str, app_secret: str) -> bool:
    """True when `X-Hub-Signature-256` is the HMAC-SHA256 of these exact bytes."""
    expected = "sha256=" + hmac.digest(app_secret.encode(), body, "sha256").hex()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def split(data: Mapping[str, Any], body: bytes | None = None) -> list[WebhookItem]:
    """Every message and status of a webhook body; malformed parts are skipped, never fatal.

    With `body` (the bytes `data` was read from) a lone item keeps those bytes as its raw:
    the worker finds the item in them again (`envelope`), nothing is serialised here.
    """
    found = list(_items(data))
    if len(found) == 1 and body is not None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:  # JSON in UTF-16 or UTF-32: written out as UTF-8 instead
            text = None
        if text is not None:
            return [WebhookItem(found[0].external_id, found[0].chat_key, text)]
    return [WebhookItem(f.external_id, f.chat_key, dump(f.envelope)) for f in found]


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    """A stored item's `{"type": …}` document: itself, or the one item of a whole Meta body."""
    if "entry" not in data:
        return data
    found = list(_items(data))
    if len(found) != 1:
        raise ValueError("a stored webhook body holds one item")
    return found[0].envelope


def _items(data: Mapping[str, Any]) -> Iterator[_Found]:
    """Walk entry → changes → value; only the `messages` field speaks of chats."""
    for entry in dicts(data.get("entry")):
        for change in dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            contacts = list(dicts(value.get("contacts")))
            for message in dicts(value.get("messages")):
                item = _message_item(message, contacts)
                if item is not None:
                    yield item
            for status in dicts(value.get("statuses")):
                item = _status_item(status)
                if item is not None:
                    yield item


def _message_item(message: dict[str, Any], contacts: list[dict[str, Any]]) -> _Found | None:
    """A message with the contact it came from (one POST may hold several senders)."""
    wamid = message.get("id")
    if not isinstance(wamid, str) or not wamid:
        return None
    contact = _contact_for(message, contacts)
    who = (
        text_of(message.get("from"))
        or text_of(contact.get("wa_id"))
        or text_of(contact.get("user_id"))
    )
    item = {"type": "message", "contact": contact, "message": message}
    return _Found(_inbox_id(wamid), f"{CHANNEL}:{who or '?'}", item)


def _status_item(status: dict[str, Any]) -> _Found | None:
    """A receipt: its key holds the state, since one message gets sent, delivered, read."""
    wamid, state = status.get("id"), status.get("status")
    if not isinstance(wamid, str) or not isinstance(state, str):
        return None
    who = text_of(status.get("recipient_id")) or text_of(status.get("recipient_user_id"))
    item = {"type": "status", "status": status}
    return _Found(_inbox_id(f"status:{wamid}:{state}"), f"{CHANNEL}:{who or '?'}", item)


def _contact_for(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The `contacts` entry of this message's sender (by wa_id, else BSUID, else the only one)."""
    sender, sender_user = message.get("from"), message.get("from_user_id")
    for contact in contacts:
        if (sender and contact.get("wa_id") == sender) or (
            sender_user and contact.get("user_id") == sender_user
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _inbox_id(key: str) -> str:
    """The inbox key; a wamid is ~60 characters, anything longer is hashed to fit."""
    if len(key) <= MAX_INBOX_ID:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def text_of(value: Any) -> str:
    """A string field, or empty."""
    return value if isinstance(value, str) else ""


def dicts(value: Any) -> Iterator[dict[str, Any]]:
    """The dict items of a JSON list (anything else yields nothing)."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def dump(data: dict[str, Any]) -> str:
    """Compact JSON for the inbox row."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
