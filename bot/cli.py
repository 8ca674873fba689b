"""The `sinergi` command line (also `python -m bot`): one Typer app, subcommands in bot/commands/."""

from __future__ import annotations

import typer

from bot.commands import (
    chat,
    demo,
    doctor,
    regions,
    request,
    roster,
    scheduler,
    serve,
    staff,
    tick,
)

app = typer.Typer(
    help="Sinergi: chat line between households, mentors and Dinsos.", no_args_is_help=True
)
app.command("serve")(serve.serve)
app.command("migrate")(serve.migrate)
app.command("tick")(tick.tick)
app.command("scheduler")(scheduler.scheduler)
app.command("chat")(chat.chat)
app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)
app.add_typer(roster.app, name="import")
app.add_typer(request.app, name="request")
app.add_typer(staff.app, name="staff")
app.add_typer(regions.app, name="regions")


def main() -> None:
    """Entry point of the console script."""
    app()
