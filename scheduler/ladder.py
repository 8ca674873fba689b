"""The ladder's rungs as jobs: check-in (D0) → reminder (D+3) → mentor (D+7) → Dinsos (D+14).

Each job is a plain async function of (session, now, plan): it claims what is due with one
set-based statement per batch (storage/ladder.py), moves those households up a rung, and
writes their messages to the outbox with unique keys. Nothing here loops over all households.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, long_date, use_locale
from bot.messages import Choice, Reply
from scheduler import calendar
from storage import ladder as store
from storage.models import ChatIdentity, Household, LadderState, Mentor


@dataclass(frozen=True)
class Plan:
    """Intervals, delivery hours and SLA: the settings the ladder runs on."""

    checkin_interval: timedelta = timedelta(days=30)
    reminder_after: timedelta = timedelta(days=3)
    mentor_after: timedelta = timedelta(days=7)
    dinsos_after: timedelta = timedelta(days=14)
    mentor_deadline: timedelta = timedelta(days=7)
    sla_working_days: int = 5
    risk_working_days: int = 1
    delivery_start: time = time(8, 0)
    delivery_end: time = time(18, 0)
    batch: int = 500

    @classmethod
    def from_settings(cls, settings: Any) -> Plan:
        """The plan from `bot.config.Settings` (read by attribute: scheduler does not import bot)."""
        days = lambda n: timedelta(days=n)  # noqa: E731
        return cls(
            checkin_interval=days(settings.checkin_interval_days),
            reminder_after=days(settings.reminder_after_days),
            mentor_after=days(settings.mentor_after_days),
            dinsos_after=days(settings.dinsos_after_days),
            mentor_deadline=days(getattr(settings, "mentor_deadline_days", 7)),
            sla_working_days=settings.escalation_sla_working_days,
            delivery_start=settings.delivery_start,
            delivery_end=settings.delivery_end,
        )

    def zones(self, now: datetime, column: Any) -> Any:
        """SQL: the region of `column` is within delivery hours now."""
        open_now = calendar.open_zones(now, self.delivery_start, self.delivery_end)
        return calendar.zone_filter(column, open_now)


PLAN = Plan()
Then = Callable[[list[int]], Awaitable[None]]


async def _climb(
    session: AsyncSession, due: store.Due, now: datetime, plan: Plan, then: Then
) -> int:
    """Claim the due households batch by batch and act on each batch; how many were claimed."""
    total = 0
    while ids := await store.claim(session, due, now=now, limit=plan.batch):
        await then(ids)
        total += len(ids)
    return total


# Jobs -----------------------------------------------------------------------------------------


async def enroll(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """New empowerment households get a ladder (in batches: the first run may enroll millions)."""
    total = 0
    while ids := await store.enroll(session, now=now, limit=plan.batch * 10):
        total += len(ids)
    return total


async def reset(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Households that wrote, reported or were visited go back to waiting."""
    return await store.reset_contacted(session, now=now)


