"""Mentors' daily digests and weekly lists, written by one windowed INSERT … SELECT a sweep.

Each mentor in delivery hours with households on the given rungs gets one deferred list per
period (its dedupe key): the first `length` households, longest silent first, and the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from storage.bulk import Hours, deferred, inserted, json_agg, json_list, outbox_insert, promptable
from storage.models import ChatIdentity, Household, LadderState, Mentor, OutboxMessage

LS, HH = LadderState, Household


def digest_key(kind: str, mentor_id: Any, period: str) -> Any:
    """`ladder:digest:<mentor>:<day>`, as SQL when `mentor_id` is a column."""
    if isinstance(mentor_id, int):
        return f"ladder:{kind}:{mentor_id}:{period}"
    return literal(f"ladder:{kind}:") + cast(mentor_id, String) + literal(f":{period}")


def ranked_silent(rungs: Sequence[str], mentors: Any) -> Any:
    """SQL: each of these mentors' households on `rungs`, numbered longest silent first, with the total."""
    order = (LS.cycle_start, HH.name, LS.household_id)
    return (
        select(
            HH.mentor_id.label("mentor_id"),
            LS.household_id,
            HH.name,
            HH.desa,
            LS.reason,
            LS.cycle_start,
            func.row_number().over(partition_by=HH.mentor_id, order_by=order).label("n"),
            # The same window (one sort, not two) over the whole partition: the mentor's total.
            func.count()
            .over(partition_by=HH.mentor_id, order_by=order, rows=(None, None))
            .label("total"),
        )
        .join(HH, HH.id == LS.household_id)
        .where(LS.rung.in_(rungs), HH.mentor_id.in_(mentors))
        .subquery()
    )


async def mentor_lists(
    session: AsyncSession,
    *,
    now: datetime,
    kind: str,
    period: str,
    day: date,
    rungs: Sequence[str],
    zones: ColumnElement[bool],
    render: str,
    length: int,
    hours: Hours,
) -> int:
    """One deferred list per mentor in delivery hours with households on `rungs`, once per period."""
    ci = ChatIdentity
    key = digest_key(kind, ci.mentor_id, period)
    sent = exists().where(OutboxMessage.dedupe_key == key)
    waiting = (
        select(ci.mentor_id)
        .join(Mentor, Mentor.id == ci.mentor_id)
        .where(ci.mentor_id.is_not(None), promptable(), zones, ~sent)
    )
    ranked = ranked_silent(rungs, waiting)
    r = ranked.c
    at = literal(now, OutboxMessage.created_at.type)
    line = json_list(session, r.household_id, r.name, r.desa, r.reason, r.cycle_start)
    payload = deferred(
        session,
        render,
        ci.locale,
        ("day", literal(day.isoformat(), String)),
        ("total", func.max(r.total)),
        ("page", json_agg(session, line)),
        region=Mentor.region_code,
        hours=hours,
    )
    source = (
        select(
            ci.id, ci.channel, ci.external_id, payload, key, at, at, literal("pending"), literal(0)
        )
        .join(ranked, r.mentor_id == ci.mentor_id)
        .join(Mentor, Mentor.id == ci.mentor_id)
        .where(r.n <= length, promptable())
        .group_by(ci.id, ci.channel, ci.external_id, ci.locale, ci.mentor_id, Mentor.region_code)
    )
    return await inserted(session, outbox_insert(session, source))
