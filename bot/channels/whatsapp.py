"""WhatsApp Cloud API: webhook JSON → Inbound/StatusUpdate, and Reply → Graph API calls over httpx.

A thin client of our own: it can be pointed at any host (`SINERGI_WHATSAPP_API_URL`), keeps no
state in memory, and turns every Graph error into a SendResult the outbox sender understands.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.channels.base import SendResult
from bot.config import WhatsAppTemplate
from bot.messages import Address, Choice, Inbound, Media, Reply, StatusUpdate
from locales.i18n import _
from storage.media import MediaStore

log = logging.getLogger("sinergi.whatsapp")

CHANNEL = "whatsapp"
# The Graph API's limits; a request beyond them is rejected with error 100 or 131009.
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS, MAX_BUTTON_TITLE, MAX_BUTTON_ID = 3, 20, 256
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION, MAX_ROW_ID = 10, 24, 72, 200
MAX_LIST_BUTTON = 20
MAX_TEMPLATE_PARAM = 1024
MAX_MEDIA_BYTES = 16 * 1024 * 1024
MAX_INBOX_ID = 128

# Graph error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
RATE_LIMITED = {4, 80007, 130429, 131048, 131056, 133016}
TRANSIENT = {1, 2, 131000, 131016, 133004}
UNREACHABLE = {131026}
WINDOW_CLOSED = {131047}
TEMPLATE_REFUSED = {132000, 132001, 132005, 132007, 132012, 132015, 132016, 132068, 132069}
MEDIA_KINDS = {"image": "photo", "document": "document", "audio": "audio"}


# Webhook: one POST → one inbox row per message and per status ------------------------------


@dataclass(frozen=True)
class WebhookItem:
    """One message or status of a webhook POST, as the inbox stores it."""

    external_id: str
    chat_key: str
    raw: str


def valid_signature(body: bytes, header: str, app_secret: str) -> bool:
    """True when `X-Hub-Signature-256` is the HMAC-SHA256 of these exact bytes."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def split(data: Mapping[str, Any]) -> list[WebhookItem]:
    """Every message and status of a webhook body; malformed parts are skipped, never fatal."""
    return list(_items(data))


def _items(data: Mapping[str, Any]) -> Iterator[WebhookItem]:
    """Walk entry → changes → value; only the `messages` field speaks of chats."""
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            contacts = list(_dicts(value.get("contacts")))
            for message in _dicts(value.get("messages")):
                item = _message_item(message, contacts)
                if item is not None:
                    yield item
            for status in _dicts(value.get("statuses")):
                item = _status_item(status)
                if item is not None:
                    yield item


def _message_item(message: dict[str, Any], contacts: list[dict[str, Any]]) -> WebhookItem | None:
    """A message with the contact it came from (one POST may hold several senders)."""
    wamid = message.get("id")
    if not isinstance(wamid, str) or not wamid:
        return None
    contact = _contact_for(message, contacts)
    who = _text(message.get("from")) or _text(contact.get("wa_id")) or _text(contact.get("user_id"))
    raw = _dump({"type": "message", "contact": contact, "message": message})
    return WebhookItem(_inbox_id(wamid), f"{CHANNEL}:{who or '?'}", raw)


def _status_item(status: dict[str, Any]) -> WebhookItem | None:
    """A receipt: its key holds the state, since one message gets sent, delivered, read."""
    wamid, state = status.get("id"), status.get("status")
    if not isinstance(wamid, str) or not isinstance(state, str):
        return None
    who = _text(status.get("recipient_id")) or _text(status.get("recipient_user_id"))
    raw = _dump({"type": "status", "status": status})
    return WebhookItem(_inbox_id(f"status:{wamid}:{state}"), f"{CHANNEL}:{who or '?'}", raw)


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


# Parsing a stored item into the neutral model ---------------------------------------------


def parse(raw: str) -> list[Inbound]:
    """The neutral message of one stored item (none for a receipt); raises on one we cannot read."""
    data = json.loads(raw)
    if data.get("type") == "status":
        return []
    return [_message(data.get("contact") or {}, data["message"])]


