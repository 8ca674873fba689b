"""A conversation as staff read it: what the person sent and what the bot answered, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.messages import Reply, UnknownMessage
from bot.runtime import Runtime
from storage.models import InboxUpdate, OutboxMessage


@dataclass
class Line:
    """One message in the transcript."""

    at: datetime
    inbound: bool
    text: str
    choices: list[tuple[int, str, str]] = field(default_factory=list)  # number, key, label
    state: str = ""
    # Sorting time: an update sorts at the moment it was answered, so its replies (written at
    # that same moment) follow it even when the webhook's clock ran a little ahead.
    order_at: datetime | None = None


def inbound_line(rt: Runtime, row: InboxUpdate) -> Line:
    """What the person sent, read back through the channel's own parser."""
    parse = rt.inbox.parsers.get(row.channel)
    text = ""
    try:
        msgs = parse(row.raw) if parse else []
    except Exception:  # noqa: BLE001 - a broken update shows as such, never breaks the page
        msgs = []
    for msg in msgs:
        text = msg.text or (f"[{msg.choice}]" if msg.choice else f"[{msg.kind}]")
    return Line(
        at=row.received_at,
        inbound=True,
        text=text or "[?]",
        state=row.state,
        order_at=row.processed_at or row.received_at,
    )


def outbound_line(row: OutboxMessage) -> Line:
    """What the bot said, with its choices numbered as a person may type them."""
    try:
        reply = Reply.from_payload(row.payload)
    except UnknownMessage:
        reply = Reply("[?]")
    choices = [(i, c.key, c.label) for i, c in enumerate(reply.choices, start=1)]
    text = reply.text or (f"[{reply.media.kind}]" if reply.media is not None else "")
    return Line(at=row.created_at, inbound=False, text=text, choices=choices, state=row.state)


def transcript(
    rt: Runtime, inbound: list[InboxUpdate], outbound: list[OutboxMessage]
) -> list[Line]:
    """Both sides merged by time, oldest first."""
    lines = [inbound_line(rt, r) for r in inbound] + [outbound_line(r) for r in outbound]
    return sorted(lines, key=lambda line: (line.order_at or line.at, not line.inbound))
