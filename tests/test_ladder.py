"""The silent-household ladder driven by the tick across 60 simulated days, on each database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from bot.commands.tick import run_tick
from scheduler import calendar
from storage.models import Escalation, LadderAction
from tests import ladder_factories as lf
from tests.conftest import T0
from tests.harness import Harness

DAY0 = T0.date()  # Monday 23 November 2026
# 08:30 WITA (07:30 WIB), 09:30 WITA (08:30 WIB), and 21:00 WITA: night everywhere.
TIMES = (time(0, 30), time(1, 30), time(13, 0))
MENTOR, SITI, DEWI, ANI, BUDI, WATI, PKH_ONLY = 9001, 101, 102, 103, 104, 105, 106


@dataclass
class Sent:
    """One message that went out: when, to which chat, what it said."""

    day: int
    at: datetime
    chat_id: int
    text: str


Event = Callable[[Harness, datetime], Awaitable[None]]


async def simulate(h: Harness, days: int, events: dict[int, Event] | None = None) -> list[Sent]:
    """Tick three times a day for `days` days; what went out, when."""
    log: list[Sent] = []
    for day in range(days):
        for at in TIMES:
            now = datetime.combine(DAY0 + timedelta(days=day), at, tzinfo=T0.tzinfo)
            h.now = now
            if events and day in events and at == TIMES[-1]:
                await events[day](h, now - timedelta(hours=10))
            before = len(h.telegram.sent())
            summary = await run_tick(h.rt, now)
            assert all(v >= 0 for v in summary.values()), summary  # no job failed
            log += [
                Sent(day, now, int(p["chat_id"]), p.get("text", ""))
                for p in h.telegram.sent()[before:]
            ]
    return log


async def reply(h: Harness, user_id: int, text: str, at: datetime) -> None:
    """The person writes to the bot at `at` (answered by the next tick)."""
    h.now = at
    response = await h.post_telegram(h.telegram_update(user_id, text=text))
    assert response.status_code == 200
    await run_tick(h.rt, at)


async def seed(h: Harness) -> None:
    """A small region: one mentor in Samarinda (WITA), five families in programs, one in PKH only."""
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        await lf.enrolled(s, h.rt.vault, n=1, name="Siti Aminah", mentor_id=m.id, user_id=SITI)
        await lf.enrolled(s, h.rt.vault, n=2, name="Dewi Lestari", mentor_id=m.id, user_id=DEWI)
        await lf.enrolled(
            s,
            h.rt.vault,
            n=3,
            name="Ani Suryani",
            mentor_id=m.id,
            user_id=ANI,
            consent=False,
            opted_out=True,
        )
        await lf.enrolled(
            s, h.rt.vault, n=4, name="Budi Santoso", mentor_id=m.id, user_id=BUDI, unreachable=True
        )
        await lf.enrolled(
            s,
            h.rt.vault,
            n=5,
            name="Wati Surabaya",
            mentor_id=None,
            user_id=WATI,
            region_code="3578011001",
            program="PELATIHAN",
        )
        await lf.enrolled(
            s, h.rt.vault, n=6, name="Sri PKH", mentor_id=m.id, user_id=PKH_ONLY, program="PKH"
        )


def to(log: list[Sent], chat_id: int, words: str = "") -> list[Sent]:
    """What went to one chat, optionally only messages containing `words`."""
    return [s for s in log if s.chat_id == chat_id and words in s.text]


CHECKIN, REMINDER = "Bagaimana usaha Anda bulan ini", "belum mendengar kabar"
DIGEST, WEEKLY = "Keluarga yang perlu dikunjungi", "Minggu ini, mohon kunjungi"


async def test_sixty_days_of_a_small_region(harness: Harness) -> None:
    h = harness
    await seed(h)
    log = await simulate(h, 60, {2: lambda h, at: reply(h, SITI, "usaha lancar", at)})

    # A household that answers on day 2 (11:00 WITA) gets no reminder; its next check-in
    # comes 30 days after that answer: day 32 at 11:00 is past the morning ticks, and 21:00
    # is night, so the morning of day 33.
    assert [s.day for s in to(log, SITI, CHECKIN)] == [0, 33]
    assert [s.day for s in to(log, SITI, REMINDER)] == [36]
    assert "Halo Siti" in to(log, SITI, CHECKIN)[0].text
    # A silent one climbs: check-in D0, reminder D+3, then (D+30) a new month.
    assert [s.day for s in to(log, DEWI, CHECKIN)] == [0, 30]
    assert [s.day for s in to(log, DEWI, REMINDER)] == [3, 33]
    # BERHENTI and a program outside empowerment: nothing, ever.
    assert to(log, ANI) == [] and to(log, PKH_ONLY) == []
    # Unreachable is not silent: no prompt tried, straight to the mentor on day 0.
    assert to(log, BUDI) == []
    digests = to(log, MENTOR, DIGEST)
    assert digests[0].day == 0 and "Budi Santoso" in digests[0].text
    assert "tidak bisa dihubungi" in digests[0].text and "Dewi" not in digests[0].text
    assert any("Dewi Lestari" in d.text for d in digests if d.day == 7)
    assert not any("Dewi Lestari" in d.text for d in digests if d.day < 7)
    # One digest per mentor per day at most; the weekly list on Mondays.
    days = [d.day for d in digests]
    assert len(days) == len(set(days))
    assert {s.day % 7 for s in to(log, MENTOR, WEEKLY)} == {0}

    # Never at night: prompts go out between 08:00 and 18:00 on the household's own clock.
    # 00:30 UTC is 08:30 in Samarinda (WITA) but 07:30 in Surabaya (WIB): Wati waits an hour.
    prompts = [s for s in log if CHECKIN in s.text or REMINDER in s.text]
    for sent in prompts:
        zone = "WIB" if sent.chat_id == WATI else "WITA"
        assert time(8) <= calendar.local(sent.at, zone).time() < time(18), sent
    assert to(log, DEWI, CHECKIN)[0].at.time() == time(0, 30)
    assert to(log, WATI, CHECKIN)[0].at.time() == time(1, 30)

    # Dinsos of each kabupaten took up Budi (unreachable: the mentor's 7 days passed without a
    # visit), Dewi and Wati (D+14), and Siti after her second, unanswered check-in; one
    # escalation each, however long they stay silent.
    async with await h.session() as s:
        rows = list(
            await s.scalars(
                select(Escalation).order_by(Escalation.created_at, Escalation.household_id)
            )
        )
    assert [(e.reason, e.created_at.date(), e.region_code) for e in rows] == [
        ("unreachable", date(2026, 11, 30), "6472"),
        ("silent", date(2026, 12, 7), "6472"),
        ("silent", date(2026, 12, 7), "3578"),
        ("silent", date(2027, 1, 9), "6472"),
    ]
    dewi = rows[1]
    # Five working days after Monday 7 December is Monday the 14th; on the 15th it was
    # breached and went up to the supervisor, with a new SLA.
    assert dewi.level == 2 and dewi.breached_at is not None
    assert dewi.breached_at.date() == date(2026, 12, 15) and dewi.sla_due == date(2026, 12, 22)
    assert dewi.at_risk  # the supervisor's SLA has passed too


async def test_holidays_move_the_sla(harness: Harness) -> None:
    h = harness
    await seed(h)
    await run_tick(h.rt, T0)
    # Nobody answers; the next tick is on Monday 21 December, when all are past D+14. Five
    # working days would end on the 28th, but 24 (cuti bersama) and 25 December do not count.
    await run_tick(h.rt, datetime(2026, 12, 21, 1, 30, tzinfo=T0.tzinfo))
    async with await h.session() as s:
        dues = list(await s.scalars(select(Escalation.sla_due)))
    assert len(dues) == 4 and set(dues) == {date(2026, 12, 30)}


async def test_a_second_tick_at_the_same_moment_does_nothing_more(harness: Harness) -> None:
    h = harness
    await seed(h)
    await run_tick(h.rt, T0)
    first = len(h.telegram.sent())
    summary = await run_tick(h.rt, T0)
    assert len(h.telegram.sent()) == first
    assert summary["checkins"] == 0
    async with await h.session() as s:
        actions = await s.scalar(select(func.count()).select_from(LadderAction))
    assert actions == 4  # Siti, Dewi, Wati checked in; Budi handed to the mentor
