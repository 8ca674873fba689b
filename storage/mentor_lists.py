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
from storage.db import is_postgres
from storage.models import (
    ChatIdentity,
    Household,
    LadderState,
    Mentor,
    MentorVisit,
    OutboxMessage,
    ProgressReport,
)

LS, HH = LadderState, Household


def digest_key(kind: str, mentor_id: Any, period: str) -> Any:
    """`ladder:digest:<mentor>:<day>`, as SQL when `mentor_id` is a column."""
    if isinstance(mentor_id, int):
        return f"ladder:{kind}:{mentor_id}:{period}"
    return literal(f"ladder:{kind}:") + cast(mentor_id, String) + literal(f":{period}")


def last_contact(session: AsyncSession, household_id: Any) -> Any:
    """SQL: the household's latest message, submitted report or met visit (NULL: none ever)."""
    ci, pr, mv = ChatIdentity, ProgressReport, MentorVisit
    moments = [
        select(func.max(ci.last_inbound_at)).where(ci.household_id == household_id),
        select(func.max(pr.submitted_at)).where(pr.household_id == household_id),
        select(func.max(mv.at)).where(mv.household_id == household_id, mv.met.is_(True)),
    ]
    found = [m.scalar_subquery() for m in moments]
    if is_postgres(session):
        return func.greatest(*found)  # GREATEST passes over NULLs
    # SQLite's max() of several is NULL when one is: compare the stored texts, '' for none.
    return func.nullif(func.max(*(func.coalesce(f, "") for f in found)), "")


def ranked_silent(session: AsyncSession, rungs: Sequence[str], mentors: Any, length: int) -> Any:
    """SQL: the first `length` households on `rungs` of each of these mentors, longest silent
    first, with the mentor's total and each listed household's last contact.

    One grouped pass numbers every mentor's households; the last contact (three lookups) is
    read afterwards, only for the rows that make the list, not for every silent household.
    """
    order = (LS.cycle_start, HH.name, LS.household_id)
    ranked = (
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
    r = ranked.c
    return (
        select(
            r.mentor_id,
            r.household_id,
            r.name,
            r.desa,
            r.reason,
            r.cycle_start,
            r.total,
            last_contact(session, r.household_id).label("contact"),
        )
        .where(r.n <= length)
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
    unless: tuple[str, str, datetime] | None = None,
) -> int:
    """One deferred list per mentor in delivery hours with households on `rungs`, once per period.

    `unless` (kind, period, since) skips a mentor who got that other list since then: the
    weekly list stands for the day's digest, so a mentor never reads the same names twice.
    """
    ci = ChatIdentity
    key = digest_key(kind, ci.mentor_id, period)
    sent = exists().where(OutboxMessage.dedupe_key == key)
    skip = []
    if unless is not None:
        other, other_period, since = unless
        skip.append(
            ~exists().where(
                OutboxMessage.dedupe_key == digest_key(other, ci.mentor_id, other_period),
                OutboxMessage.created_at >= since,
            )
        )
    # Driven by the mentors (a few thousand), each chat found by its index: scanning every
    # chat for the few that belong to a mentor grew with the households.
    waiting = select(Mentor.id).where(
        zones, exists().where(ci.mentor_id == Mentor.id, promptable(), ~sent, *skip)
    )
    # Most ticks of a day find every mentor served (and on the weekly list's day, the digests
    # stand aside): then no silent household is read at all. Asked mentor by mentor, through
    # the few households of each that is still waiting.
    listed = exists().where(
        HH.mentor_id == Mentor.id,
        exists().where(LS.household_id == HH.id, LS.rung.in_(rungs)),
    )
    if await session.scalar(select(waiting.where(listed).exists())) is not True:
        return 0
    ranked = ranked_silent(session, rungs, waiting, length)
    r = ranked.c
    at = literal(now, OutboxMessage.created_at.type)
    line = json_list(session, r.household_id, r.name, r.desa, r.reason, r.cycle_start, r.contact)
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
        .where(promptable())
        .group_by(ci.id, ci.channel, ci.external_id, ci.locale, ci.mentor_id, Mentor.region_code)
    )
    return await inserted(session, outbox_insert(session, source))
