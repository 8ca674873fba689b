"""`sinergi regions load [FILE]`: the official region list (Kemendagri codes and names) into the database."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.commands.common import migrated_runtime, run, settings
from storage import wilayah
from storage.db import unit_of_work

app = typer.Typer(help="The official list of regions (provinsi … desa).", no_args_is_help=True)


@app.command("load")
def load(
    file: Path | None = typer.Argument(
        None, help="a newer list as CSV (kode,nama); default: the list shipped with Sinergi"
    ),
) -> None:
    """Put every region's name into the database (again: names are updated, nothing doubles)."""
    path = file or wilayah.LIST

    async def main() -> int:
        rt = await migrated_runtime(settings())
        try:
            async with unit_of_work(rt.sessions) as session:
                return await wilayah.load(session, path)
        finally:
            await rt.close()

    try:
        count = run(main)
    except (OSError, wilayah.RegionListError) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{count} regions loaded from {path.name}.")
