"""A fake Telegram Bot API behind an httpx transport, recording what the bot sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
from telegram.request import HTTPXRequest

from tests.fakes import multipart

# Methods that send a file, and the field of the Message they return.
FILE_METHODS = {"sendVoice": "voice", "sendDocument": "document"}


@dataclass
class FakeBotApi:
    """Answers Bot API methods like Telegram does; `fail_next` queues error answers."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    next_message_id: int = 1000
    # Files people sent, by file id (any other file downloads as a fake JPEG).
    media: dict[str, bytes] = field(default_factory=dict)
    # Canned results for other methods (getUpdates, say), by method name.
    results: dict[str, Any] = field(default_factory=dict)
    # Fake time (the harness's clock), for outages and flood control that last a while.
    clock: Callable[[], datetime] | None = None
    down_until: datetime | None = None
    down_status: int = 502
    flood_until: datetime | None = None
    flood_seconds: int = 30
    # sendMessage calls made while a retry_after we announced was still running.
    inside_retry_after: int = 0
    _told_until: datetime | None = None
    # Messages Telegram accepted (what the people got), with the fake time they went.
    delivered: list[tuple[datetime | None, dict[str, Any]]] = field(default_factory=list)
    # For each of them, in the same order: the message_id Telegram gave it, and the bot token
    # it came with (a test can give each process its own token, to tell who sent what).
    accepted: list[tuple[int, str]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """One Bot API call: `/bot<token>/<method>` with form- or JSON-encoded parameters."""
        if "/file/bot" in request.url.path:  # a file download: the bytes the photo "has"
            name = request.url.path.rsplit("/", 1)[-1]
            self.calls.append(("download", {"file_path": name}))
            held = self.media.get(name.rsplit(".", 1)[0])
            return httpx.Response(200, content=held or b"\xff\xd8\xff fake jpeg " + name.encode())
        method = request.url.path.rsplit("/", 1)[-1]
        params = _params(request)
        token = request.url.path.rsplit("/", 2)[-2].removeprefix("bot")
        self.calls.append((method, params))
        if method == "sendMessage" and (timed := self._timed_failure()) is not None:
            return timed
        if self.failures:
            status, body = self.failures.pop(0)
            return httpx.Response(status, json=body)
        return httpx.Response(200, json={"ok": True, "result": self._result(method, params, token)})

    def _timed_failure(self) -> httpx.Response | None:
        """An outage (5xx) or Telegram's flood control (429 + retry_after) at this fake time."""
        if self.clock is None:
            return None
        now = self.clock()
        if self._told_until is not None and now < self._told_until:
            self.inside_retry_after += 1
        if self.down_until is not None and now < self.down_until:
            return httpx.Response(
                self.down_status,
                json={"ok": False, "error_code": self.down_status, "description": "Bad Gateway"},
            )
        if self.flood_until is not None and now < self.flood_until:
            wait = self.flood_seconds
            self._told_until = now + timedelta(seconds=wait)
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
            return httpx.Response(429, json=body)
        return None

    def outage(self, until: datetime, status: int = 502) -> None:
        """sendMessage answers this error until `until` (fake time)."""
        self.down_until, self.down_status = until, status

    def flood(self, until: datetime, retry_after: int = 30) -> None:
        """Until `until`, sendMessage gets 429 and a retry_after; a call inside it is counted."""
        self.flood_until, self.flood_seconds = until, retry_after

    def _result(self, method: str, params: dict[str, Any], token: str = "") -> Any:
        """The `result` Telegram returns for the methods Sinergi calls."""
        if method == "sendMessage":
            self.delivered.append((self.clock() if self.clock else None, params))
            self.next_message_id += 1
            self.accepted.append((self.next_message_id, token))
            return {
                "message_id": self.next_message_id,
                "date": 1763900000,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        if method in FILE_METHODS:
            self.delivered.append((self.clock() if self.clock else None, params))
            self.next_message_id += 1
            field_name = FILE_METHODS[method]
            return {
                "message_id": self.next_message_id,
                "date": 1763900000,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                field_name: {"file_id": f"sent{self.next_message_id}", "file_unique_id": "s1"}
                | ({"duration": 1} if field_name == "voice" else {}),
            }
        if method == "getFile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": "u" + file_id[-6:],
                "file_size": 2048,
                "file_path": f"photos/{file_id}.jpg",
            }
        if method in self.results:
            return self.results[method]
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Sinergi", "username": "sinergi_bot"}
        return True

    def fail_next(self, status: int, description: str, retry_after: int | None = None) -> None:
        """The next call answers with this Telegram error."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.failures.append((status, body))

    def request(self) -> HTTPXRequest:
        """A PTB request object whose HTTP goes to this fake."""
        return HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(self.handler)})

    def files(self, chat_id: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The sendVoice / sendDocument calls (method, parameters with the file's bytes)."""
        return [
            (m, p)
            for m, p in self.calls
            if m in FILE_METHODS and (chat_id is None or int(p["chat_id"]) == chat_id)
        ]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The sendMessage calls, optionally to one chat."""
        return [
            p
            for m, p in self.calls
            if m == "sendMessage" and (chat_id is None or int(p["chat_id"]) == chat_id)
        ]


def _params(request: httpx.Request) -> dict[str, Any]:
    """Decode PTB's parameters; JSON-valued fields (reply_markup) are decoded too."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        params = multipart.fields(request)
        if isinstance(params.get("reply_markup"), str):
            params["reply_markup"] = json.loads(params["reply_markup"])
        return params
    body = request.content.decode() if request.content else ""
    if request.headers.get("content-type", "").startswith("application/json"):
        params: dict[str, Any] = json.loads(body or "{}")
    else:
        params = {k: v[0] for k, v in parse_qs(body).items()}
    for key in ("reply_markup",):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
