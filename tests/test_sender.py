"""The outbox sender under faults: rate limits, outages, a crash mid-send, blocks, the 24-hour window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.base import SendResult
from bot.config import Settings
from bot.messages import Attachment, Choice, Reply
from bot.metrics import Metrics
from bot.sender import Job, OutboxSender, Pacer, merge_burst
from storage import outbox
from storage.db import make_engine, make_sessions
from storage.media import MediaStore
from storage.models import ChatIdentity, OutboxMessage
from tests.conftest import T0
from tests.drivers import TelegramDriver, WhatsAppDriver
from tests.harness import Harness

WA = "6281300000001"
WITA = timezone(timedelta(hours=8))


async def _whatsapp_person(h: Harness) -> WhatsAppDriver:
    person = WhatsAppDriver(h, phone="+" + WA)
    await person.text("halo")
    return person


async def _enqueue(
    h: Harness, reply: Reply, channel: str = "whatsapp", dedupe_key: str | None = None
) -> int:
    """A message for the first identity on `channel`, as a journey or the scheduler writes it."""
    async with await h.session() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.channel == channel))
        assert identity is not None
        row = outbox.enqueue(s, identity, reply.to_payload(), now=h.now, dedupe_key=dedupe_key)
        await s.flush()
        return row.id


async def _row(h: Harness, row_id: int) -> OutboxMessage:
    async with await h.session() as s:
        row = await s.get(OutboxMessage, row_id)
        assert row is not None
        return row


def _texts(h: Harness) -> list[str]:
    return [
        b.get("text", {}).get("body")
        or b.get("interactive", {}).get("body", {}).get("text")
        or b["template"]["name"]
        for b in h.whatsapp.sent(WA)
    ]


# Rate limits and outages -----------------------------------------------------------------------


async def test_rate_limits_and_server_errors_lose_nothing_and_send_once(harness: Harness) -> None:
    await _whatsapp_person(harness)
    harness.whatsapp.fail_next(130429)
    harness.whatsapp.fail_next(131056)
    harness.whatsapp.fail_http(500, times=2)
    harness.whatsapp.fail_next(131000)
    row_id = await _enqueue(harness, Reply("Laporan Anda sudah kami terima."))
    for _ in range(12):  # each round: what is due is tried once; the clock moves past the backoff
        await harness.work()
        harness.advance(minutes=2)
    row = await _row(harness, row_id)
    assert row.state == "sent" and row.attempts == 6
    assert _texts(harness).count("Laporan Anda sudah kami terima.") == 1
    assert harness.whatsapp.tries() == 1 + 6  # the reply to "halo", then six tries of this one


async def test_telegram_retry_after_is_honoured(harness: Harness) -> None:
    person = TelegramDriver(harness)
    await person.text("/start")
    harness.telegram.fail_next(429, "Too Many Requests: retry after 30", retry_after=30)
    row_id = await _enqueue(harness, Reply("Halo"), channel="telegram")
    await harness.work()
    assert (await _row(harness, row_id)).state == "retry"
    harness.advance(seconds=29)
    await harness.work()
    assert (await _row(harness, row_id)).state == "retry"
    harness.advance(seconds=3)  # the 30 s count from the refused call, a second after /start
    await harness.work()
    assert (await _row(harness, row_id)).state == "sent"
    # two calls: the one refused with 429, then the one accepted; no third
    assert [p["text"] for p in harness.telegram.sent()].count("Halo") == 2


async def test_a_five_minute_outage_loses_no_reply(harness: Harness) -> None:
    await _whatsapp_person(harness)
    harness.whatsapp.fail_http(502, times=10_000)
    row_id = await _enqueue(harness, Reply("Bantuan Anda cair hari Senin."))
    for _ in range(30):  # five minutes of 502s, looked at every ten seconds
        await harness.work()
        harness.advance(seconds=10)
    assert (await _row(harness, row_id)).state == "retry"  # not given up after a count
    harness.whatsapp.failures.clear()  # Meta is back
    for _ in range(7):
        await harness.work()
        harness.advance(seconds=10)
    row = await _row(harness, row_id)
    assert row.state == "sent"  # within the backoff's cap (60 s) of the recovery
    assert _texts(harness).count("Bantuan Anda cair hari Senin.") == 1


async def _telegram_down(h: Harness) -> None:
    """A Telegram chat, then a Bot API answering 503 for days (fake time)."""
    await TelegramDriver(h).text("/start")
    h.telegram.clock = lambda: h.now
    h.telegram.outage(until=h.now + timedelta(days=5), status=503)


async def test_a_reply_still_failing_at_its_deadline_is_dead_and_counted(harness: Harness) -> None:
    await _telegram_down(harness)
    row_id = await _enqueue(harness, Reply("Tidak akan sampai"), channel="telegram")
    written = harness.now
    while harness.now < written + timedelta(hours=23, minutes=55):
        await harness.work()
        harness.advance(minutes=5)
    assert (await _row(harness, row_id)).state == "retry"
    for _ in range(4):
        await harness.work()
        harness.advance(minutes=5)
    row = await _row(harness, row_id)
    assert row.state == "dead"
    assert harness.rt.metrics.dead.labels("telegram", "deadline")._value.get() == 1


async def test_a_scheduled_prompt_is_retried_into_the_next_days_hours_then_dead(
    harness: Harness,
) -> None:
    await _telegram_down(harness)
    reply = Reply("Bagaimana usaha Anda?")
    payload = {**reply.to_payload(), "hours": outbox.within_hours("6472", ("08:00", "18:00"))}
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.channel == "telegram"))
        assert identity is not None
        row = outbox.enqueue(s, identity, payload, now=harness.now)
        await s.flush()
        row_id = row.id
    written = harness.now  # T0: a working morning in WITA
    next_close = (written + timedelta(days=1)).astimezone(WITA).replace(hour=18, minute=0)
    while harness.now < next_close - timedelta(minutes=30):
        await harness.work()
        harness.advance(minutes=15)
    assert (await _row(harness, row_id)).state == "retry"  # the night passed, still tried
    while harness.now < next_close + timedelta(minutes=30):
        await harness.work()
        harness.advance(minutes=15)
    assert (await _row(harness, row_id)).state == "dead"


# A sender that dies ----------------------------------------------------------------------------


async def test_a_message_claimed_by_a_sender_that_died_goes_out_once_after_the_lease(
    harness: Harness,
) -> None:
    await _whatsapp_person(harness)
    row_id = await _enqueue(harness, Reply("Jadwal kunjungan pendamping: Senin."))
    async with await harness.session() as s:  # another sender claims it, then its process dies
        claimed = await outbox.claim_due(s, now=harness.now, lease=timedelta(seconds=60), limit=10)
        assert [r.id for r in claimed] == [row_id]
    await harness.work()
    assert "Jadwal kunjungan pendamping: Senin." not in _texts(harness)  # the lease still holds
    harness.advance(seconds=61)
    await harness.work()
    harness.advance(minutes=10)
    await harness.work()
    assert _texts(harness).count("Jadwal kunjungan pendamping: Senin.") == 1
    assert (await _row(harness, row_id)).state == "sent"


@pytest.mark.parametrize("max_unrecorded", [1, 3])
async def test_no_send_starts_while_max_unrecorded_accepted_messages_wait_to_be_recorded(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, max_unrecorded: int
) -> None:
    """A crash then doubles only the sends in flight and at most `max_unrecorded - 1` more, not
    all those made while the database was busy; below that bound sends go on meanwhile."""
    people = [TelegramDriver(harness, user_id=600 + i) for i in range(6)]
    for person in people:
        await person.text("/start")
    async with await harness.session() as s:
        for identity in await s.scalars(
            select(ChatIdentity).where(ChatIdentity.channel == "telegram")
        ):
            outbox.enqueue(
                s, identity, Reply(f"Kabar {identity.external_id}").to_payload(), now=harness.now
            )
    sender, client = harness.rt.sender, harness.rt.clients["telegram"]
    # 200 ms apart: each send is answered before the next starts; one late for its slot (a busy
    # machine running the tests) still goes.
    monkeypatch.setattr(sender, "pacer", Pacer(rates={"telegram": 5.0}, slack=1.0))
    monkeypatch.setattr(sender, "max_unrecorded", max_unrecorded)
    commit_outcomes = sender._commit_outcomes

    async def busy_commit() -> None:  # a busy database: a second to record the outcomes
        await asyncio.sleep(1.0)
        await commit_outcomes()

    accepted: list[str] = []
    unrecorded_at_send: list[int] = []
    send = client.send

    async def watched(recipient: str, reply: Reply) -> SendResult:
        before = set(accepted)  # what the platform had accepted when this send started
        async with harness.rt.sessions() as s:  # a plain read: it never waits for the writer
            rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.state != "sent"))
            unrecorded_at_send.append(sum(row.payload.get("text") in before for row in rows))
        result = await send(recipient, reply)
        accepted.append(reply.text)
        return result

    monkeypatch.setattr(sender, "_commit_outcomes", busy_commit)
    monkeypatch.setattr(client, "send", watched)
    await sender.deliver(harness.now)
    assert sorted(accepted) == sorted(f"Kabar {p.user_id}" for p in people)
    assert max(unrecorded_at_send) == max_unrecorded - 1


async def test_a_message_the_platform_accepted_is_never_sent_again(harness: Harness) -> None:
    await _whatsapp_person(harness)
    await _enqueue(harness, Reply("Sekali saja"))
    for _ in range(3):
        await harness.work()
        harness.advance(minutes=5)
    assert _texts(harness).count("Sekali saja") == 1


# Blocked and undeliverable --------------------------------------------------------------------


async def test_telegram_blocked_by_the_user_marks_the_identity_unreachable(
    harness: Harness,
) -> None:
    person = TelegramDriver(harness)
    await person.text("/start")
    harness.telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    row_id = await _enqueue(harness, Reply("Bagaimana usaha Anda?"), channel="telegram")
    await harness.work()
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
    # Sent (and refused) once the chat's second after the reply to /start had passed.
    assert identity is not None and identity.unreachable_at is not None
    late = (identity.unreachable_at - harness.now).total_seconds()
    assert late == pytest.approx(1.05, abs=1e-5)
    assert "blocked" in (identity.unreachable_reason or "")
    assert (await _row(harness, row_id)).state == "failed"


async def test_whatsapp_undeliverable_marks_the_identity_unreachable(harness: Harness) -> None:
    await _whatsapp_person(harness)
    harness.whatsapp.fail_next(131026)
    row_id = await _enqueue(harness, Reply("Bagaimana usaha Anda?"))
    await harness.work()
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
    assert identity is not None and identity.unreachable_at is not None
    assert (await _row(harness, row_id)).state == "failed"


# The 24-hour window ----------------------------------------------------------------------------


async def test_outside_the_window_a_template_goes_and_the_message_follows_the_answer(
    harness: Harness,
) -> None:
    person = await _whatsapp_person(harness)
    harness.advance(hours=25)
    first = await _enqueue(harness, Reply("Permintaan Anda REQ-001 sudah disetujui."))
    second = await _enqueue(harness, Reply("Dana cair minggu depan."))
    await harness.work()
    assert _texts(harness)[-1] == "sinergi_pesan_baru"  # one template for both
    assert _texts(harness).count("sinergi_pesan_baru") == 1
    assert {(await _row(harness, first)).state, (await _row(harness, second)).state} == {"held"}
    harness.advance(hours=1)
    await harness.work()
    assert _texts(harness).count("sinergi_pesan_baru") == 1  # not retried while the person is quiet
    said = await person.text("ya")
    # the waiting messages come first, merged with the answer into one message
    assert said[-1].text.startswith(
        "Permintaan Anda REQ-001 sudah disetujui.\n\nDana cair minggu depan."
    )
    assert "Terima kasih" in said[-1].text
    assert (await _row(harness, first)).state == "sent"


async def test_outside_the_window_a_check_in_goes_as_its_own_template(harness: Harness) -> None:
    await _whatsapp_person(harness)
    harness.advance(days=3)
    checkin = Reply(
        "Halo Ibu Siti, bagaimana usaha Anda bulan ini?",
        (Choice("act:report", "Lapor"),),
        template="checkin",
        template_params=("Ibu Siti",),
    )
    row_id = await _enqueue(harness, checkin)
    await harness.work()
    body = harness.whatsapp.sent(WA)[-1]
    assert body["template"]["name"] == "sinergi_tanya_kabar"
    assert body["template"]["components"][0]["parameters"][0]["text"] == "Ibu Siti"
    assert (await _row(harness, row_id)).state == "sent"


async def test_a_template_with_an_empty_parameter_is_never_sent(harness: Harness) -> None:
    await _whatsapp_person(harness)
    harness.advance(days=3)
    row_id = await _enqueue(
        harness, Reply("Halo, bagaimana usaha Anda?", template="checkin", template_params=("",))
    )
    await harness.work()
    templates = [b["template"] for b in harness.whatsapp.sent(WA) if b["type"] == "template"]
    assert [t["name"] for t in templates] == ["sinergi_pesan_baru"]
    assert (await _row(harness, row_id)).state == "held"


async def test_platform_says_window_closed_then_the_message_waits_for_the_answer(
    harness: Harness,
) -> None:
    person = await _whatsapp_person(harness)
    harness.whatsapp.fail_next(131047)
    row_id = await _enqueue(harness, Reply("Ada kabar tentang bantuan Anda."))
    await harness.work()
    assert (await _row(harness, row_id)).state == "held"
    assert _texts(harness)[-1] == "sinergi_pesan_baru"
    harness.advance(minutes=1)  # the person answers: the window is open again
    said = await person.text("oke")
    assert said[-1].text.startswith("Ada kabar tentang bantuan Anda.\n\n")
    assert _texts(harness).count("Ada kabar tentang bantuan Anda.") == 0  # never sent on its own


async def test_a_paused_template_is_reported_and_not_retried(harness: Harness) -> None:
    await _whatsapp_person(harness)
    harness.advance(days=3)
    harness.whatsapp.fail_next(132015)
    row_id = await _enqueue(
        harness, Reply("Cek", template="reminder", template_params=("Ibu Siti",))
    )
    for _ in range(3):
        await harness.work()
        harness.advance(hours=1)
    assert (await _row(harness, row_id)).state == "dead"
    assert [b.get("type") for _m, _u, b in harness.whatsapp.calls].count("template") == 1
    assert harness.rt.metrics.templates_refused.labels("reminder")._value.get() == 1


async def test_berhenti_cancels_held_messages(harness: Harness) -> None:
    person = await _whatsapp_person(harness)
    await person.text("SETUJU")
    harness.advance(hours=25)
    row_id = await _enqueue(harness, Reply("Pesan lama"))
    await harness.work()
    await person.text("BERHENTI")
    harness.advance(minutes=1)
    await harness.work()
    assert (await _row(harness, row_id)).state == "cancelled"
    assert "Pesan lama" not in "".join(_texts(harness))


# Pacing -----------------------------------------------------------------------------------------


async def test_a_whatsapp_burst_reaches_the_person_as_one_message(harness: Harness) -> None:
    await _whatsapp_person(harness)
    before = len(harness.whatsapp.sent(WA))
    await _enqueue(harness, Reply("Terima kasih."))
    await _enqueue(harness, Reply("Laporan tersimpan."))
    await _enqueue(harness, Reply("Menu utama:", (Choice("a", "Status"), Choice("b", "Bantuan"))))
    await harness.work()
    sent = harness.whatsapp.sent(WA)[before:]
    assert len(sent) == 1
    assert (
        sent[0]["interactive"]["body"]["text"]
        == "Terima kasih.\n\nLaporan tersimpan.\n\nMenu utama:"
    )


async def test_a_voice_note_in_a_burst_goes_as_its_own_message_in_order(harness: Harness) -> None:
    """Texts before it merge; the audio is uploaded and sent alone; the buttons after it follow."""
    await _whatsapp_person(harness)
    before = len(harness.whatsapp.sent(WA))
    store = MediaStore(harness.rt.settings.media_path)
    reference = store.save(b"OggS voice", mime_type="audio/ogg")
    await _enqueue(harness, Reply("Satu."))
    await _enqueue(harness, Reply("Dua."))
    await _enqueue(harness, Reply("", media=Attachment("voice", reference, "audio/ogg")))
    await _enqueue(harness, Reply("Dari Siti.", (Choice("a", "Buka"), Choice("b", "Catat"))))
    await harness.work()
    sent = harness.whatsapp.sent(WA)[before:]
    assert [b["type"] for b in sent] == ["text", "audio", "interactive"]
    assert sent[0]["text"]["body"] == "Satu.\n\nDua."
    assert harness.whatsapp.uploads[sent[1]["audio"]["id"]] == ("audio/ogg", b"OggS voice")


async def test_an_attachment_whose_file_is_gone_is_never_sent(harness: Harness) -> None:
    """A voice note erased (or purged) after it was queued: dead, nothing uploaded or sent."""
    person = TelegramDriver(harness)
    await person.text("/start")
    store = MediaStore(harness.rt.settings.media_path)
    reference = store.save(b"OggS erased", mime_type="audio/ogg")
    row_id = await _enqueue(
        harness, Reply("", media=Attachment("voice", reference, "audio/ogg")), "telegram"
    )
    path = store.path_of(reference)
    assert path is not None
    path.unlink()
    await harness.work()
    assert harness.telegram.files() == []
    assert (await _row(harness, row_id)).state == "dead"


async def test_messages_to_one_person_are_spaced_and_to_the_channel_paced(harness: Harness) -> None:
    person = TelegramDriver(harness)
    await person.text("/start")
    for i in range(3):
        await _enqueue(harness, Reply(f"Pesan {i}"), channel="telegram")
    harness.telegram.clock = lambda: T0 + timedelta(seconds=harness.pace.t)  # when each arrived
    await harness.work()
    assert [p["text"] for p in harness.telegram.sent()][-3:] == ["Pesan 0", "Pesan 1", "Pesan 2"]
    # Telegram: one per second per chat (the first waits for the reply to /start, sent at 0 s)
    went = [at for at, _ in harness.telegram.delivered if at is not None]
    # (booked 50 ms longer: a send that runs a little late keeps the spacing)
    gaps = [(b - a).total_seconds() for a, b in zip(went, went[1:], strict=False)]
    assert gaps == [pytest.approx(1.05, abs=1e-5)] * 2
    assert (went[0] - T0).total_seconds() == pytest.approx(1000.0 + 1.05, abs=1e-5)


async def test_a_send_that_misses_its_slot_goes_back_and_goes_once_in_a_later_one(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy machine: the send is ready 200 ms after its booked slot, more than the pacer's
    slack. Sent then, it would crowd the sends booked after it (in this process or another)
    beyond the platform's limit; it goes back unsent, its attempt not counted, and goes once in
    a slot of its own."""
    person = TelegramDriver(harness)
    await person.text("/start")
    row_id = await _enqueue(harness, Reply("Terlambat"), channel="telegram")
    sender = harness.rt.sender
    harness.telegram.clock = lambda: T0 + timedelta(seconds=harness.pace.t)  # when each arrived
    turn, busy, late_at = sender.pacer.turn, [0.2], []

    async def busy_turn(channel: str) -> None:
        await turn(channel)
        if busy:  # the machine was busy between the slot and the call
            harness.pace.t += busy.pop()
            late_at.append(T0 + timedelta(seconds=harness.pace.t))

    monkeypatch.setattr(sender.pacer, "turn", busy_turn)
    harness.advance(minutes=1)  # the chat's second after /start long gone
    await harness.work()
    went = [at for at, p in harness.telegram.delivered if p["text"] == "Terlambat"]
    assert len(went) == 1 and late_at  # missed once, sent once
    assert sender.metrics.missed_slots.labels("telegram")._value.get() == 1
    row = await _row(harness, row_id)
    assert (row.state, row.attempts) == ("sent", 1)  # the missed slot was not an attempt


