"""`sinergi request set REFERENCE STATE --note ... [--to OFFICE]`: move a request, tell the household."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from bot.commands.common import migrated_runtime, run, settings, setup_logging
from bot.runtime import Runtime
from handlers import notices
from storage import requests
from storage.db import unit_of_work

app = typer.Typer(
    help="Service requests (training, cooperative, data correction).", no_args_is_help=True
)


async def set_state(
    rt: Runtime,
    reference: str,
    state: str,
    *,
    note: str | None,
    office: str | None,
    now: datetime,
    actor: str = "cli",
) -> str:
    """Move one request; the household's message is in the outbox when this returns."""
    async with unit_of_work(rt.sessions) as session:
        row = await requests.by_reference(session, reference)
        if row is None:
            raise requests.RequestError(f"no request {reference}")
        # The operator at the server's command line acts for the request's own region.
        event = await requests.transition(
            session,
            row.id,
            state,
            actor=actor,
            note=note,
            referred_to=office,
            now=now,
            scope=row.region_code,
        )
        await notices.request_moved(session, row, event, now=now)
        return f"{row.reference}: {state}"


@app.command("set")
def set_command(
    reference: str = typer.Argument(..., help="e.g. PL-2611-0042"),
    state: str = typer.Argument(..., help="diproses, disetujui, ditolak, dirujuk or selesai"),
    note: str = typer.Option(None, "--note", help="Why; the household reads it"),
    office: str = typer.Option(None, "--to", help="The office a referral (dirujuk) goes to"),
) -> None:
    """Move a request to a new state; the household is told on its chats."""
    setup_logging()

    async def main() -> str:
        rt = await migrated_runtime(settings())
        try:
            now = datetime.now(UTC)
            line = await set_state(rt, reference, state, note=note, office=office, now=now)
            while await rt.sender.deliver(now):
                pass
            return line
        finally:
            await rt.close()

    try:
        typer.echo(run(main))
    except requests.RequestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
