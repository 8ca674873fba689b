"""`sinergi chat --phone NUMBER`: talk to Sinergi in the terminal as that household or mentor.

The terminal owns its chat's delivery: `serve` never sends a `console` message (its sender
skips the channel), and this terminal sends only its own number's, so a running server
neither takes the terminal's replies nor keeps what staff send to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import typer

from bot.channels.local import TERMINAL, LocalClient, make_update
from bot.commands.common import migrated_runtime, run, settings
from bot.messages import Reply
from bot.runtime import Runtime
from bot.web.webhooks.store import store_update
from storage.normalize import phone_e164

log = logging.getLogger("sinergi.chat")

CHANNEL = TERMINAL
# How often the terminal looks for messages staff or the scheduler wrote to it.
POLL_SECONDS = 1.0


def _print_reply(_recipient: str, reply: Reply) -> None:
    """The bot's message, with its choices numbered."""
    typer.secho("\nSinergi: " + reply.numbered_text(), fg=typer.colors.GREEN)


@dataclass
class TerminalChat:
    """One terminal's chat as `number`: what it types goes in, what is meant for it comes out."""

    rt: Runtime
    number: str

    @classmethod
    def attach(cls, rt: Runtime, number: str, show: Callable[[str, Reply], None]) -> TerminalChat:
        """Make this runtime's sender deliver this number's console messages, and nothing else."""
        rt.clients[CHANNEL] = LocalClient(CHANNEL, show)
        rt.sender.clients = rt.clients
        rt.sender.only = (CHANNEL, number)
        return cls(rt, number)

    @property
    def chat_key(self) -> str:
        return f"{CHANNEL}:{self.number}"

    async def say(self, line: str, now: datetime) -> None:
        """Store the line as an update, answer it, and show the replies."""
        update = make_update(self.number, text=line, now=now)
        body = json.dumps(update).encode()
        await store_update(self.rt, CHANNEL, update["id"] or "", self.chat_key, body)
        await self.poll(now)

    async def poll(self, now: datetime) -> int:
        """Answer this chat's waiting updates (a server may have done so) and show what waits."""
        await self.rt.inbox.process_chat(self.chat_key, now)
        shown = 0
        while sent := await self.rt.sender.deliver(now):
            shown += sent
        return shown


async def _keep_polling(terminal: TerminalChat) -> None:
    """Messages staff send arrive while the person is typing."""
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            await terminal.poll(datetime.now(UTC))
        except Exception:  # the database busy or gone a moment: the next poll tries again
            log.exception("terminal chat could not look for messages")


def chat(
    phone: str = typer.Option(..., "--phone", help="Phone number of a household or mentor"),
) -> None:
    """A chat in the terminal through the same conversation core."""
    number = phone_e164(phone)
    if number is None:
        raise typer.BadParameter(f"not a phone number: {phone}")

    async def main() -> None:
        rt = await migrated_runtime(settings())
        terminal = TerminalChat.attach(rt, number, _print_reply)
        typer.echo("Type your message (Ctrl-D to leave). Try: /start")
        polling = asyncio.create_task(_keep_polling(terminal))
        try:
            while True:
                try:
                    line = await asyncio.to_thread(input, "> ")
                except EOFError:
                    return
                await terminal.say(line, datetime.now(UTC))
        finally:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
            await rt.close()

    run(main)