async def _telegram_chats(h: Harness, n: int) -> list[ChatIdentity]:
    """`n` Telegram chats that wrote /start (each got its answer)."""
    for i in range(n):
        await TelegramDriver(h, user_id=800 + i).text("/start")
    async with await h.session() as s:
        found = await s.scalars(select(ChatIdentity).where(ChatIdentity.channel == "telegram"))
        return sorted(found, key=lambda identity: identity.external_id)


async def _paced_claim(h: Harness, now: datetime, **kwargs: Any) -> outbox.Booking:
    """One claim on Telegram at 30/s and 1 s per chat, booked 1 s ahead."""
    async with await h.session() as s:
        return await outbox.claim_paced(
            s,
            now=now,
            channel="telegram",
            pace=outbox.Pace(30.0, 1.0),
            horizon=1.0,
            lease=timedelta(seconds=60),
            limit=50,
            **kwargs,
        )


async def test_one_persons_gap_does_not_hold_back_the_others(harness: Harness) -> None:
    a, b, c = await _telegram_chats(harness, 3)
    later = harness.now + timedelta(minutes=1)  # every chat's reply to /start long gone
    async with await harness.session() as s:
        for identity, texts in ((a, ["A1", "A2"]), (b, ["B1"]), (c, ["C1"])):
            for text in texts:
                outbox.enqueue(s, identity, Reply(text).to_payload(), now=harness.now)
    first = await _paced_claim(harness, later)
    assert [row.payload["text"] for row in first.rows] == ["A1", "B1", "C1"]  # A2 waits for A
    step = timedelta(seconds=1 / 30)
    assert [first.slots[i.id] for i in (a, b, c)] == [later, later + step, later + 2 * step]
    again = await _paced_claim(harness, later)
    assert again.rows == [] and again.free_at == later + timedelta(seconds=1)  # A's next second
    assert again.next_slot == later + 3 * step  # the channel's pace is where the claim left it
    third = await _paced_claim(harness, later + timedelta(seconds=1))
    assert [row.payload["text"] for row in third.rows] == ["A2"]


