"""The silent-household ladder driven by the tick across 60 simulated days, on each database."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.commands.tick import run_tick
from storage import calendar, escalations
from storage.models import Escalation, EscalationNote, LadderAction, LadderState, StaffUser
from storage.scope import NotFound, Scope, ScopeError
from tests import factories
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


# A check-in names the month its report is about ("… bulan November 2026?").
CHECKIN, REMINDER = "Bagaimana usaha Anda bulan ", "belum mendengar kabar"
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
    assert to(log, SITI, CHECKIN)[0].text.startswith(
        "Halo Bu Siti, ini Sinergi. Bagaimana usaha Anda bulan November 2026?"
    )
    # A silent one climbs: check-in D0, reminder D+3, then (D+30) a new month.
    assert [s.day for s in to(log, DEWI, CHECKIN)] == [0, 30]
    assert [s.day for s in to(log, DEWI, REMINDER)] == [3, 33]
    # BERHENTI and a program outside empowerment: nothing, ever.
    assert to(log, ANI) == [] and to(log, PKH_ONLY) == []
    # Unreachable is not silent: no prompt tried, straight to the mentor on day 0.
    assert to(log, BUDI) == []
    digests, weeklies = to(log, MENTOR, DIGEST), to(log, MENTOR, WEEKLY)
    lists = sorted(digests + weeklies, key=lambda s: s.at)
    assert lists[0].day == 0 and "Budi Santoso" in lists[0].text
    assert "tidak bisa dihubungi" in lists[0].text and "Dewi" not in lists[0].text
    assert any("Dewi Lestari" in d.text for d in lists if d.day == 7)
    assert not any("Dewi Lestari" in d.text for d in lists if d.day < 7)
    # One list per mentor per day at most: the weekly list on Mondays stands for the digest.
    days = [d.day for d in lists]
    assert len(days) == len(set(days))
    assert {s.day % 7 for s in weeklies} == {0} and {s.day % 7 for s in digests} <= set(range(1, 7))

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
    # Each under its household's desa code, so every level of staff above the desa sees it.
    assert [(e.reason, e.created_at.date(), e.region_code) for e in rows] == [
        ("unreachable", date(2026, 11, 30), "6472011001"),
        ("silent", date(2026, 12, 7), "6472011001"),
        ("silent", date(2026, 12, 7), "3578011001"),
        ("silent", date(2027, 1, 9), "6472011001"),
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


# The mentor's side ------------------------------------------------------------------------------


async def press(h: Harness, user_id: int, key: str) -> list[str]:
    """A button press, answered; the texts the person got back."""
    before = len(h.telegram.sent(user_id))
    assert (await h.post_telegram(h.telegram_callback(user_id, key))).status_code == 200
    await run_tick(h.rt, h.now)
    return [p["text"] for p in h.telegram.sent(user_id)[before:]]


async def write(h: Harness, user_id: int, text: str) -> list[str]:
    """A typed message, answered; the texts the person got back."""
    before = len(h.telegram.sent(user_id))
    assert (await h.post_telegram(h.telegram_update(user_id, text=text))).status_code == 200
    await run_tick(h.rt, h.now)
    return [p["text"] for p in h.telegram.sent(user_id)[before:]]


def buttons(h: Harness, user_id: int) -> list[tuple[str, str]]:
    """The buttons of the last message to this chat (labels without their number)."""
    return [
        (key, re.sub(r"^\d+\. ", "", label)) for key, label in h.telegram_said(user_id)[-1].choices
    ]


async def test_a_mentor_with_150_silent_households_pages_through_them(harness: Harness) -> None:
    h = harness
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        await lf.silent_families(s, h.rt.vault, mentor_id=m.id, count=150, first=100, spread=5)
    h.now = T0.replace(hour=13)  # evening: no digest comes in between
    await write(h, MENTOR, "MENU")
    assert ("silent", "Siapa yang belum lapor") in buttons(h, MENTOR)
    said = await press(h, MENTOR, "silent")
    assert "Keluarga yang belum lapor: 150 (halaman 1 dari 19)" in said[-1]
    assert "14 hari tanpa kabar" in said[-1]  # longest silent first
    first = buttons(h, MENTOR)
    assert len(first) == 9 and first[-1] == ("act:silent:1", "Halaman berikutnya")
    said = await press(h, MENTOR, "act:silent:18")
    assert "(halaman 19 dari 19)" in said[-1]
    last = buttons(h, MENTOR)
    assert len(last) == 7 and last[-1] == ("act:silent:17", "Halaman sebelumnya")
    assert not {k for k, _l in first} & {k for k, _l in last}
    said = await press(h, MENTOR, first[0][0])
    assert "Belum ada kabar sejak" in said[-1]
    assert [label for _k, label in buttons(h, MENTOR)] == [
        "Catat kunjungan",
        "Teruskan ke Dinsos",
        "Kembali ke daftar",
    ]


async def test_a_visit_from_the_digest_closes_the_mentor_task(harness: Harness) -> None:
    h = harness
    await seed(h)
    await simulate(h, 8)  # Dewi is in the mentor's digest on day 7
    visit = next(k for k, label in buttons(h, MENTOR) if label.startswith("Dewi"))
    said = await press(h, MENTOR, visit)
    assert "Kunjungan ke Dewi Lestari. Apakah Anda bertemu" in said[-1]
    await press(h, MENTOR, "met")
    await press(h, MENTOR, "berjalan")
    said = await write(h, MENTOR, "Warung buka, ramai")
    assert "Kunjungan ke Dewi Lestari sudah dicatat" in said[-1]
    log = await simulate_from(h, 8, 16)
    async with await h.session() as s:
        reasons = list(await s.scalars(select(Escalation.household_id)))
        dewi = await s.scalar(select(LadderState).where(LadderState.rung == "waiting"))
    assert len(reasons) == 3  # Budi, Siti and Wati went to Dinsos; Dewi was visited
    assert dewi is not None
    assert not any("Dewi Lestari" in s.text for s in to(log, MENTOR, DIGEST))


async def simulate_from(h: Harness, first: int, last: int) -> list[Sent]:
    """Tick on days first..last-1 (the same times as `simulate`)."""
    log: list[Sent] = []
    for day in range(first, last):
        for at in TIMES:
            now = datetime.combine(DAY0 + timedelta(days=day), at, tzinfo=T0.tzinfo)
            h.now = now
            before = len(h.telegram.sent())
            await run_tick(h.rt, now)
            log += [
                Sent(day, now, int(p["chat_id"]), p.get("text", ""))
                for p in h.telegram.sent()[before:]
            ]
    return log


async def test_a_mentor_hands_a_family_to_dinsos_with_a_note(harness: Harness) -> None:
    h = harness
    await seed(h)
    h.now = T0
    await write(h, MENTOR, "MENU")
    said = await press(h, MENTOR, "handoff")
    assert "Keluarga mana yang perlu ditangani Dinsos" in said[-1]
    said = await write(h, MENTOR, "Dewi")
    assert "Teruskan Dewi Lestari ke Dinsos" in said[-1]
    said = await write(h, MENTOR, "Usaha tutup, butuh modal kerja")
    # Monday 23 November + 5 working days.
    assert "Sudah diteruskan ke Dinsos Kota Samarinda" in said[-1]
    assert "paling lambat 30 November 2026" in said[-1]
    async with await h.session() as s:
        row = await s.scalar(select(Escalation))
        assert (
            row is not None and row.reason == "mentor_handoff" and row.region_code == "6472011001"
        )
        notes = list(await s.scalars(select(EscalationNote.text)))
    assert notes == ["Usaha tutup, butuh modal kerja"]


async def test_the_checkin_button_starts_the_report(harness: Harness) -> None:
    h = harness
    await seed(h)
    await run_tick(h.rt, T0)
    assert buttons(h, SITI)[0] == ("act:report", "Lapor sekarang")
    async with await h.session() as s:
        state = await s.get(LadderState, 1)
    assert state is not None and state.rung == "checkin"
    h.now = T0 + timedelta(minutes=5)
    said = await press(h, SITI, "act:report")
    assert "Laporan usaha November 2026" in said[0]
    async with await h.session() as s:  # the answer reset the ladder
        state = await s.get(LadderState, 1)
    assert state is not None and state.rung == "waiting"


async def test_typing_one_answers_the_checkin(harness: Harness) -> None:
    h = harness
    await seed(h)
    await run_tick(h.rt, T0)
    h.now = T0 + timedelta(minutes=5)
    said = await write(h, SITI, "1")
    assert "Laporan usaha November 2026" in said[0]


# The Dinsos queue -------------------------------------------------------------------------------


async def test_the_escalation_queue_is_scoped_and_fails_closed(harness: Harness) -> None:
    h = harness
    await seed(h)
    await run_tick(h.rt, T0)
    later = datetime(2026, 12, 8, 1, 30, tzinfo=T0.tzinfo)
    await run_tick(h.rt, later)
    samarinda = Scope("6472", "officer", 1, "petugas.smd")
    surabaya = Scope("3578", "officer", 2, "petugas.sby")
    async with await h.session() as s:
        officer = StaffUser(
            username="petugas.smd",
            password_hash="x",
            role="officer",
            region_code="6472",
            active=True,
            failed_logins=0,
            created_at=T0,
        )
        s.add(officer)
        await s.flush()
        mine = (await escalations.queue(s, samarinda, staff_id=officer.id, now=later)).rows
        # The kabupaten's three, and only them (same SLA: all opened the same day).
        assert sorted(r.household.name for r in mine) == [
            "Budi Santoso",
            "Dewi Lestari",
            "Siti Aminah",
        ]
        theirs = await escalations.queue(s, surabaya, staff_id=officer.id, now=later)
        assert [r.household.name for r in theirs.rows] == ["Wati Surabaya"]
        # The ladder writes the household's desa code: the kecamatan and desa see them too.
        assert {r.esc.region_code for r in mine} == {"6472011001"}
        for finer in ("647201", "6472011001"):
            rows = await escalations.queue(
                s, Scope(finer, "officer", 1, "x"), staff_id=officer.id, now=later
            )
            assert len(rows.rows) == 3
        assert [r.esc.reason for r in mine].count("unreachable") == 1
        with pytest.raises(ScopeError):
            await escalations.queue(s, None, staff_id=officer.id, now=later)  # type: ignore[arg-type]
        with pytest.raises(ScopeError):
            await escalations.get(s, "6472", mine[0].esc.id)  # type: ignore[arg-type]
        first = next(r.esc for r in mine if r.household.name == "Budi Santoso")  # unreachable
        with pytest.raises(NotFound):
            await escalations.get(s, surabaya, first.id)
        with pytest.raises(NotFound):
            await escalations.resolve(s, surabaya, first.id, "x", actor="petugas.sby", now=T0)
        with pytest.raises(NotFound):
            await escalations.assign(
                s, surabaya, [first.id], officer.id, actor="petugas.sby", now=T0
            )
        with pytest.raises(NotFound):
            await escalations.history(s, surabaya, first.id)
        assert first.state == "open" and first.assignee_id is None
        assigned = await escalations.assign(
            s, samarinda, [first.id], officer.id, actor="petugas.smd", now=later
        )
        assert [e.id for e in assigned.escalations] == [first.id]
        assert first.state == "assigned" and first.assignee_id == officer.id
        await escalations.add_note(
            s, samarinda, first.id, "Ditelepon, tidak aktif", actor="petugas.smd", now=later
        )
        done = await escalations.resolve(
            s,
            samarinda,
            first.id,
            "Dikunjungi bersama",
            actor="petugas.smd",
            now=T0 + timedelta(days=16),
        )
        assert done.state == "resolved"
        history = await escalations.history(s, samarinda, first.id)
        assert [e.kind for e in history][:2] == ["unreachable", "dinsos"]
        assert "Dikunjungi bersama" in history[-1].text
        assert history[-1].author == "petugas.smd"
        ladder_row = await s.get(LadderState, first.household_id)
        assert ladder_row is not None and ladder_row.rung == "waiting"
        assert ladder_row.cycle_start == date(2026, 12, 9)


async def test_who_is_silent_lists_the_quiet_and_the_never_connected(harness: Harness) -> None:
    """A family that went quiet and one whose chat never reached Sinergi: both, told apart."""
    h = harness
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        await lf.silent_families(s, h.rt.vault, mentor_id=m.id, count=1, first=100, spread=1)
        await factories.household(
            s,
            h.rt.vault,
            nik="6472016503819999",
            no_kk="6472010101009999",
            name="Nur Belum Chat",
            phone="+6281300009999",
            mentor_id=m.id,
        )
    h.now = T0.replace(hour=13)
    said = await press(h, MENTOR, "silent")
    assert "Keluarga yang belum lapor: 2 (halaman 1 dari 1)" in said[-1]
    assert "Diam: 1. Belum pernah terhubung ke Sinergi: 1." in said[-1]
    assert "• Keluarga 000 (Rawa Makmur): 10 hari tanpa kabar" in said[-1]
    assert "• Nur Belum Chat (Rawa Makmur): belum terhubung" in said[-1]
