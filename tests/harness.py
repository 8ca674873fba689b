"""The test harness: the real FastAPI app over HTTP, fakes at the platform boundary, a clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.app import create_app
from bot.channels.local import LocalClient, make_update
from bot.channels.telegram import TelegramClient
from bot.config import Settings
from bot.messages import Reply
from bot.runtime import Runtime, build_runtime, whatsapp_client
from bot.web.webhooks.store import store_update
from storage.db import unit_of_work
from tests.conftest import PAYLOADS, T0
from tests.fakes.clock import VirtualPace
from tests.fakes.telegram import FakeBotApi
from tests.fakes.whatsapp import FakeGraphApi


@dataclass
class Said:
    """One message the bot sent, as the person sees it."""

    text: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    ask_contact: bool = False

    def key_of(self, label_part: str) -> str:
        """The key of the choice whose label contains `label_part`."""
        for key, label in self.choices:
            if label_part.lower() in label.lower():
                return key
        raise AssertionError(f"no choice like {label_part!r} in {self.choices}")


@dataclass
class Harness:
    """Drives Sinergi as a platform would, and reads what it sent."""

    rt: Runtime
    client: httpx.AsyncClient
    telegram: FakeBotApi
    local_sent: list[tuple[str, Reply]]
    now: datetime = T0
    next_update_id: int = 829256100
    whatsapp: FakeGraphApi = field(default_factory=FakeGraphApi)
    pace: VirtualPace = field(default_factory=VirtualPace)

    @classmethod
    async def start(cls, settings: Settings) -> Harness:
        """Build the runtime with fake clients and open an HTTP client on the app."""
        fake = FakeBotApi()
        local_sent: list[tuple[str, Reply]] = []
        clients: dict[str, Any] = {
            "telegram": TelegramClient(
                settings.telegram_token or "",
                settings.telegram_api_url,
                fake.request(),
                fake.request(),
            ),
            "simulator": LocalClient("simulator", lambda r, reply: local_sent.append((r, reply))),
        }
        graph, pace = FakeGraphApi(), VirtualPace()
        clients["whatsapp"] = whatsapp_client(settings, graph.transport())
        rt = build_runtime(settings, clients=clients)
        rt.sender.pacer.clock, rt.sender.pacer.sleep = pace.clock, pace.sleep
        app = create_app(rt, background=False)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sinergi.test"
        )
        return cls(
            rt=rt, client=client, telegram=fake, local_sent=local_sent, whatsapp=graph, pace=pace
        )

    async def stop(self) -> None:
        """Close everything."""
        await self.client.aclose()
        await self.rt.close()

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)

    async def work(self) -> None:
        """What the background loops would do now: answer the inbox, send the outbox."""
        await self.rt.inbox.drain(self.now)
        while await self.rt.sender.deliver(self.now):
            pass

    async def session(self) -> Any:
        """A unit of work on the test database (use with `async with`)."""
        return unit_of_work(self.rt.sessions)

    # Telegram -----------------------------------------------------------------------------

    def telegram_update(self, user_id: int, **message: Any) -> dict[str, Any]:
        """A message update shaped like the real capture in tests/fixtures/payloads."""
        update = json.loads((PAYLOADS / "telegram_message_text_start_command.json").read_text())
        self.next_update_id += 1
        update["update_id"] = self.next_update_id
        msg = update["message"]
        msg["from"]["id"] = msg["chat"]["id"] = user_id
        msg["date"] = int(self.now.timestamp())
        msg["message_id"] = self.next_update_id
        msg.pop("text", None)
        msg.pop("entities", None)
        msg.update(message)
        return update

    def telegram_callback(self, user_id: int, data: str) -> dict[str, Any]:
        """A button press shaped like the real capture in tests/fixtures/payloads."""
        update = json.loads((PAYLOADS / "telegram_callback_query.json").read_text())
        self.next_update_id += 1
        update["update_id"] = self.next_update_id
        query = update["callback_query"]
        query["from"]["id"] = query["message"]["chat"]["id"] = user_id
        query["message"]["date"] = int(self.now.timestamp())
        query["data"] = data
        query["id"] = str(self.next_update_id)
        return update

    async def post_telegram(
        self, update: dict[str, Any] | bytes, secret: str | None = "default"
    ) -> httpx.Response:
        """POST to the webhook as Telegram does."""
        headers = {"Content-Type": "application/json"}
        if secret == "default":
            secret = self.rt.settings.telegram_secret
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return await self.client.post("/webhook/telegram", content=body, headers=headers)

    def telegram_said(self, chat_id: int, since: int = 0) -> list[Said]:
        """What the bot sent to one Telegram chat, from the `since`-th message on."""
        return [_said_telegram(p) for p in self.telegram.sent(chat_id)[since:]]


def _said_telegram(params: dict[str, Any]) -> Said:
    """A sendMessage call as the person sees it."""
    markup = params.get("reply_markup") or {}
    choices = [
        (b["callback_data"], b["text"]) for row in markup.get("inline_keyboard", []) for b in row
    ]
    contact = any(b.get("request_contact") for row in markup.get("keyboard", []) for b in row)
    return Said(text=params.get("text", ""), choices=choices, ask_contact=contact)


def local_update(
    h: Harness, phone: str, text: str = "", choice: str | None = None
) -> tuple[str, bytes]:
    """A simulator update (id and body)."""
    update = make_update(phone, text=text, choice=choice, now=h.now)
    return str(update["id"]), json.dumps(update).encode()


async def post_local(h: Harness, phone: str, text: str = "", choice: str | None = None) -> None:
    """Store a simulator message as the simulator page does."""
    update_id, body = local_update(h, phone, text, choice)
    await store_update(h.rt, "simulator", update_id, f"simulator:{phone}", body)