async def unreachable(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Households whose chats all bounce go straight to a mentor visit task."""
    due = store.unreachable_due(today=calendar.period_day(now))

    async def then(ids: list[int]) -> None:
        await store.move(
            session,
            ids,
            rung="mentor",
            reason="unreachable",
            mentor_at=now,
            checkin_at=func.coalesce(LadderState.checkin_at, now),
            updated_at=now,
        )

    return await _climb(session, due, now, plan, then)


async def checkins(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D0: households quiet for a month are asked how the business is doing."""
    today = calendar.period_day(now)
    due = store.checkin_due(
        anchor_before=today - plan.checkin_interval,
        quiet_since=now - plan.checkin_interval,
        zones=plan.zones(now, Household.region_code),
        today=today,
    )

    async def then(ids: list[int]) -> None:
        await store.move(
            session,
            ids,
            rung="checkin",
            cycle_start=today,
            checkin_at=now,
            reason="silent",
            mentor_at=None,
            updated_at=now,
        )
        await _prompt(session, ids, now, f"checkin:{today.isoformat()}", checkin_reply)

    return await _climb(session, due, now, plan, then)


async def reminders(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D+3: households that have not answered the check-in get one reminder."""
    due = store.reminder_due(
        checked_before=now - plan.reminder_after, zones=plan.zones(now, Household.region_code)
    )

    async def then(ids: list[int]) -> None:
        await store.move(session, ids, rung="reminder", updated_at=now)
        await _prompt(
            session, ids, now, f"reminder:{calendar.period_day(now).isoformat()}", reminder_reply
        )

    return await _climb(session, due, now, plan, then)


async def mentor_tasks(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D+7: still silent, so the mentor should visit (told in the daily digest)."""
    due = store.mentor_due(checked_before=now - plan.mentor_after)

    async def then(ids: list[int]) -> None:
        await store.move(session, ids, rung="mentor", mentor_at=now, updated_at=now)

    return await _climb(session, due, now, plan, then)


async def escalations(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D+14, or the mentor's deadline passed without a visit: Dinsos of the kabupaten takes it."""
    today = calendar.period_day(now)
    due = store.dinsos_due(
        checked_before=now - plan.dinsos_after, mentor_before=now - plan.mentor_deadline
    )
    sla_due = calendar.add_working_days(today, plan.sla_working_days)

    async def then(ids: list[int]) -> None:
        await store.open_escalations(session, ids, now=now, sla_due=sla_due)
        await store.move(session, ids, rung="dinsos", updated_at=now)

    return await _climb(session, due, now, plan, then)


async def sla(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Escalations near their SLA are flagged; breached ones go up to the supervisor."""
    today = calendar.period_day(now)
    raised = await store.raise_breached(
        session,
        today=today,
        now=now,
        new_due=calendar.add_working_days(today, plan.sla_working_days),
    )
    flagged = await store.flag_at_risk(
        session, due_by=calendar.add_working_days(today, plan.risk_working_days)
    )
    return raised + flagged


async def digests(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Each mentor with silent households gets one digest a day, in their delivery hours."""
    day = calendar.period_day(now).isoformat()
    return await _to_mentors(
        session, now, plan, kind="digest", period=day, rungs=("mentor",), render=digest_reply
    )


async def weekly(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Each mentor gets, once a week, the list of households to visit."""
    year, week, _day = calendar.period_day(now).isocalendar()
    return await _to_mentors(
        session,
        now,
        plan,
        kind="weekly",
        period=f"{year}-W{week:02d}",
        rungs=store.SILENT,
        render=weekly_reply,
    )


# Messages -------------------------------------------------------------------------------------


async def _prompt(
    session: AsyncSession,
    ids: Sequence[int],
    now: datetime,
    key: str,
    render: Callable[[str], Reply],
) -> None:
    """Write one prompt to every promptable chat of these households, in its language."""
    chats = await store.household_chats(session, ids)
    rows: list[dict[str, Any]] = []
    offered: dict[str, tuple[Reply, list[int]]] = {}
    for chat in chats:
        with use_locale(chat.locale) as locale:
            reply = render(first_name(chat.name))
        offered.setdefault(locale, (reply, []))[1].append(chat.identity_id)
        rows.append(_row(chat, reply, f"ladder:{key}:{chat.owner_id}:{chat.identity_id}"))
    await store.enqueue_many(session, rows, now=now)
    for reply, identity_ids in offered.values():
        await store.offer_choices(session, identity_ids, [[c.key, c.label] for c in reply.choices])


def _row(chat: store.Chat, reply: Reply, key: str) -> dict[str, Any]:
    """An outbox row for one chat."""
    return {
        "identity_id": chat.identity_id,
        "channel": chat.channel,
        "recipient": chat.external_id,
        "payload": reply.to_payload(),
        "dedupe_key": key,
    }


def first_name(name: str) -> str:
    """The first word of the head of household's name, for a friendly greeting."""
    return (name.split() or [""])[0].title()


def checkin_reply(name: str) -> Reply:
    """The household is asked how the business is doing, with a button to report."""
    return Reply(
        _(
            "Hello {name}, this is Sinergi. How is your business doing this month? Tell us in a "
            "short report: a few questions, two minutes."
        ).format(name=name),
        (Choice("act:report", _("Report now")), Choice("act:menu", _("Main menu"))),
        template="checkin",
        template_params=(name,),
    )


def reminder_reply(name: str) -> Reply:
    """The household is reminded, once, that we would like to hear from it."""
    return Reply(
        _(
            "{name}, we have not heard from you yet. How is your business? Please send the short "
            "report, or write to us if something is wrong."
        ).format(name=name),
        (Choice("act:report", _("Report now")), Choice("act:menu", _("Main menu"))),
        template="reminder",
        template_params=(name,),
    )


Render = Callable[[list[store.SilentHousehold], int, date], Reply]


async def _to_mentors(
    session: AsyncSession,
    now: datetime,
    plan: Plan,
    *,
    kind: str,
    period: str,
    rungs: Sequence[str],
    render: Render,
) -> int:
    """One message of `kind` per mentor and period, to mentors in their delivery hours."""
    sent = 0
    key_sql = store.digest_key(kind, ChatIdentity.mentor_id, period)
    while chats := await store.mentors_with(
        session,
        rungs,
        zones=plan.zones(now, Mentor.region_code),
        unsent_key=key_sql,
        limit=plan.batch,
    ):
        rows = []
        pages = await store.silent_pages(
            session, [chat.owner_id for chat in chats], rungs=rungs, limit=LIST_LENGTH
        )
        for chat in chats:
            page, total = pages.get(chat.owner_id, ([], 0))
            with use_locale(chat.locale):
                reply = render(page, total, calendar.period_day(now))
            rows.append(_row(chat, reply, store.digest_key(kind, chat.owner_id, period)))
        sent += await store.enqueue_many(session, rows, now=now)
    return sent


LIST_LENGTH = 8


def household_line(row: store.SilentHousehold, today: date) -> str:
    """`• Siti Aminah (Rawa Makmur): silent since … (9 days)` or `… cannot be reached`."""
    place = f" ({row.desa})" if row.desa else ""
    if row.reason == "unreachable":
        state = _("cannot be reached by chat")
    else:
        state = _("silent since {day} ({days} days)").format(
            day=long_date(row.since), days=(today - row.since).days
        )
    return f"• {row.name}{place}: {state}"


def visit_choices(page: list[store.SilentHousehold]) -> list[Choice]:
    """A "record a visit" button per household, and one for the whole list."""
    choices = [
        Choice(f"act:visit:{row.household_id}", row.name[:24], _("Record a visit")) for row in page
    ]
    return [*choices, Choice("act:silent:0", _("Whole list"))]


def digest_reply(page: list[store.SilentHousehold], total: int, today: date) -> Reply:
    """The mentor's daily digest: silent households to visit, with buttons to record a visit."""
    lines = [household_line(row, today) for row in page]
    more = total - len(page)
    text = _("Families to visit ({count}): they have not answered Sinergi.").format(count=total)
    text += "\n" + "\n".join(lines)
    if more > 0:
        text += "\n" + _("…and {count} more.").format(count=more)
    text += "\n\n" + _("After the visit, press the family's name to record it.")
    return Reply(text, tuple(visit_choices(page)))


def weekly_reply(page: list[store.SilentHousehold], total: int, today: date) -> Reply:
    """The mentor's weekly list of households to visit this week."""
    lines = [household_line(row, today) for row in page]
    text = _("This week, please visit these families ({count}):").format(count=total)
    text += "\n" + "\n".join(lines)
    if total > len(page):
        text += "\n" + _("…and {count} more.").format(count=total - len(page))
    return Reply(text, tuple(visit_choices(page)))