def receipts(raw: str) -> list[StatusUpdate]:
    """The receipt in one stored item (none for a message): it updates the outbox, not the chat."""
    data = json.loads(raw)
    if data.get("type") != "status":
        return []
    return [_status(data["status"])]


def _status(status: dict[str, Any]) -> StatusUpdate:
    """A receipt, with Meta's first error code when it failed."""
    error = next(iter(_dicts(status.get("errors"))), {})
    code = error.get("code")
    failure = (
        _classify(0, code if isinstance(code, int) else None, "")
        if status["status"] == "failed"
        else None
    )
    return StatusUpdate(
        channel=CHANNEL,
        external_message_id=str(status["id"]),
        status=str(status["status"]),
        at=_time(status.get("timestamp")),
        error_code=code if isinstance(code, int) else None,
        error_title=_text(error.get("title")) or None,
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
    wa_id = _text(message.get("from")) or _text(contact.get("wa_id"))
    bsuid = _text(contact.get("user_id")) or _text(message.get("from_user_id"))
    key = bsuid or wa_id
    if not key:
        raise ValueError("message without a sender")
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
        return Inbound(kind="text", text=_text((message.get("text") or {}).get("body")), **base)
    if kind == "interactive":
        return _interactive(message.get("interactive") or {}, base)
    if kind == "button":  # a quick-reply button of a template
        button = message.get("button") or {}
        payload = _text(button.get("payload")) or _text(button.get("text"))
        return Inbound(kind="choice", choice=payload, text=_text(button.get("text")), **base)
    if kind in MEDIA_KINDS:
        part = message.get(kind) or {}
        media = Media(MEDIA_KINDS[kind], str(part["id"]), _text(part.get("mime_type")) or None)
        return Inbound(kind="media", media=media, text=_text(part.get("caption")), **base)
    if kind == "location":
        place = message.get("location") or {}
        text = " ".join(p for p in (_text(place.get("name")), _text(place.get("address"))) if p)
        return Inbound(kind="location", text=text, **base)
    if kind == "contacts":
        return _contact_card(message, base, wa_id)
    return Inbound(kind="unsupported", **base)


def _interactive(interactive: dict[str, Any], base: dict[str, Any]) -> Inbound:
    """A reply button or list row: its id is the choice's key."""
    kind = interactive.get("type")
    answer = interactive.get(kind) if kind in ("button_reply", "list_reply") else None
    if not isinstance(answer, dict) or not _text(answer.get("id")):
        return Inbound(kind="unsupported", **base)
    return Inbound(
        kind="choice", choice=_text(answer["id"]), text=_text(answer.get("title")), **base
    )


def _contact_card(message: dict[str, Any], base: dict[str, Any], wa_id: str) -> Inbound:
    """A shared contact card; it is the sender's own when its WhatsApp number is the sender's."""
    card = next(iter(_dicts(message.get("contacts"))), {})
    phone = next(iter(_dicts(card.get("phones"))), {})
    number = _text(phone.get("wa_id")) or _text(phone.get("phone"))
    own = bool(wa_id) and _text(phone.get("wa_id")) == wa_id
    return Inbound(kind="contact", contact_phone=number or None, contact_is_own=own, **base)


def _system(message: dict[str, Any], base: dict[str, Any], old_key: str) -> Inbound:
    """A changed number: the identity moves to the new key and keeps its household link."""
    system = message.get("system") or {}
    kind = _text(system.get("type"))
    if kind not in ("user_changed_number", "customer_changed_number"):
        return Inbound(kind="system", system=kind or "unknown", **base)
    new_wa = _text(system.get("wa_id")) or _text(system.get("new_wa_id"))
    new_key = _text(system.get("user_id")) or new_wa or old_key
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


def _text(value: Any) -> str:
    """A string field, or empty."""
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    """The dict items of a JSON list (anything else yields nothing)."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _dump(data: dict[str, Any]) -> str:
    """Compact JSON for the inbox row."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# Rendering a Reply within the platform's limits --------------------------------------------


def render(reply: Reply) -> dict[str, Any]:
    """The message object: reply buttons, else a list, else a numbered text menu."""
    choices = reply.choices
    if choices and _fits_buttons(reply):
        return {"type": "interactive", "interactive": _buttons(reply)}
    if choices and _fits_list(reply):
        return {"type": "interactive", "interactive": _list(reply)}
    body = _clip(reply.numbered_text(), MAX_TEXT)
    # Meta refuses an empty body; a blank reply is a bug upstream, but never a refused request.
    return {"type": "text", "text": {"body": body if body.strip() else "…", "preview_url": False}}


def _fits_buttons(reply: Reply) -> bool:
    """Up to 3 distinct buttons whose titles fit whole (a cut label would mislead)."""
    return (
        len(reply.choices) <= MAX_BUTTONS
        and _distinct_keys(reply.choices, MAX_BUTTON_ID)
        and all(0 < len(c.label.strip()) <= MAX_BUTTON_TITLE for c in reply.choices)
        and len({c.label.strip() for c in reply.choices}) == len(reply.choices)
        and len(reply.text) <= MAX_INTERACTIVE_BODY
    )


def _fits_list(reply: Reply) -> bool:
    """Up to 10 rows; a long label is shortened in the title and shown whole below it."""
    return (
        len(reply.choices) <= MAX_ROWS
        and _distinct_keys(reply.choices, MAX_ROW_ID)
        and all(0 < len(c.label.strip()) <= MAX_ROW_DESCRIPTION for c in reply.choices)
        and all(not c.description or len(c.label) <= MAX_ROW_TITLE for c in reply.choices)
        and len(reply.text) <= MAX_INTERACTIVE_BODY
    )


def _distinct_keys(choices: tuple[Choice, ...], limit: int) -> bool:
    """Ids must be unique and short enough, or the API refuses the message."""
    keys = [c.key for c in choices]
    return all(0 < len(k) <= limit for k in keys) and len(set(keys)) == len(keys)


def _body(reply: Reply) -> dict[str, str]:
    """An interactive message needs a non-empty body."""
    return {"text": reply.text.strip() or _("Choose one:")}


def _buttons(reply: Reply) -> dict[str, Any]:
    """Reply buttons: the key comes back as `button_reply.id`."""
    buttons = [
        {"type": "reply", "reply": {"id": c.key, "title": c.label.strip()}} for c in reply.choices
    ]
    return {"type": "button", "body": _body(reply), "action": {"buttons": buttons}}


def _list(reply: Reply) -> dict[str, Any]:
    """A list of rows: the key comes back as `list_reply.id`."""
    rows = [_row(c) for c in reply.choices]
    button = _clip(_("Choose"), MAX_LIST_BUTTON)
    return {
        "type": "list",
        "body": _body(reply),
        "action": {"button": button, "sections": [{"rows": rows}]},
    }


def _row(choice: Choice) -> dict[str, str]:
    """A row: the label as title, or shortened with the whole label as its description."""
    label = choice.label.strip()
    if len(label) <= MAX_ROW_TITLE:
        row = {"id": choice.key, "title": label}
        if choice.description:
            row["description"] = _clip(choice.description, MAX_ROW_DESCRIPTION)
        return row
    return {"id": choice.key, "title": _clip(label, MAX_ROW_TITLE), "description": label}


def _clip(text: str, limit: int) -> str:
    """Shorten at a word boundary with an ellipsis, counting characters as the API does."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def template_message(spec: WhatsAppTemplate, params: tuple[str, ...]) -> dict[str, Any] | None:
    """An approved template with its body parameters; None when one would be empty or missing."""
    values = [re.sub(r"\s+", " ", p).strip() for p in params]
    if len(values) != len(spec.params) or not all(values):
        return None
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    if values:
        parameters = [{"type": "text", "text": _clip(v, MAX_TEMPLATE_PARAM)} for v in values]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": template}


# The Graph API client -----------------------------------------------------------------------


class WhatsAppClient:
    """Sends replies through `{api_url}/{phone_id}/messages`, and fetches media by id."""

    name = CHANNEL

    def __init__(
        self,
        token: str,
        phone_id: str,
        api_url: str,
        *,
        templates: Mapping[str, WhatsAppTemplate],
        media_dir: Path,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.phone_id = phone_id
        self.templates = dict(templates)
        self.media_dir = media_dir
        self.http = httpx.AsyncClient(
            base_url=api_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
            timeout=timeout,
        )

    async def send(self, recipient: str, reply: Reply) -> SendResult:
        """One message (or the template the sender asked for); errors become a SendResult."""
        if reply.extra.get("callback_id"):
            await self.mark_read(str(reply.extra["callback_id"]))
        if reply.extra.get("template_only"):
            content = self._template(reply)
            if content is None:
                return SendResult(
                    ok=False, permanent=True, error=f"template {reply.template}: bad parameters"
                )
        else:
            content = render(reply)
        return await self._post({**_to(recipient), **content})

    def template_ready(self, reply: Reply) -> bool:
        """Whether the reply names a catalogue template and fills every parameter of it."""
        return self._template(reply) is not None

    def _template(self, reply: Reply) -> dict[str, Any] | None:
        """The catalogue's template named by the reply, filled with its parameters."""
        spec = self.templates.get(reply.template or "")
        return None if spec is None else template_message(spec, reply.template_params)

    async def mark_read(self, message_id: str) -> None:
        """Blue ticks for the message we answer; failing this is not worth failing the reply."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        try:
            await self.http.post(f"{self.phone_id}/messages", json=body)
        except httpx.HTTPError as exc:
            log.info("mark as read failed: %s", type(exc).__name__)

    async def _post(self, body: dict[str, Any]) -> SendResult:
        """POST a message and read Meta's answer."""
        try:
            response = await self.http.post(
                f"{self.phone_id}/messages", json={"messaging_product": "whatsapp", **body}
            )
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=f"network: {type(exc).__name__}")
        return result_of(response)

    async def download_media(self, media: Media) -> Media:
        """Fetch the file now (Meta's links expire) into media_dir; the media keeps its path."""
        try:
            meta = await self.http.get(media.file_id)
            meta.raise_for_status()
            info = meta.json()
            size = int(info.get("file_size") or 0)
            if size > MAX_MEDIA_BYTES:
                raise ValueError("file too large")
            content = await self.http.get(str(info["url"]))
            content.raise_for_status()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("media %s not downloaded: %s", media.kind, type(exc).__name__)
            return media
        mime = (media.mime_type or _text(info.get("mime_type")) or "").split(";")[0].strip() or None
        reference = MediaStore(self.media_dir).save(
            content.content[:MAX_MEDIA_BYTES], mime_type=mime
        )
        return Media(media.kind, media.file_id, mime, reference)

    async def close(self) -> None:
        """Close the HTTP pool."""
        await self.http.aclose()


