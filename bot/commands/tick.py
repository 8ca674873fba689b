"""`sinergi tick [--at ISO-8601]`: everything due at that moment, once, then the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from bot.commands.common import migrated_runtime, run, settings, setup_logging
from bot.runtime import Runtime
from scheduler.jobs import Schedule, run_due


def parse_at(value: str | None) -> datetime:
    """The moment to run at: ISO-8601, naive taken as UTC; now when absent."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO-8601 time: {value}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def run_jobs(rt: Runtime, now: datetime) -> dict[str, int]:
    """Run the scheduled jobs due at `now` (the clock of `serve` calls this too)."""
    return await run_due(rt.sessions, now, Schedule.from_settings(rt.settings))


async def run_tick(rt: Runtime, now: datetime) -> dict[str, int]:
    """Answer waiting updates, run due jobs, deliver the outbox; counts for the summary line."""
    summary = {"answered": await rt.inbox.drain(now)}
    summary.update(await run_jobs(rt, now))
    summary["sent"] = 0
    while sent := await rt.sender.deliver(now):
        summary["sent"] += sent
    return summary


def tick(at: str = typer.Option(None, "--at", help="ISO-8601 moment, default now")) -> None:
    """Run every scheduled action that is due at that moment once, then deliver the outbox."""
    setup_logging()
    moment = parse_at(at)

    async def main() -> dict[str, int]:
        rt = await migrated_runtime(settings())
        try:
            return await run_tick(rt, moment)
        finally:
            await rt.close()

    summary = run(main)
    typer.echo(f"tick {moment.isoformat()}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
