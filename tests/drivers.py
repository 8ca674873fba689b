"""Channel drivers: one dialog test, run on every channel (Telegram, simulator, WhatsApp…).

A driver speaks as one person on its channel, runs the workers, and returns what the bot said.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tests.fakes import whatsapp as wa
from tests.harness import Harness, Said, post_local


class Driver(Protocol):
    """Talks to Sinergi as one person on one channel."""

    channel: str
    h: Harness

    async def text(self, words: str) -> list[Said]: ...
    async def press(self, key: str) -> list[Said]: ...
    async def link_by_phone(self, phone: str) -> list[Said]: ...
    async def news(self) -> list[Said]: ...


@dataclass
class TelegramDriver:
    """A Telegram user: text messages, inline button presses, a shared contact."""

    h: Harness
    user_id: int = 568577002
    channel: str = "telegram"
    seen: int = 0

    async def _exchange(self, update: dict[str, object]) -> list[Said]:
        response = await self.h.post_telegram(update)
        assert response.status_code == 200, response.text
        return await self.news()

    async def news(self) -> list[Said]:
        """What arrived since last read, unasked (the workers run first)."""
        await self.h.work()
        said = self.h.telegram_said(self.user_id, self.seen)
        self.seen += len(said)
        return said

    async def text(self, words: str) -> list[Said]:
        """Type a message."""
        return await self._exchange(self.h.telegram_update(self.user_id, text=words))

    async def press(self, key: str) -> list[Said]:
        """Press an inline button."""
        return await self._exchange(self.h.telegram_callback(self.user_id, key))

    async def photo(self, file_id: str = "AgACAgUAAxkBAAIBphoto") -> list[Said]:
        """Send a photo (Telegram gives several sizes; the largest comes last)."""
        sizes = [
            {"file_id": file_id + "_s", "file_unique_id": "s1", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": "m1", "width": 800, "height": 600},
        ]
        return await self._exchange(self.h.telegram_update(self.user_id, photo=sizes))

    async def share_contact(self, phone: str, *, own: bool = True) -> list[Said]:
        """Press the contact button: one's own number (or, `own=False`, someone else's)."""
        contact = {
            "phone_number": phone.lstrip("+"),
            "first_name": "Ibu",
            "user_id": self.user_id if own else self.user_id + 1,
        }
        return await self._exchange(self.h.telegram_update(self.user_id, contact=contact))

    async def link_by_phone(self, phone: str) -> list[Said]:
        """Choose "send my number", then share one's own contact."""
        said = await self.text("MENU")
        await self.press(said[-1].key_of("nomor HP") if said[-1].choices else "contact")
        return await self.share_contact(phone)


@dataclass
class SimulatorDriver:
    """The browser simulator (and terminal): the phone is the identity, trusted."""

    h: Harness
    phone: str = "+6281399999999"
    channel: str = "simulator"
    seen: int = 0

    async def _exchange(self, text: str = "", choice: str | None = None) -> list[Said]:
        await post_local(self.h, self.phone, text, choice)
        return await self.news()

    async def news(self) -> list[Said]:
        """What arrived since last read, unasked (the workers run first)."""
        await self.h.work()
        mine = [reply for recipient, reply in self.h.local_sent if recipient == self.phone][
            self.seen :
        ]
        self.seen += len(mine)
        return [Said(r.text, [(c.key, c.label) for c in r.choices], r.ask_contact) for r in mine]

    async def text(self, words: str) -> list[Said]:
        """Type a message."""
        return await self._exchange(words)

    async def press(self, key: str) -> list[Said]:
        """Press a button."""
        return await self._exchange(choice=key)

    async def link_by_phone(self, phone: str) -> list[Said]:
        """The simulator's number is the roster number: confirm the family offered."""
        assert phone == self.phone, "a simulator chat links by its own number"
        said = await self.text("MENU")
        return await self.press(said[-1].key_of("Ya") if said[-1].choices else "yes")