async def test_a_pace_booked_on_another_clock_does_not_stop_the_channel(harness: Harness) -> None:
    """A pointer or a chat's next time far beyond any claim's reach (a clock that was wrong)."""
    (a,) = await _telegram_chats(harness, 1)
    async with await harness.session() as s:
        outbox.enqueue(s, a, Reply("Tetap terkirim").to_payload(), now=harness.now)
    await _paced_claim(harness, harness.now + timedelta(days=2))  # books a slot two days on
    async with await harness.session() as s:
        outbox.enqueue(s, a, Reply("Juga terkirim").to_payload(), now=harness.now)
    later = harness.now + timedelta(minutes=1)
    booking = await _paced_claim(harness, later)
    assert [row.payload["text"] for row in booking.rows] == ["Juga terkirim"]
    assert booking.slots[a.id] == later


async def test_two_sender_processes_together_keep_to_the_platforms_limits(harness: Harness) -> None:
    """`serve` and a scheduler tick send at once (each its own engine and pacer, as two
    processes): Telegram sees no second with more than the channel's rate and no chat with two
    messages within its second, by the times the fake received them (real time, a few seconds)."""
    rate, gap, jitter = 10, 1.0, 0.05
    chats = await _telegram_chats(harness, 12)
    async with await harness.session() as s:
        for identity in chats:
            for k in range(2):
                outbox.enqueue(s, identity, Reply(f"Kabar {k}").to_payload(), now=harness.now)
    harness.telegram.clock = lambda: datetime.now(UTC)  # the fake notes when each call came
    engines = [make_engine(harness.rt.settings.database_url) for _ in range(2)]
    senders = [
        OutboxSender(
            make_sessions(engine),
            harness.rt.clients,
            Metrics(),
            pacer=Pacer(rates={"telegram": float(rate)}, gaps={"telegram": gap}),
        )
        for engine in engines
    ]

    def received() -> list[tuple[datetime, str]]:
        return [(at, str(p["chat_id"])) for at, p in harness.telegram.delivered if at is not None]

    async def drain(sender: OutboxSender) -> None:
        give_up = datetime.now(UTC) + timedelta(seconds=30)
        while len(received()) < 24 and datetime.now(UTC) < give_up:
            if not await sender.deliver(datetime.now(UTC)):
                await asyncio.sleep(0.05)

    try:
        await asyncio.gather(*(drain(sender) for sender in senders))
    finally:
        for engine in engines:
            await engine.dispose()
    got = received()
    assert len(got) == 24
    times = sorted(at for at, _ in got)
    crowded = [
        t for t, u in zip(times, times[rate:], strict=False) if (u - t).total_seconds() < 1 - jitter
    ]
    assert crowded == []  # never more than `rate` sends within a second
    by_chat: dict[str, list[datetime]] = {}
    for at, chat in got:
        by_chat.setdefault(chat, []).append(at)
    close = [
        c
        for c, (a, b) in ((c, sorted(t)) for c, t in by_chat.items())
        if (b - a).total_seconds() < gap - jitter
    ]
    assert close == []  # each chat's two messages a second apart


