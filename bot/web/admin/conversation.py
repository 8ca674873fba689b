"""A conversation as staff read it: what the person sent and what the bot answered, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.messages import Reply, UnknownMessage
from bot.runtime import Runtime
from locales.i18n import N_, _
from storage.models import InboxUpdate, OutboxMessage

UNREADABLE = N_("(a message that cannot be shown)")
PRESSED = N_("(pressed a button)")
KIND_NAMES = {
    "media": N_("(a photo or file)"),
    "contact": N_("(a shared contact)"),
    "location": N_("(a shared location)"),
    "unsupported": N_("(a kind of message Sinergi cannot read)"),
    "system": N_("(a notice from the platform)"),
}


@dataclass
class Line:
    """One message in the transcript."""

    at: datetime
    inbound: bool
    text: str
    choices: list[tuple[int, str, str]] = field(default_factory=list)  # number, key, label
    state: str = ""
    pressed: str = ""  # the key of the button the person pressed, named after the merge
    # Sorting time: an update sorts at the moment it was answered, so its replies (written at
    # that same moment) follow it even when the webhook's clock ran a little ahead.
    order_at: datetime | None = None
    seq: int = 0  # the row's id: two messages of one moment keep the order they were written in


def inbound_line(rt: Runtime, row: InboxUpdate) -> Line:
    """What the person sent, read back through the channel's own parser."""
    parse = rt.inbox.parsers.get(row.channel)
    text, pressed = "", ""
    try:
        msgs = parse(row.raw) if parse else []
    except Exception:  # noqa: BLE001 - a broken update shows as such, never breaks the page
        msgs = []
    for msg in msgs:
        pressed = "" if msg.text else msg.choice or ""
        text = msg.text or ("" if msg.choice else _(KIND_NAMES.get(msg.kind, UNREADABLE)))
    return Line(
        at=row.received_at,
        inbound=True,
        text=text or ("" if pressed else _(UNREADABLE)),
        state=row.state,
        order_at=row.processed_at or row.received_at,
        pressed=pressed,
        seq=row.id,
    )


def outbound_line(row: OutboxMessage) -> Line:
    """What the bot said, with its choices numbered as a person may type them."""
    try:
        reply = Reply.from_payload(row.payload)
    except UnknownMessage:
        reply = Reply(_(UNREADABLE))
    choices = [(i, c.key, c.label) for i, c in enumerate(reply.choices, start=1)]
    text = reply.text or (f"[{reply.media.kind}]" if reply.media is not None else "")
    return Line(
        at=row.created_at,
        inbound=False,
        text=text,
        choices=choices,
        state=row.state,
        seq=row.id,
    )


def transcript(
    rt: Runtime, inbound: list[InboxUpdate], outbound: list[OutboxMessage]
) -> list[Line]:
    """Both sides merged by time, oldest first; a button press reads as the button's words."""
    lines = [inbound_line(rt, r) for r in inbound] + [outbound_line(r) for r in outbound]
    lines.sort(key=lambda line: (line.order_at or line.at, not line.inbound, line.seq))
    name_presses(lines)
    return lines


def name_presses(lines: list[Line], before: list[Line] | None = None) -> None:
    """Each button press, in lines already in order, reads as the words of the button offered
    last before it (`before`: the bot's messages just ahead of the lines)."""
    offered: dict[str, str] = {}
    for line in (before or []) + lines:
        offered.update({key: label for _n, key, label in line.choices})
        if line.pressed:
            line.text = offered.get(line.pressed) or _(PRESSED)
