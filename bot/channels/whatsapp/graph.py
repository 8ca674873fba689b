"""The Graph API client: Reply → `POST /{phone_id}/messages` over httpx, media fetched by id.

A thin client of our own: it can be pointed at any host (`SINERGI_WHATSAPP_API_URL`), keeps no
state in memory, and turns every Graph error into a SendResult the outbox sender understands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx

from bot.channels.base import CheckFailed, MediaFile, MediaUnavailable, SendResult, Traits
from bot.channels.whatsapp.render import MAX_TEXT, media_message, render, template_message
from bot.config import WhatsAppTemplate
from bot.messages import Media, Reply

log = logging.getLogger("sinergi.whatsapp")

CHANNEL = "whatsapp"
MAX_MEDIA_BYTES = 16 * 1024 * 1024

# Graph error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
RATE_LIMITED = {4, 80007, 130429, 131048, 131056, 133016}
TRANSIENT = {1, 2, 131000, 131016, 133004}
UNREACHABLE = {131026}
WINDOW_CLOSED = {131047}
TEMPLATE_REFUSED = {132000, 132001, 132005, 132007, 132012, 132015, 132016, 132068, 132069}


class WhatsAppClient:
    """Sends replies through `{api_url}/{phone_id}/messages`, and fetches media by id."""

    name = CHANNEL
    traits = Traits(
        window=timedelta(hours=24),
        window_margin=timedelta(minutes=10),
        merges_bursts=True,
        max_text=MAX_TEXT,
        addressed_by_phone=True,
    )

    def __init__(
        self,
        token: str,
        phone_id: str,
        api_url: str,
        *,
        templates: Mapping[str, WhatsAppTemplate],
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.phone_id = phone_id
        self.templates = dict(templates)
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
        elif reply.media is not None and reply.media.data is not None:
            return await self._send_file(recipient, reply)
        else:
            content = render(reply)
        return await self._post({**_to(recipient), **content})

    async def _send_file(self, recipient: str, reply: Reply) -> SendResult:
        """Upload the file (`POST /{phone_id}/media`), send it by its media id, then the text
        with its buttons if the reply has any (an audio message carries no caption)."""
        media = reply.media
        assert media is not None and media.data is not None
        mime = (media.mime_type or "audio/ogg").split(";")[0].strip()
        try:
            uploaded = await self.http.post(
                f"{self.phone_id}/media",
                data={"messaging_product": "whatsapp", "type": mime},
                files={"file": ("voice" + _SUFFIXES.get(mime, ".bin"), media.data, mime)},
            )
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=f"network: {type(exc).__name__}")
        media_id = _uploaded_id(uploaded)
        if media_id is None:
            if uploaded.is_success:
                return SendResult(ok=False, permanent=True, error="upload: no media id")
            return result_of(uploaded)
        sent = await self._post({**_to(recipient), **media_message(media.kind, mime, media_id)})
        if not sent.ok or not (reply.text.strip() or reply.choices):
            return sent
        return await self._post({**_to(recipient), **render(replace(reply, media=None))})

    def as_template(self, reply: Reply) -> Reply | None:
        """The reply as its catalogue template, when it names one and fills every parameter."""
        if reply.extra.get("template_only"):
            return reply
        if self._template(reply) is None:
            return None
        return replace(reply, extra={**reply.extra, "template_only": True})

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

    async def download_media(self, media: Media) -> MediaFile:
        """The file's bytes, fetched now (Meta's links expire); MediaUnavailable when Meta refuses."""
        try:
            meta = await self.http.get(media.file_id)
            meta.raise_for_status()
            info = meta.json()
            size = int(info.get("file_size") or 0)
            if size > MAX_MEDIA_BYTES:
                raise ValueError("file too large")
            content = await self.http.get(str(info["url"]))
            content.raise_for_status()
        # InvalidURL is not an HTTPError: a media id that is no URL path raises it.
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, KeyError, TypeError) as exc:
            raise MediaUnavailable(type(exc).__name__) from exc
        mime = media.mime_type or text_of(info.get("mime_type"))
        return MediaFile(content.content[:MAX_MEDIA_BYTES], mime.split(";")[0].strip() or None)

    async def phone_number(self) -> str:
        """`GET /{phone_id}`: the number's display form; CheckFailed when the id or token is wrong."""
        data = await self._get(self.phone_id, {"fields": "display_phone_number,verified_name"})
        return text_of(data.get("display_phone_number")) or self.phone_id

    async def template_statuses(self, waba_id: str) -> dict[tuple[str, str], str]:
        """`GET /{waba_id}/message_templates`: each (name, language)'s review status at Meta."""
        found: dict[tuple[str, str], str] = {}
        path, params = f"{waba_id}/message_templates", {"fields": "name,language,status"}
        for _page in range(20):  # a catalogue of a few templates; the bound guards a loop
            data = await self._get(path, {**params, "limit": "100"})
            for item in data.get("data") or []:
                if isinstance(item, dict):
                    key = (text_of(item.get("name")), text_of(item.get("language")))
                    found[key] = text_of(item.get("status"))
            after = (data.get("paging") or {}).get("cursors", {}).get("after")
            if not after or not (data.get("paging") or {}).get("next"):
                break
            params = {**params, "after": str(after)}
        return found

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """A Graph GET's JSON object; CheckFailed with Meta's error code and message."""
        try:
            response = await self.http.get(path, params=params)
            data = response.json()
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise CheckFailed(f"network: {type(exc).__name__}") from None
        if not response.is_success or not isinstance(data, dict):
            error = data.get("error", {}) if isinstance(data, dict) else {}
            code = error.get("code") if isinstance(error, dict) else None
            message = text_of(error.get("message")) if isinstance(error, dict) else ""
            raise CheckFailed(f"{code or response.status_code}: {message}"[:200])
        return data

    async def close(self) -> None:
        """Close the HTTP pool."""
        await self.http.aclose()


_SUFFIXES = {"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/aac": ".aac"}


def _uploaded_id(response: httpx.Response) -> str | None:
    """The media id Meta gives an uploaded file, or None when it refused the upload."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not response.is_success or not isinstance(data, dict):
        return None
    return text_of(data.get("id")) or None


def _to(recipient: str) -> dict[str, str]:
    """A wa_id goes in `to`; a business-scoped user id (letters, a dot) goes in `recipient`."""
    digits = recipient.lstrip("+")
    if digits.isdigit():
        return {"recipient_type": "individual", "to": digits}
    return {"recipient_type": "individual", "recipient": recipient}


def text_of(value: Any) -> str:
    """A string field, or empty."""
    return value if isinstance(value, str) else ""


def result_of(response: httpx.Response) -> SendResult:
    """Meta's answer as retry, window closed, unreachable, refused template, or failed for good."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.is_success and isinstance(data, dict):
        messages = data.get("messages") or [{}]
        return SendResult(ok=True, message_id=text_of(messages[0].get("id")) or None)
    error = data.get("error", {}) if isinstance(data, dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    text = f"{code or response.status_code}: {text_of(error.get('message'))}"[:200]
    return classify(response.status_code, code if isinstance(code, int) else None, text)


def classify(status: int, code: int | None, text: str) -> SendResult:
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