async def test_a_reply_goes_before_a_wave_of_check_ins_queued_earlier(harness: Harness) -> None:
    person = TelegramDriver(harness)
    await person.text("/start")
    for i in range(3):
        await _enqueue(harness, Reply(f"Check-in {i}"), "telegram", f"ladder:checkin:{i}:1")
    harness.advance(seconds=5)
    await _enqueue(harness, Reply("Balasan"), channel="telegram")
    await harness.work()
    sent = [p["text"] for p in harness.telegram.sent()][-4:]
    assert sent == ["Balasan", "Check-in 0", "Check-in 1", "Check-in 2"]


async def test_while_a_wave_fills_the_pace_only_replies_are_claimed(harness: Harness) -> None:
    person = TelegramDriver(harness)
    await person.text("/start")
    await _enqueue(harness, Reply("Check-in"), "telegram", "ladder:checkin:1:1")
    reply = await _enqueue(harness, Reply("Balasan"), channel="telegram")
    async with await harness.session() as s:
        claimed = await outbox.claim_due(
            s, now=harness.now, lease=timedelta(seconds=60), limit=10, waves=False
        )
    assert [row.id for row in claimed] == [reply]


def test_merging_keeps_buttons_last_and_templates_apart() -> None:
    def job(i: int, reply: Reply) -> Job:
        return Job(i, "whatsapp", WA, reply, 1)

    jobs = [
        job(1, Reply("a")),
        job(2, Reply("b", (Choice("x", "X"),))),
        job(3, Reply("c")),
        job(4, Reply("d", template="checkin", template_params=("Siti",))),
        job(5, Reply("e")),
    ]
    assert [[j.row_id for j in chunk] for chunk in merge_burst(jobs)] == [[1, 2], [3], [4], [5]]


