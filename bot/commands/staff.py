"""`sinergi staff add USERNAME --role ROLE --region CODE` (or `--role partner --org KODE`): a staff account; the password comes from stdin."""

from __future__ import annotations

import sys

import typer

from bot.commands.common import migrated_runtime, run, settings
from bot.workers import utcnow
from storage import partners
from storage.db import unit_of_work
from storage.normalize import phone_e164, region_code
from storage.scope import ScopeError, check_account
from storage.staff import StaffError, add_staff

app = typer.Typer(help="Staff accounts of the admin view.", no_args_is_help=True)


def _read_password() -> str:
    """The first line of standard input (a prompt without echo when it is a terminal)."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@app.command("add")
def add(
    username: str = typer.Argument(..., help="login name"),
    role: str = typer.Option(..., "--role", help="admin, supervisor, officer or coordinator"),
    region: str = typer.Option(
        "",
        "--region",
        help="region code: provinsi 64, kabupaten/kota 64.72, kecamatan 64.72.01 or desa "
        "64.72.01.1001 ('' = every region, admins and coordinators only; admins cover a "
        "provinsi at most, coordinators a kabupaten/kota at most)",
    ),
    org: str = typer.Option(
        "", "--org", help="with --role partner: the organisation's kode (its region is theirs)"
    ),
    phone: str = typer.Option(
        "",
        "--phone",
        help="with --role partner: their own number; the chat that shares it becomes theirs",
    ),
) -> None:
    """Create an active staff account scoped to a region, or a partner of one organisation."""
    code = "" if region.strip() == "" else region_code(region)
    if (role == partners.ROLE) != bool(org.strip()) or (org.strip() and region.strip()):
        typer.echo("refused: --org goes with --role partner, instead of --region", err=True)
        raise typer.Exit(2)
    own = phone_e164(phone) if phone.strip() else None
    if phone.strip() and (own is None or role != partners.ROLE):
        typer.echo("refused: --phone is a partner's own valid number", err=True)
        raise typer.Exit(2)
    try:
        if code is None:
            raise ScopeError(f"{region!r} is not a region code")
        if role != partners.ROLE:
            check_account(role, code)
    except ScopeError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    password = _read_password()

    async def main() -> None:
        rt = await migrated_runtime(settings())
        try:
            async with unit_of_work(rt.sessions) as session:
                if role == partners.ROLE:
                    await partners.add_partner(
                        session,
                        username=username,
                        password=password,
                        organisation_code=org,
                        now=utcnow(),
                        phone=own,
                    )
                    return
                await add_staff(
                    session,
                    username=username,
                    password=password,
                    role=role,
                    region_code=code or "",
                    now=utcnow(),
                )
        finally:
            await rt.close()

    try:
        run(main)
    except StaffError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    where = f"organisation {org.strip().upper()}" if org.strip() else f"region {code or 'all'}"
    typer.echo(f"staff {username} ({role}, {where}) added")
