"""`sinergi demo`: seed the demo region (idempotent) and say how to try it."""

from __future__ import annotations

import typer

from bot.commands.common import migrated_runtime, run, settings
from bot.workers import utcnow
from storage import demo as demo_data
from storage.db import unit_of_work


def demo() -> None:
    """Seed the demo data; a second run adds nothing."""

    async def main() -> bool:
        rt = await migrated_runtime(settings())
        try:
            async with unit_of_work(rt.sessions) as session:
                return await demo_data.seed(session, rt.vault, utcnow())
        finally:
            await rt.close()

    added = run(main)
    typer.echo("Demo data added." if added else "Demo data already present; nothing added.")
    user, password = demo_data.DEMO_STAFF
    typer.echo(f"Staff login: {user} / {password}  (http://127.0.0.1:8000/admin/login)")
    typer.echo(
        "Chat simulator: http://127.0.0.1:8000/simulator   Terminal: sinergi chat --phone 081300000001"
    )
