"""Retention: what is purged when its period is over, each a scheduled job of `(session, now)`.

Daily: chat transcripts, photos and voice notes `SINERGI_RETENTION_MONTHS` (default 24) after a
person last wrote; closed proposals' personal fields the same period after closing; ended staff
sessions and old failed sign-ins. Every minute: roster previews older than an hour (they hold
NIKs in clear). Each run that purges leaves one line in the audit with what it purged (the
daily one always does, so the auditor sees it ran).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, proposals, staff_sessions
from storage.erasure import months_before, purge_before
from storage.roster import jobs as import_jobs
from storage.roster import uploads

# Failed sign-ins are kept this long (the throttle reads minutes of them; an audit, weeks).
LOGIN_FAILURE_DAYS = 30


async def purge(
    session: AsyncSession, now: datetime, *, months: int, media_root: Path | None
) -> int:
    """Purge what is past retention at `now`; how many things went (the audit line says which)."""
    cutoff = months_before(now, months)
    counts = await purge_before(session, cutoff=cutoff, media_root=media_root)
    counts["proposals"] = await proposals.pseudonymise_closed(session, cutoff=cutoff)
    counts.update(
        await staff_sessions.purge_ended(
            session, now=now, failures_before=now - timedelta(days=LOGIN_FAILURE_DAYS)
        )
    )
    detail: dict[str, Any] = {"cutoff": cutoff.isoformat(), "months": months, **counts}
    audit.record(session, actor="scheduler", action="retention.purge", now=now, **detail)
    return sum(counts.values())


async def expire_previews(session: AsyncSession, now: datetime, *, folder: Path | None) -> int:
    """Roster previews past their hour emptied, ended import jobs past KEPT deleted; an audit line when any went."""
    gone = uploads.expire(folder, now=now) if folder is not None else 0
    gone += await import_jobs.expire_previews(session, now)
    gone += await import_jobs.purge_ended(session, now)
    if gone:
        audit.record(session, actor="scheduler", action="retention.previews", now=now, files=gone)
    return gone