def _to(recipient: str) -> dict[str, str]:
    """A wa_id goes in `to`; a business-scoped user id (letters, a dot) goes in `recipient`."""
    digits = recipient.lstrip("+")
    if digits.isdigit():
        return {"recipient_type": "individual", "to": digits}
    return {"recipient_type": "individual", "recipient": recipient}


def result_of(response: httpx.Response) -> SendResult:
    """Meta's answer as retry, window closed, unreachable, refused template, or failed for good."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.is_success and isinstance(data, dict):
        messages = data.get("messages") or [{}]
        return SendResult(ok=True, message_id=_text(messages[0].get("id")) or None)
    error = data.get("error", {}) if isinstance(data, dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    text = f"{code or response.status_code}: {_text(error.get('message'))}"[:200]
    return _classify(response.status_code, code if isinstance(code, int) else None, text)


def _classify(status: int, code: int | None, text: str) -> SendResult:
    """What the sender should do with this error."""
    if code in WINDOW_CLOSED:
        return SendResult(ok=False, window_closed=True, error=text)
    if code in UNREACHABLE:
        return SendResult(ok=False, unreachable=True, error=text)
    if code in TEMPLATE_REFUSED:
        return SendResult(ok=False, permanent=True, error="template " + text)
    if status == 429 or code in RATE_LIMITED or status >= 500 or code in TRANSIENT:
        return SendResult(ok=False, error=text)
    if status in (401, 403) or code in (10, 190, 200):
        return SendResult(ok=False, error=text)  # our token or permission: retry while it is fixed
    return SendResult(ok=False, permanent=True, error=text)