# A platform's retry_after ------------------------------------------------------------------------


async def test_a_retry_after_pauses_the_whole_channel_in_every_process(harness: Harness) -> None:
    people = [TelegramDriver(harness, user_id=500 + i) for i in range(5)]
    for person in people:
        await person.text("/start")
    for person in people:
        async with await harness.session() as s:
            identity = await s.scalar(
                select(ChatIdentity).where(ChatIdentity.external_id == str(person.user_id))
            )
            assert identity is not None
            outbox.enqueue(s, identity, Reply("Ada kabar baru.").to_payload(), now=harness.now)
    harness.telegram.clock = lambda: harness.now
    harness.telegram.flood(until=harness.now + timedelta(seconds=1), retry_after=30)
    await harness.work()
    elsewhere = OutboxSender(harness.rt.sessions, harness.rt.clients, Metrics(), pacer=Pacer())
    harness.advance(seconds=20)
    await elsewhere.deliver(harness.now)  # a second process on the same database holds back too
    await harness.work()
    assert harness.telegram.inside_retry_after == 0
    assert [p["text"] for _t, p in harness.telegram.delivered].count("Ada kabar baru.") == 0
    harness.advance(seconds=12)  # past the 30 s from the refused calls, sent 1 s after /start
    await harness.work()
    got = [
        int(p["chat_id"]) for _t, p in harness.telegram.delivered if p["text"] == "Ada kabar baru."
    ]
    assert sorted(got) == [p.user_id for p in people]


