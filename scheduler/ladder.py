"""The ladder's rungs as jobs: check-in (D0) → reminder (D+3) → mentor (D+7) → Dinsos (D+14).

Each job is a plain async function of (session, now, plan): it claims what is due with one
set-based statement (storage/ladder.py) under a fresh run id, moves the households of that run
up a rung, and writes their messages to the outbox with unique keys, each also one statement.
No Python runs per household: the messages are deferred and rendered when sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from handlers.reports import report_period
from locales.i18n import DEFAULT_LOCALE, LOCALES, use_locale
from scheduler import ladder_messages as words
from storage import calendar, mentor_lists
from storage import jobs as jobs_store
from storage import ladder as store
from storage.models import Household, LadderState, Mentor


@dataclass(frozen=True)
class Plan:
    """Intervals, delivery hours and SLA: the settings the ladder runs on."""

    checkin_interval: timedelta = timedelta(days=30)
    # A graduate in its watch year is asked less often, whether or not a program still runs.
    graduate_checkin_interval: timedelta = timedelta(days=90)
    reminder_after: timedelta = timedelta(days=3)
    mentor_after: timedelta = timedelta(days=7)
    dinsos_after: timedelta = timedelta(days=14)
    mentor_deadline: timedelta = timedelta(days=7)
    sla_working_days: int = 5
    risk_working_days: int = 1
    # Vulnerable households (storage/priority.py) reach the mentor and Dinsos sooner.
    vulnerable_mentor_after: timedelta = timedelta(days=5)
    vulnerable_dinsos_after: timedelta = timedelta(days=10)
    vulnerable_sla_working_days: int = 3
    delivery_start: time = time(8, 0)
    delivery_end: time = time(18, 0)
    batch: int = 500
    report_until_day: int = 10  # early in a month, the report is about the month just ended

    @classmethod
    def from_settings(cls, settings: Any) -> Plan:
        """The plan from `bot.config.Settings` (read by attribute: scheduler does not import bot)."""
        days = lambda n: timedelta(days=n)  # noqa: E731
        return cls(
            checkin_interval=days(settings.checkin_interval_days),
            graduate_checkin_interval=days(getattr(settings, "graduate_checkin_interval_days", 90)),
            reminder_after=days(settings.reminder_after_days),
            mentor_after=days(settings.mentor_after_days),
            dinsos_after=days(settings.dinsos_after_days),
            mentor_deadline=days(getattr(settings, "mentor_deadline_days", 7)),
            sla_working_days=settings.escalation_sla_working_days,
            vulnerable_mentor_after=days(getattr(settings, "vulnerable_mentor_after_days", 5)),
            vulnerable_dinsos_after=days(getattr(settings, "vulnerable_dinsos_after_days", 10)),
            vulnerable_sla_working_days=getattr(settings, "vulnerable_sla_working_days", 3),
            delivery_start=settings.delivery_start,
            delivery_end=settings.delivery_end,
            report_until_day=settings.report_previous_month_until_day,
        )

    def sla_due(self, today: date) -> store.SlaDue:
        """The day an escalation opened today is due: sooner for a vulnerable household."""
        return store.SlaDue(
            calendar.add_working_days(today, self.sla_working_days),
            calendar.add_working_days(today, self.vulnerable_sla_working_days),
        )

    def hours(self) -> tuple[str, str]:
        """Delivery hours as written into a deferred message: ("08:00", "18:00")."""
        return (_clock(self.delivery_start), _clock(self.delivery_end))

    def zones(self, now: datetime, column: Any) -> Any:
        """SQL: the region of `column` is within delivery hours now."""
        open_now = calendar.open_zones(now, self.delivery_start, self.delivery_end)
        return calendar.zone_filter(column, open_now)


PLAN = Plan()


# Jobs -----------------------------------------------------------------------------------------


# Incremental sweeps look back this far before their previous run: a contact written by a
# transaction that committed just after that run, or by a process whose clock lags, is seen.
MARK_MARGIN = timedelta(days=1)


async def _since(session: AsyncSession, name: str, now: datetime) -> datetime | None:
    """Where an incremental sweep starts: its previous run less the margin (None: look at all)."""
    previous = await jobs_store.advance_mark(session, name, now=now)
    return None if previous is None else min(previous, now) - MARK_MARGIN


async def enroll(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """New empowerment households get a ladder (in batches: the first run may enroll millions)."""
    since = await _since(session, "ladder.enroll", now)
    total, after = 0, 0
    while True:
        added, last = await store.enroll(
            session, now=now, since=since, limit=plan.batch * 10, after=after
        )
        if last is None:
            return total
        total, after = total + added, last


async def reset(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Households that wrote, reported or were visited go back to waiting."""
    since = await _since(session, "ladder.reset", now)
    return await store.reset_contacted(session, now=now, since=since)


