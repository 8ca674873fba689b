"""What the outbox sender needs of a channel, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.messages import Inbound, Reply, StatusUpdate


@dataclass(frozen=True)
class SendResult:
    """How one send went: accepted, to retry (maybe after a delay), failed for good, or unreachable."""

    ok: bool
    message_id: str | None = None
    retry_after: float | None = None
    permanent: bool = False
    unreachable: bool = False
    error: str | None = None
    # WhatsApp 131047: the 24-hour window is closed; the sender holds the message and sends a template.
    window_closed: bool = False


class ChannelClient(Protocol):
    """Sends neutral replies on one platform."""

    name: str

    async def send(self, recipient: str, reply: Reply) -> SendResult:
        """Deliver one reply to one recipient."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class ChannelParser(Protocol):
    """Turns one stored raw update into neutral inbound messages (none for what we ignore)."""

    def __call__(self, raw: str) -> list[Inbound]: ...


class ReceiptParser(Protocol):
    """Reads the platform's delivery receipts (sent, delivered, read, failed) in a stored update."""

    def __call__(self, raw: str) -> list[StatusUpdate]: ...
