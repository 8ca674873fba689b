"""A fake Meta: the Graph API behind an httpx transport (recording what was sent), and signed webhooks.

Error answers have the shape Meta sends (`{"error": {"message", "type", "code", "error_data",
"fbtrace_id"}}`), so the client's error handling is tested against the real thing.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import PAYLOADS
from tests.fakes import multipart

# Meta's own wording for the codes the sender must tell apart.
ERRORS = {
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone number "
        "in a short period of time.",
    ),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131026: (400, "Message undeliverable", "Unable to deliver message."),
    132015: (
        400,
        "Template is paused",
        "Template is paused due to low quality so it cannot be sent.",
    ),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    100: (400, "Invalid parameter", "(#100) Invalid parameter"),
}
MEDIA_HOST = "https://lookaside.fbsbx.com/whatsapp_business/attachments/"


def meta_error(code: int) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body Meta answers with for this error code."""
    status, title, details = ERRORS[code]
    body = {
        "error": {
            "message": f"({'#' if code < 1000 else ''}{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUvW",
        }
    }
    return status, body


@dataclass
class FakeGraphApi:
    """Answers `/{phone_id}/messages` and media lookups; `fail_next` queues error answers."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    next_id: int = 1
    accepted: list[dict[str, Any]] = field(default_factory=list)
    # Files uploaded for sending, by the media id given back: (type, bytes).
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """One Graph API call."""
        if request.url.path.endswith("/media") and request.method == "POST":
            return self._upload(request)
        body = json.loads(request.content) if request.content else {}
        self.calls.append((request.method, str(request.url), body))
        if request.url.path.endswith("/messages"):
            return self._message(body)
        if str(request.url).startswith(MEDIA_HOST):
            media_id = request.url.params.get("mid", "")
            return httpx.Response(
                200, content=self.media.get(media_id, b""), headers={"content-type": "image/jpeg"}
            )
        return self._media_info(request.url.path.rsplit("/", 1)[-1])

    def _message(self, body: dict[str, Any]) -> httpx.Response:
        """A send (or a read receipt) answered with a wamid, or the next queued failure."""
        if body.get("status") == "read":
            return httpx.Response(200, json={"success": True})
        if self.failures:
            status, error = self.failures.pop(0)
            return httpx.Response(status, json=error)
        self.next_id += 1
        self.accepted.append(body)
        to = body.get("to") or body.get("recipient")
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.FAKE{self.next_id:06d}"}],
            },
        )

    def _upload(self, request: httpx.Request) -> httpx.Response:
        """`POST /{phone_id}/media` (multipart): the file is kept and its new media id returned."""
        fields = multipart.fields(request)
        self.calls.append((request.method, str(request.url), {"upload": fields}))
        if fields.get("messaging_product") != "whatsapp" or not fields.get("type"):
            return httpx.Response(400, json=meta_error(100)[1])
        self.next_id += 1
        media_id = f"{9000000000 + self.next_id}"
        self.uploads[media_id] = (str(fields["type"]), fields.get("file", b""))
        return httpx.Response(200, json={"id": media_id})

    def _media_info(self, media_id: str) -> httpx.Response:
        """`GET /{media_id}`: a short-lived URL to the file."""
        if media_id not in self.media:
            return httpx.Response(404, json=meta_error(100)[1])
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "url": f"{MEDIA_HOST}?mid={media_id}&ext=1&hash=x",
                "mime_type": "image/jpeg",
                "sha256": hashlib.sha256(self.media[media_id]).hexdigest(),
                "file_size": len(self.media[media_id]),
                "id": media_id,
            },
        )

    def fail_next(self, code: int, times: int = 1) -> None:
        """The next `times` sends answer with Meta's error of this code."""
        self.failures.extend([meta_error(code)] * times)

    def fail_http(self, status: int, times: int = 1) -> None:
        """The next `times` sends answer a bare HTTP error (a proxy's 502, say)."""
        self.failures.extend(
            [(status, {"error": {"message": "Service unavailable", "code": 2}})] * times
        )

    def transport(self) -> httpx.MockTransport:
        """The transport the client under test uses."""
        return httpx.MockTransport(self.handler)

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        """The messages Meta accepted (what the person got), optionally to one wa_id or BSUID."""
        return [b for b in self.accepted if to is None or to in (b.get("to"), b.get("recipient"))]

    def tries(self) -> int:
        """Send requests made, accepted or refused (read receipts left out)."""
        return sum(
            1
            for _m, url, b in self.calls
            if url.endswith("/messages") and b.get("status") != "read"
        )

    def read_receipts(self) -> list[str]:
        """The message ids marked as read."""
        return [
            b["message_id"]
            for _m, url, b in self.calls
            if url.endswith("/messages") and b.get("status") == "read"
        ]


# Webhooks as Meta posts them, built on the real payloads in tests/fixtures/payloads ----------------


def sign(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 header Meta computes over the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(
    messages: list[dict[str, Any]] = (),
    statuses: list[dict[str, Any]] = (),  # type: ignore[assignment]
    contacts: list[dict[str, Any]] = (),
) -> dict[str, Any]:  # type: ignore[assignment]
    """A webhook body shaped like the real list-reply capture, with our messages and statuses."""
    body = json.loads((PAYLOADS / "whatsapp_interactive_list_reply.pywa_fixture.json").read_text())
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"] = list(contacts)
    value.pop("messages")
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return body


def contact(
    wa_id: str | None, user_id: str | None = None, name: str = "Ibu Siti"
) -> dict[str, Any]:
    """A `contacts` entry: the profile name, the wa_id and (since 2026) the BSUID."""
    entry: dict[str, Any] = {"profile": {"name": name}}
    if wa_id:
        entry["wa_id"] = wa_id
    if user_id:
        entry["user_id"] = user_id
    return entry


def message(wamid: str, wa_id: str, timestamp: int, kind: str, **content: Any) -> dict[str, Any]:
    """One message object as Meta nests it: `{"from", "id", "timestamp", "type", <type>: {...}}`."""
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": kind,
        **copy.deepcopy(content),
    }


def status(
    wamid: str, state: str, wa_id: str, timestamp: int, error_code: int | None = None
) -> dict[str, Any]:
    """A receipt shaped like the real sent/failed fixtures."""
    name = "sent" if error_code is None else "failed"
    real = json.loads((PAYLOADS / f"whatsapp_status_{name}.pywa_fixture.json").read_text())
    receipt = real["entry"][0]["changes"][0]["value"]["statuses"][0]
    receipt.update(id=wamid, status=state, recipient_id=wa_id, timestamp=str(timestamp))
    if error_code is not None:
        receipt["errors"][0].update(
            code=error_code, title=ERRORS.get(error_code, (0, "Error", ""))[1]
        )
    return receipt
