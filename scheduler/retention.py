"""Retention: chat transcripts, photos and voice notes purged a period after the last contact.

A daily job of `(session, now)`: the period is `SINERGI_RETENTION_MONTHS` (default 24) after a
person last wrote; each run leaves one line in the audit with what it purged.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.erasure import months_before, purge_before

# Failed sign-ins are kept this long (the throttle reads minutes of them; an audit, weeks).
LOGIN_FAILURE_DAYS = 30


async def purge(
    session: AsyncSession, now: datetime, *, months: int, media_root: Path | None
) -> int:
    """Purge what is past retention at `now`; how many things went (the audit line says which)."""
    cutoff = months_before(now, months)
    counts = await purge_before(session, cutoff=cutoff, media_root=media_root)
    detail: dict[str, Any] = {"cutoff": cutoff.isoformat(), "months": months, **counts}
    audit.record(session, actor="scheduler", action="retention.purge", now=now, **detail)
    return sum(counts.values())