async def unreachable(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Households whose chats all bounce go straight to a mentor visit task."""
    run = store.new_run()
    due = store.unreachable_due(today=calendar.period_day(now))
    if claimed := await store.claim(session, due, now=now, run=run):
        await store.move(
            session,
            run,
            rung="mentor",
            reason="unreachable",
            mentor_at=now,
            checkin_at=func.coalesce(LadderState.checkin_at, now),
            updated_at=now,
        )
    return claimed


async def checkins(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D0: households quiet for a month (graduates for three) are asked how the business is doing."""
    run = store.new_run()
    today = calendar.period_day(now)

    def every(interval: timedelta) -> store.Interval:
        return store.Interval(anchor_before=today - interval, quiet_since=now - interval)

    due = store.checkin_due(
        usual=every(plan.checkin_interval),
        graduate=every(plan.graduate_checkin_interval),
        zones=plan.zones(now, Household.region_code),
        today=today,
    )
    if claimed := await store.claim(session, due, now=now, run=run):
        await store.move(
            session,
            run,
            rung="checkin",
            cycle_start=today,
            checkin_at=now,
            reason="silent",
            mentor_at=None,
            updated_at=now,
        )
        # The check-in names the month the report will be about (the last one, early in a month).
        month = report_period(now, plan.report_until_day)
        await _prompt(session, run, now, plan, "checkin", words.checkin_reply, month=month)
    return claimed


async def reminders(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D+3: households that have not answered the check-in get one reminder."""
    run = store.new_run()
    due = store.reminder_due(
        checked_before=now - plan.reminder_after, zones=plan.zones(now, Household.region_code)
    )
    if claimed := await store.claim(session, due, now=now, run=run):
        await store.move(session, run, rung="reminder", updated_at=now)
        await _prompt(session, run, now, plan, "reminder", words.reminder_reply)
    return claimed


async def mentor_tasks(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D+7 (D+5 for the vulnerable): still silent, so the mentor should visit (told in the digest)."""
    run = store.new_run()
    due = store.mentor_due(
        checked_before=now - plan.mentor_after,
        vulnerable_before=now - plan.vulnerable_mentor_after,
    )
    if claimed := await store.claim(session, due, now=now, run=run):
        await store.move(session, run, rung="mentor", mentor_at=now, updated_at=now)
    return claimed


async def escalations(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """D+14 (D+10 for the vulnerable), or the mentor's deadline passed: Dinsos takes it."""
    run = store.new_run()
    today = calendar.period_day(now)
    due = store.dinsos_due(
        checked_before=now - plan.dinsos_after,
        mentor_before=now - plan.mentor_deadline,
        vulnerable_before=now - plan.vulnerable_dinsos_after,
    )
    if claimed := await store.claim(session, due, now=now, run=run):
        await store.open_escalations(session, run, now=now, sla_due=plan.sla_due(today))
        await store.move(session, run, rung="dinsos", updated_at=now)
    return claimed


async def sla(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Escalations near their SLA are flagged; breached ones go up to the supervisor."""
    today = calendar.period_day(now)
    raised = await store.raise_breached(
        session,
        today=today,
        now=now,
        new_due=plan.sla_due(today),
    )
    flagged = await store.flag_at_risk(
        session, due_by=calendar.add_working_days(today, plan.risk_working_days)
    )
    return raised + flagged


def week_of(day: date) -> str:
    """The weekly list's period: the ISO week, `2026-W48`."""
    year, week, _day = day.isocalendar()
    return f"{year}-W{week:02d}"


async def digests(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Each mentor with silent households gets one digest a day, in their delivery hours."""
    day = calendar.period_day(now)
    midnight = datetime.combine(day, time(0), tzinfo=calendar.PERIOD_ZONE)
    return await mentor_lists.mentor_lists(
        session,
        now=now,
        kind="digest",
        period=day.isoformat(),
        day=day,
        rungs=("mentor",),
        zones=plan.zones(now, Mentor.region_code),
        render=words.DIGEST,
        length=words.LIST_LENGTH,
        hours=plan.hours(),
        unless=("weekly", week_of(day), midnight),
    )


async def weekly(session: AsyncSession, now: datetime, plan: Plan = PLAN) -> int:
    """Each mentor gets, once a week, the list of households to visit."""
    day = calendar.period_day(now)
    return await mentor_lists.mentor_lists(
        session,
        now=now,
        kind="weekly",
        period=week_of(day),
        day=day,
        rungs=store.SILENT,
        zones=plan.zones(now, Mentor.region_code),
        render=words.WEEKLY,
        length=words.LIST_LENGTH,
        hours=plan.hours(),
    )


# Messages -------------------------------------------------------------------------------------
#
# The sweep writes prompts and lists as deferred messages (bot.messages): their words are made
# by scheduler/ladder_messages.py when the sender reads the row, in the chat's language.


async def _prompt(
    session: AsyncSession,
    run: int,
    now: datetime,
    plan: Plan,
    kind: str,
    reply_to: Callable[[str], Reply],
    **extra: str,
) -> None:
    """A prompt of `kind` (its words made later by the renderer `ladder.<kind>`) to the claimed."""
    # The key keeps the bare kind: rows of today's prompts written before a restart still match.
    key = f"{kind}:{calendar.period_day(now).isoformat()}"
    await store.prompt(
        session,
        run,
        now=now,
        key=key,
        render=f"ladder.{kind}",
        hours=plan.hours(),
        extra=tuple(extra.items()),
    )
    choices = {}
    for locale in LOCALES:
        with use_locale(locale):
            choices[locale] = [[c.key, c.label] for c in reply_to("").choices]
    await store.offer_choices(session, run, choices, default=DEFAULT_LOCALE)


def _clock(moment: time) -> str:
    """A time of day as "08:00", or to the microsecond when it is not a whole minute (a window
    that ends at 23:59:59.999999 must not close for the last minute of the day)."""
    whole = moment.second == 0 and moment.microsecond == 0
    return moment.isoformat(timespec="minutes" if whole else "auto")
