"""Retention: transcripts, photos and voice notes purged 24 months after the last contact."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from scheduler.jobs import Schedule, named, run_due
from storage.erasure import months_before
from storage.media import MediaStore
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Conversation,
    InboxUpdate,
    OutboxMessage,
    ProgressReport,
)
from tests import factories
from tests.conftest import T0
from tests.harness import Harness

LONG_AGO = months_before(T0, 25)


async def _family(
    h: Harness, *, chat: str, kk: str, nik: str, last_contact: datetime, words: str
) -> dict[str, object]:
    """A household whose chat last wrote at `last_contact`, with a transcript and media from long ago."""
    store = MediaStore(h.rt.settings.media_path)
    photo = store.save(f"foto {words}".encode(), mime_type="image/jpeg")
    voice = store.save(f"suara {words}".encode(), mime_type="audio/ogg")
    async with await h.session() as s:
        hh = await factories.household(s, h.rt.vault, no_kk=kk, nik=nik, phone=None)
        identity = ChatIdentity(
            channel="telegram",
            external_id=chat,
            household_id=hh.id,
            locale="id",
            consent_at=LONG_AGO,
            opted_out=False,
            created_at=LONG_AGO,
            last_inbound_at=last_contact,
        )
        s.add(identity)
        await s.flush()
        s.add(
            InboxUpdate(
                channel="telegram",
                external_id=f"u{chat}",
                chat_key=f"telegram:{chat}",
                raw=f"pesan {words}",
                received_at=LONG_AGO,
                state="done",
                processed_at=LONG_AGO,
            )
        )
        s.add(
            OutboxMessage(
                identity_id=identity.id,
                channel="telegram",
                recipient=chat,
                payload={"text": f"balasan {words}"},
                state="sent",
                attempts=1,
                next_attempt_at=LONG_AGO,
                created_at=LONG_AGO,
                sent_at=LONG_AGO,
            )
        )
        s.add(
            Conversation(
                identity_id=identity.id,
                journey="report",
                step="omzet",
                data={"note": f"catatan {words}"},
                updated_at=LONG_AGO,
            )
        )
        s.add(
            ProgressReport(
                household_id=hh.id,
                period="2024-10",
                omzet=900_000,
                photo_path=photo,
                status="complete",
                flags=[],
                started_at=LONG_AGO,
                submitted_at=LONG_AGO,
            )
        )
        s.add(
            AuditEvent(
                at=LONG_AGO,
                actor=f"chat:{identity.id}",
                action="voice_note",
                household_id=hh.id,
                region_code=hh.region_code,
                detail={"media": voice},
            )
        )
        return {"household": hh.id, "identity": identity.id, "photo": photo, "voice": voice}


async def _texts(h: Harness, family: dict[str, object]) -> list[object]:
    """The family's transcript texts and media references as they are now."""
    async with await h.session() as s:
        identity = await s.get(ChatIdentity, family["identity"])
        assert identity is not None
        inbox = await s.scalar(
            select(InboxUpdate.raw).where(
                InboxUpdate.chat_key == f"telegram:{identity.external_id}"
            )
        )
        outbox = await s.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.identity_id == identity.id)
        )
        state = await s.get(Conversation, identity.id)
        photo = await s.scalar(
            select(ProgressReport.photo_path).where(
                ProgressReport.household_id == family["household"]
            )
        )
        voice = await s.scalar(
            select(AuditEvent.detail).where(
                AuditEvent.action == "voice_note", AuditEvent.household_id == family["household"]
            )
        )
        return [inbox, outbox, state.data if state else None, photo, (voice or {}).get("media")]


async def test_old_contacts_are_purged_and_recent_ones_kept(harness: Harness) -> None:
    h = harness
    quiet = await _family(
        h,
        chat="111",
        kk="6472010101000011",
        nik="6472016503810011",
        last_contact=LONG_AGO,
        words="lama",
    )
    recent = await _family(
        h,
        chat="222",
        kk="6472010101000022",
        nik="6472016503810022",
        last_contact=T0 - timedelta(days=30),
        words="baru",
    )
    schedule = Schedule.from_settings(h.rt.settings)
    assert schedule.retention_months == 24
    counts = await run_due(h.rt.sessions, T0, schedule, jobs=named("retention"))
    assert counts == {"retention": 5}
    assert await _texts(h, quiet) == ["", {"erased": True}, {}, None, None]
    assert await _texts(h, recent) == [
        "pesan baru",
        {"text": "balasan baru"},
        {"note": "catatan baru"},
        recent["photo"],
        recent["voice"],
    ]
    store = MediaStore(h.rt.settings.media_path)
    assert store.path_of(str(quiet["photo"])) is None and store.path_of(str(quiet["voice"])) is None
    assert store.path_of(str(recent["photo"])) is not None
    assert store.path_of(str(recent["voice"])) is not None
    # Once a day: an hour later nothing runs; the next day it runs, finds nothing new, says so.
    assert (
        await run_due(h.rt.sessions, T0 + timedelta(hours=1), schedule, jobs=named("retention"))
        == {}
    )
    later = await run_due(h.rt.sessions, T0 + timedelta(days=1), schedule, jobs=named("retention"))
    assert later == {"retention": 0}
    async with await h.session() as s:
        lines = list(
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "retention.purge")
                .order_by(AuditEvent.at)
            )
        )
    assert [(e.actor, e.detail["photos"], e.detail["inbox"]) for e in lines] == [
        ("scheduler", 1, 1),
        ("scheduler", 0, 0),
    ]
    assert lines[0].detail["cutoff"] == months_before(T0, 24).isoformat()


async def test_a_shorter_retention_setting_reaches_the_recent_family(harness: Harness) -> None:
    h = harness
    recent = await _family(
        h,
        chat="333",
        kk="6472010101000033",
        nik="6472016503810033",
        last_contact=T0 - timedelta(days=62),
        words="dua bulan",
    )
    settings = h.rt.settings.model_copy(update={"retention_months": 1})
    await run_due(h.rt.sessions, T0, Schedule.from_settings(settings), jobs=named("retention"))
    assert await _texts(h, recent) == ["", {"erased": True}, {}, None, None]


def test_months_before_keeps_the_day_or_the_months_last() -> None:
    assert months_before(T0, 24) == T0.replace(year=2024)
    assert months_before(T0.replace(month=3, day=31), 1) == T0.replace(month=2, day=28)
    assert months_before(T0.replace(month=1), 1) == T0.replace(year=2025, month=12)
