"""What the inbox and the outbox sender need of a channel, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from bot.messages import Media, Reply, StatusUpdate


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


@dataclass(frozen=True)
class Traits:
    """What the sender must know of a channel, so that it never asks which platform it is."""

    # Free-form messages go only this long after the person's last message (WhatsApp: 24 hours).
    window: timedelta | None = None
    # Meta counts the window to the second: the sender keeps this far clear of its edge.
    window_margin: timedelta = timedelta(0)
    # A burst to one person goes out as one message (WhatsApp allows about one per 6 s).
    merges_bursts: bool = False
    # The longest text one message may carry.
    max_text: int = 4096
    # Replies go to the person's number when it is known, not the identity's key (BSUIDs).
    addressed_by_phone: bool = False
    # A button can ask the person to share their own number (Telegram's request_contact): the
    # adapter stamps it on every Inbound, so journeys offer "send my number" without a name.
    shares_contact: bool = False


@dataclass(frozen=True)
class MediaFile:
    """A downloaded photo, document or voice note: the bytes and their type, for the media store."""

    data: bytes
    mime_type: str | None = None


class MediaUnavailable(Exception):
    """The platform did not hand over a file (gone, too large, refused, unreachable)."""


class ChannelClient(Protocol):
    """Sends neutral replies on one platform."""

    name: str
    traits: Traits

    async def send(self, recipient: str, reply: Reply) -> SendResult:
        """Deliver one reply to one recipient."""
        ...

    def as_template(self, reply: Reply) -> Reply | None:
        """The approved template form of a reply, for outside the window (None: it has none)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class MediaSource(Protocol):
    """A channel whose files are fetched at once (platform links expire)."""

    async def download_media(self, media: Media) -> MediaFile:
        """The file's bytes; raises MediaUnavailable when the platform will not give them."""
        ...


class ReceiptParser(Protocol):
    """Reads the platform's delivery receipts (sent, delivered, read, failed) in a stored update."""

    def __call__(self, raw: str) -> list[StatusUpdate]: ...


class CheckFailed(Exception):
    """A platform refused a health check (`sinergi doctor`); the text says what it answered."""
