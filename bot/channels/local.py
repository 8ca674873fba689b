"""Local channels, the browser simulator and the terminal: same core, no platform in between.

A local "update" is our own JSON: {"id", "phone", "text" | "choice", "sent_at"}. The phone is
the identity's key and is trusted, so a tester reaches the household or mentor with that number.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from bot.channels.base import SendResult, Traits
from bot.messages import Address, Inbound, Reply

LOCAL_CHANNELS = ("simulator", "console")
# Only the terminal (`sinergi chat`) that talks as a number delivers that number's messages.
TERMINAL = "console"


def make_update(
    phone: str, *, text: str = "", choice: str | None = None, now: datetime
) -> dict[str, str | None]:
    """A local update as the simulator or terminal stores it in the inbox."""
    return {
        "id": uuid.uuid4().hex,
        "phone": phone,
        "text": text[:4000],
        "choice": choice,
        "sent_at": now.isoformat(),
    }


def parser(channel: str) -> Callable[[str], list[Inbound]]:
    """The parser of one local channel."""

    def parse(raw: str) -> list[Inbound]:
        data = json.loads(raw)
        phone = str(data["phone"])
        sent = datetime.fromisoformat(data["sent_at"])
        return [
            Inbound(
                address=Address(channel, phone),
                kind="choice" if data.get("choice") else "text",
                sent_at=sent if sent.tzinfo else sent.replace(tzinfo=UTC),
                message_id=str(data["id"]),
                text=str(data.get("text") or ""),
                choice=data.get("choice"),
                phone=phone,
            )
        ]

    return parse


class LocalClient:
    """Accepts every message at once; the terminal prints it, the simulator reads the outbox."""

    traits = Traits()

    def __init__(self, name: str, on_send: Callable[[str, Reply], None] | None = None) -> None:
        self.name = name
        self._on_send = on_send

    async def send(self, recipient: str, reply: Reply) -> SendResult:
        """Hand the reply over."""
        if self._on_send is not None:
            self._on_send(recipient, reply)
        return SendResult(ok=True, message_id=uuid.uuid4().hex)

    def as_template(self, reply: Reply) -> Reply | None:
        """No window, no templates."""
        return None

    async def close(self) -> None:
        """Nothing to release."""
