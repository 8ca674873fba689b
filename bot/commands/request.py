"""`sinergi request set REFERENCE STATE --note ... [--to KODE]`: move a request, tell the household.

`dirujuk --to KODE` with an organisation's kode makes a tracked referral (as the admin form
does); any other `--to` text is only recorded on the request, as before organisations.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from bot.commands.common import migrated_runtime, run, settings, setup_logging
from bot.runtime import Runtime
from handlers import notices
from handlers import referrals as making
from storage import organisations, referrals, requests
from storage.db import unit_of_work
from storage.models import Household
from storage.scope import Scope

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
        organisation = await organisations.by_code(session, office or "")
        household = await session.get(Household, row.household_id)
        if state == "dirujuk" and organisation is not None and household is not None:
            if state not in requests.TRANSITIONS.get(row.state, set()):
                raise requests.RequestError(f"cannot move a request from {row.state} to {state}")
            # The operator at the server acts for every region, as an admin of the whole country.
            scope = Scope(prefix="", role="admin", staff_id=0, username=actor)
            try:
                await making.refer(
                    session,
                    scope,
                    household,
                    organisation_id=organisation.id,
                    asked=row.details or row.topic or row.kind,
                    why=note or "",
                    answer_days=rt.settings.referral_days,
                    now=now,
                    from_request=row,
                )
            except referrals.ReferralError as exc:
                raise requests.RequestError(
                    f"{organisation.code} does not serve this household"
                ) from exc
            return f"{row.reference}: {state} ({organisation.code})"
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
    office: str = typer.Option(
        None, "--to", help="dirujuk: the organisation's kode (a tracked referral), or free text"
    ),
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
