"""Channel drivers: one dialog test, run on every channel (Telegram, simulator, WhatsApp…).

A driver speaks as one person on its channel, runs the workers, and returns what the bot said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tests.harness import Harness, Said, post_local


class Driver(Protocol):
    """Talks to Sinergi as one person on one channel."""

    channel: str
    h: Harness

    async def text(self, words: str) -> list[Said]: ...
    async def press(self, key: str) -> list[Said]: ...
    async def link_by_phone(self, phone: str) -> list[Said]: ...


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

    async def link_by_phone(self, phone: str) -> list[Said]:
        """Choose "send my number", then share one's own contact."""
        said = await self.text("MENU")
        await self.press(said[-1].key_of("nomor HP") if said[-1].choices else "contact")
        contact = {"phone_number": phone.lstrip("+"), "first_name": "Ibu", "user_id": self.user_id}
        return await self._exchange(self.h.telegram_update(self.user_id, contact=contact))


@dataclass
class SimulatorDriver:
    """The browser simulator (and terminal): the phone is the identity, trusted."""

    h: Harness
    phone: str = "+6281399999999"
    channel: str = "simulator"
    seen: int = 0

    async def _exchange(self, text: str = "", choice: str | None = None) -> list[Said]:
        await post_local(self.h, self.phone, text, choice)
        await self.h.work()
        mine = [reply for recipient, reply in self.h.local_sent if recipient == self.phone][self.seen:]
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


DRIVERS = {"telegram": TelegramDriver, "simulator": SimulatorDriver}