@dataclass
class WhatsAppDriver:
    """A WhatsApp user (keyed on a BSUID, with a number): signed webhooks in, Graph API calls out."""

    h: Harness
    phone: str = "+6281399999999"
    user_id: str = "ID.13491208655302741918"
    channel: str = "whatsapp"
    seen: int = 0
    sent_count: int = 0
    # How each offered key is reachable: a reply button, a list row, or a typed number.
    offered: dict[str, str] = field(default_factory=dict)

    @property
    def wa_id(self) -> str:
        return self.phone.lstrip("+")

    async def _exchange(self, kind: str, **content: object) -> list[Said]:
        self.sent_count += 1
        wamid = f"wamid.TEST{self.wa_id}{self.sent_count:05d}"
        msg = wa.message(wamid, self.wa_id, int(self.h.now.timestamp()), kind, **content)
        body = json.dumps(
            wa.envelope(messages=[msg], contacts=[wa.contact(self.wa_id, self.user_id)])
        )
        response = await post_whatsapp(self.h, body.encode())
        assert response.status_code == 200, response.text
        return await self.news()

    async def news(self) -> list[Said]:
        """What arrived since last read, unasked: to the number or to the BSUID (an erased chat)."""
        await self.h.work()
        sent = [
            body
            for body in self.h.whatsapp.sent()
            if {body.get("to"), body.get("recipient")} & {self.wa_id, self.user_id}
        ][self.seen :]
        self.seen += len(sent)
        said = [said_whatsapp(body) for body in sent]
        for one in said:
            self.offered = {key: how for key, _label, how in one.reach} or self.offered
        return [s.said for s in said]

    async def text(self, words: str) -> list[Said]:
        """Type a message."""
        return await self._exchange("text", text={"body": words})

    async def press(self, key: str) -> list[Said]:
        """Press a reply button or pick a list row; a numbered menu is answered by typing."""
        how = self.offered.get(key, "button")
        if how == "typed":
            return await self.text(key)
        reply = "button_reply" if how == "button" else "list_reply"
        return await self._exchange(
            "interactive", interactive={"type": reply, reply: {"id": key, "title": key}}
        )

    async def photo(self, file_id: str = "1234567890123456") -> list[Said]:
        """Send a photo: Meta gives a media id, and Sinergi downloads the file at once."""
        media_id = re.sub(r"\W", "", file_id)
        self.h.whatsapp.media[media_id] = b"\xff\xd8\xff fake jpeg " + media_id.encode()
        image = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}
        return await self._exchange("image", image=image)

    async def link_by_phone(self, phone: str) -> list[Said]:
        """The WhatsApp number is on the roster: confirm the family offered."""
        assert phone == self.phone, "a WhatsApp chat links by its own number"
        said = await self.text("MENU")
        return await self.press(said[-1].key_of("Ya") if said[-1].choices else "yes")


@dataclass
class _WhatsAppSaid:
    said: Said
    reach: list[tuple[str, str, str]]


def said_whatsapp(body: dict[str, Any]) -> _WhatsAppSaid:
    """A Graph API message as the person sees it, and how each choice can be answered."""
    if body["type"] == "template":
        return _WhatsAppSaid(Said(text=f"[template {body['template']['name']}]"), [])
    if body["type"] in ("audio", "document"):
        return _WhatsAppSaid(Said(text=f"[{body['type']} {body[body['type']]['id']}]"), [])
    if body["type"] == "text":
        text = body["text"]["body"]
        menu = re.findall(r"^(\d+)\. (.+)$", text.split("\n\n")[-1], flags=re.M)
        return _WhatsAppSaid(
            Said(text, [(n, label) for n, label in menu]),
            [(n, label, "typed") for n, label in menu],
        )
    interactive = body["interactive"]
    if interactive["type"] == "button":
        buttons = [
            (b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]
        ]
        return _WhatsAppSaid(
            Said(interactive["body"]["text"], buttons), [(k, t, "button") for k, t in buttons]
        )
    rows = [r for section in interactive["action"]["sections"] for r in section["rows"]]
    items = [(r["id"], r["description"] if r["title"].endswith("…") else r["title"]) for r in rows]
    return _WhatsAppSaid(
        Said(interactive["body"]["text"], items), [(k, t, "list") for k, t in items]
    )


async def post_whatsapp(h: Harness, body: bytes, signature: str | None = "sign") -> httpx.Response:
    """POST to the webhook as Meta does, signed over the raw bytes with the app secret."""
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = wa.sign(body, h.rt.settings.whatsapp_app_secret or "")
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return await h.client.post("/webhook/whatsapp", content=body, headers=headers)


DRIVERS = {"telegram": TelegramDriver, "simulator": SimulatorDriver, "whatsapp": WhatsAppDriver}
