"""The sweep's messages are written by SQL and rendered when sent: their words, language and faults."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.commands.tick import run_tick
from bot.messages import Reply, install_renderers
from bot.web.admin.conversation import outbound_line
from scheduler import jobs, ladder_messages
from storage import outbox
from storage.models import ChatIdentity, LadderState, OutboxMessage
from tests import ladder_factories as lf
from tests.conftest import T0
from tests.harness import Harness
from tests.test_ladder import MENTOR, buttons, write

ENGLISH, INDONESIAN = 201, 202


async def test_a_digest_of_150_families_lists_the_longest_silent_first(harness: Harness) -> None:
    h = harness
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        # Keluarga 009, 019, 029 … are silent longest (10 + 9 days).
        await lf.silent_families(s, h.rt.vault, mentor_id=m.id, count=150, first=300, spread=10)
    h.now = T0
    await run_tick(h.rt, T0)  # Monday 10:00 WITA: the weekly list, which stands for the digest
    said = [p["text"] for p in h.telegram.sent(MENTOR)]
    assert not [t for t in said if t.startswith("Keluarga yang perlu dikunjungi")]
    weekly = next(t for t in said if t.startswith("Minggu ini, mohon kunjungi"))
    assert "(150)" in weekly
    # A second tick the same day sends neither again.
    before = len(h.telegram.sent(MENTOR))
    await run_tick(h.rt, T0 + timedelta(minutes=30))
    assert len(h.telegram.sent(MENTOR)) == before
    # Tuesday: the daily digest, and no weekly list again this week.
    h.now = T0 + timedelta(days=1)
    await run_tick(h.rt, h.now)
    said = [p["text"] for p in h.telegram.sent(MENTOR)[before:]]
    assert not [t for t in said if t.startswith("Minggu ini, mohon kunjungi")]
    digest = next(t for t in said if t.startswith("Keluarga yang perlu dikunjungi (150)"))
    lines = [line for line in digest.splitlines() if line.startswith("• ")]
    assert lines[:3] == [
        "• Keluarga 009 (Rawa Makmur): belum ada kabar sejak 4 November 2026 (20 hari)",
        "• Keluarga 019 (Rawa Makmur): belum ada kabar sejak 4 November 2026 (20 hari)",
        "• Keluarga 029 (Rawa Makmur): belum ada kabar sejak 4 November 2026 (20 hari)",
    ]
    assert len(lines) == 8
    assert "…dan 142 keluarga lagi." in digest
    labels = [label for _key, label in buttons(h, MENTOR)]
    assert labels[:2] == ["Keluarga 009", "Keluarga 019"] and labels[-1] == "Lihat semua"


async def test_the_digest_counts_from_the_last_contact_not_the_check_in(
    harness: Harness,
) -> None:
    """A family that last wrote on 20 October, checked in on 13 November: no news since 20 October."""
    h = harness
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        hh = await lf.enrolled(
            s,
            h.rt.vault,
            n=7,
            name="Dewi Lestari",
            mentor_id=m.id,
            user_id=None,
        )
        lf.chat(s, user_id=707, household_id=hh.id, at=datetime(2026, 10, 20, 3, 0, tzinfo=UTC))
        s.add(
            LadderState(
                household_id=hh.id,
                cycle_start=date(2026, 11, 13),
                rung="mentor",
                reason="silent",
                updated_at=T0,
            )
        )
    h.now = T0  # Monday: the weekly list (the digest's words, for the whole week)
    await run_tick(h.rt, h.now)
    (weekly,) = [p["text"] for p in h.telegram.sent(MENTOR)]
    assert "• Dewi Lestari (Rawa Makmur): belum ada kabar sejak 20 Oktober 2026 (34 hari)" in weekly


async def test_each_household_is_asked_in_its_own_language(harness: Harness) -> None:
    h = harness
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        await lf.enrolled(
            s, h.rt.vault, n=1, name="mary ann", mentor_id=m.id, user_id=ENGLISH, locale="en"
        )
        await lf.enrolled(
            s, h.rt.vault, n=2, name="Siti Aminah", mentor_id=m.id, user_id=INDONESIAN
        )
    h.now = T0
    await run_tick(h.rt, T0)
    english = h.telegram.sent(ENGLISH)[-1]["text"]
    assert english.startswith(
        "Hello Mrs Mary, this is Sinergi. How was your business in November 2026?"
    )
    assert buttons(h, ENGLISH) == [("act:report", "Report now"), ("act:menu", "Main menu")]
    indonesian = h.telegram.sent(INDONESIAN)[-1]["text"]
    assert indonesian.startswith(
        "Halo Bu Siti, ini Sinergi. Bagaimana usaha Anda bulan November 2026?"
    )
    assert buttons(h, INDONESIAN)[0] == ("act:report", "Lapor sekarang")
    # The choices were offered in each language: typing the label starts the report.
    h.now = T0 + timedelta(minutes=5)
    assert "Business report" in (await write(h, ENGLISH, "report now"))[0]
    assert "Laporan usaha" in (await write(h, INDONESIAN, "lapor sekarang"))[0]


async def test_a_message_whose_words_cannot_be_made_is_dead_and_blocks_nothing(
    harness: Harness,
) -> None:
    h = harness
    async with await h.session() as s:
        await lf.enrolled(
            s, h.rt.vault, n=1, name="Siti Aminah", mentor_id=None, user_id=INDONESIAN
        )
    async with await h.session() as s:
        chat = await s.scalar(select(ChatIdentity))
        assert chat is not None
        gone = outbox.enqueue(
            s, chat, {"render": "scheduler.ladder:gone", "locale": "id", "args": {}}, now=T0
        )
        # A row may only name our own message modules: this one is never imported.
        foreign = outbox.enqueue(
            s, chat, {"render": "os:system", "locale": "id", "args": {}}, now=T0
        )
        checkin = outbox.enqueue(
            s,
            chat,
            {"render": "scheduler.ladder:checkin", "locale": "id", "args": {"name": "siti"}},
            now=T0,
        )
        await s.flush()
        ids = gone.id, foreign.id, checkin.id
    await h.rt.sender.deliver(T0)
    async with await h.session() as s:
        rows = {r.id: r for r in await s.scalars(select(OutboxMessage))}
    assert rows[ids[0]].state == "dead" and "scheduler.ladder:gone" in (rows[ids[0]].error or "")
    assert rows[ids[1]].state == "dead"
    assert rows[ids[2]].state == "sent"
    assert h.telegram.sent(INDONESIAN)[-1]["text"].startswith("Halo Siti, ini Sinergi.")
    # Staff reading the conversation see the words, or a mark where there are none.
    assert outbound_line(rows[ids[2]]).text.startswith("Halo Siti")
    assert outbound_line(rows[ids[0]]).text == "(pesan yang tidak bisa ditampilkan)"


async def test_a_checkin_that_must_be_retried_waits_for_the_morning(harness: Harness) -> None:
    h = harness
    async with await h.session() as s:
        await lf.enrolled(
            s, h.rt.vault, n=1, name="Siti Aminah", mentor_id=None, user_id=INDONESIAN
        )
    evening = T0.replace(hour=9, minute=58)  # 17:58 WITA: the check-in is written in hours
    h.now = evening
    h.telegram.fail_next(429, "Too Many Requests: retry after 300", retry_after=300)
    await run_tick(h.rt, evening)
    assert len(h.telegram.sent(INDONESIAN)) == 1  # tried once, refused
    # The retry falls due at 18:03, after hours: it waits, without counting an attempt.
    for at in (evening + timedelta(minutes=7), T0.replace(hour=13)):  # 18:05 and 21:00 WITA
        h.now = at
        await run_tick(h.rt, at)
        assert len(h.telegram.sent(INDONESIAN)) == 1
    async with await h.session() as s:
        row = await s.scalar(select(OutboxMessage))
    assert row is not None and row.state == "pending" and row.attempts == 1
    assert row.next_attempt_at == T0.replace(day=T0.day + 1, hour=0)  # 08:00 WITA tomorrow
    morning = T0.replace(day=T0.day + 1, hour=0, minute=1)
    h.now = morning
    await run_tick(h.rt, morning)
    tries = h.telegram.sent(INDONESIAN)
    assert len(tries) == 2 and tries[1]["text"].startswith("Halo Bu Siti")
    async with await h.session() as s:
        row = await s.scalar(select(OutboxMessage))
    assert row is not None and row.state == "sent"


def test_rows_written_before_the_renderers_moved_render_as_the_new_names() -> None:
    """Stored rows name renderers: each former `scheduler.ladder:<kind>` still makes the same words."""
    install_renderers(jobs.RENDERERS)  # as the runtime does at start-up
    args = {
        "name": "siti aminah",
        "page": [[7, "Siti Aminah", "Rawa Makmur", "silent", "2026-11-01"]],
        "total": 1,
        "day": "2026-11-23",
    }
    assert set(ladder_messages.FORMER_NAMES.values()) == set(ladder_messages.RENDERERS)
    for old, new in ladder_messages.FORMER_NAMES.items():
        before = Reply.from_payload({"render": old, "locale": "id", "args": args})
        after = Reply.from_payload({"render": new, "locale": "id", "args": args})
        assert before == after and before.text, old
        assert jobs.RENDERERS[old] is jobs.RENDERERS[new]


async def test_early_in_the_month_the_checkin_asks_about_the_month_that_ended(
    harness: Harness,
) -> None:
    """On 4 January the report is about December, and the check-in says so."""
    h = harness
    async with await h.session() as s:
        await lf.enrolled(
            s, h.rt.vault, n=2, name="Siti Aminah", mentor_id=None, user_id=INDONESIAN
        )
    early = T0.replace(year=2027, month=1, day=4)  # a Monday, 09:30 WITA
    h.now = early
    await run_tick(h.rt, early)
    text = h.telegram.sent(INDONESIAN)[-1]["text"]
    assert "Bagaimana usaha Anda bulan Desember 2026?" in text