# Delivery hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(("closing", "sent_at_once"), [(time(18, 0), False), (time(21, 0), True)])
async def test_a_notice_naming_only_its_region_keeps_to_the_deployments_delivery_hours(
    settings: Settings, closing: time, sent_at_once: bool
) -> None:
    """An office's notice written from an admin page carries no hours of its own: at 19.30 WITA
    it waits for the morning where the site closes at 18.00, and goes at once where it is 21.00."""
    h = await Harness.start(settings.model_copy(update={"delivery_end": closing}))
    try:
        h.now = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)  # Tuesday 19.30 in Samarinda (WITA)
        person = TelegramDriver(h, user_id=700)
        await person.text("/start")
        await h.work()
        seen = len(h.telegram_said(700))
        payload = {
            **Reply("Rujukan baru dari Dinsos.").to_payload(),
            "hours": outbox.within_hours("6472"),
        }
        async with await h.session() as s:
            identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == "700"))
            assert identity is not None
            outbox.enqueue(s, identity, payload, now=h.now)
        await h.work()
        assert bool(h.telegram_said(700, since=seen)) is sent_at_once
        h.now = datetime(2026, 11, 25, 0, 5, tzinfo=UTC)  # Wednesday 08.05 WITA: open everywhere
        await h.work()
        assert [s.text for s in h.telegram_said(700, since=seen)] == ["Rujukan baru dari Dinsos."]
    finally:
        await h.stop()
