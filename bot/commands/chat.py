"""`sinergi chat --phone NUMBER`: talk to Sinergi in the terminal as that household or mentor."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import typer

from bot.channels.local import LocalClient, make_update
from bot.commands.common import migrated_runtime, run, settings
from bot.messages import Reply
from bot.web.webhooks.store import store_update
from storage.normalize import phone_e164


def _print_reply(_recipient: str, reply: Reply) -> None:
    """The bot's message, with its choices numbered."""
    typer.secho("\nSinergi: " + reply.numbered_text(), fg=typer.colors.GREEN)


def chat(
    phone: str = typer.Option(..., "--phone", help="Phone number of a household or mentor"),
) -> None:
    """A chat in the terminal through the same conversation core."""
    number = phone_e164(phone)
    if number is None:
        raise typer.BadParameter(f"not a phone number: {phone}")

    async def main() -> None:
        rt = await migrated_runtime(settings())
        rt.clients["console"] = LocalClient("console", _print_reply)
        rt.sender.clients = rt.clients
        typer.echo("Type your message (Ctrl-D to leave). Try: /start")
        try:
            while True:
                try:
                    line = await asyncio.to_thread(input, "> ")
                except EOFError:
                    return
                now = datetime.now(UTC)
                update = make_update(number, text=line, now=now)
                await store_update(
                    rt,
                    "console",
                    update["id"] or "",
                    f"console:{number}",
                    json.dumps(update).encode(),
                )
                await rt.inbox.drain(now)
                while await rt.sender.deliver(now):
                    pass
        finally:
            await rt.close()

    run(main)
