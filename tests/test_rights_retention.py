"""Retention: transcripts, photos and voice notes purged 24 months after the last contact; closed
proposals, ended staff sessions, old failed sign-ins and roster previews on their own schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.commands.tick import parse_at, run_jobs
from scheduler.jobs import Schedule, named, run_due
from storage.erasure import months_before
from storage.media import MediaStore
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Conversation,
    InboxUpdate,
    LoginFailure,
    OutboxMessage,
    ProgressReport,
    Proposal,
    StaffSession,
)
from storage.roster import uploads
from storage.staff import add_staff
from storage.staff_sessions import open_session
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


async def _purge_lines(h: Harness, action: str = "retention.purge") -> list[AuditEvent]:
    """The audit lines the retention jobs left, oldest first."""
    async with await h.session() as s:
        return list(
            await s.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


async def _proposal(h: Harness, n: int, *, state: str, closed_at: datetime) -> int:
    """A proposal made and last moved at `closed_at`; its id."""
    async with await h.session() as s:
        chat = ChatIdentity(channel="telegram", external_id=f"usul{n}", created_at=LONG_AGO)
        s.add(chat)
        await s.flush()
        row = Proposal(
            reference=f"US-2410-000{n}",
            identity_id=chat.id,
            name=f"Keluarga Usulan {n}",
            phone=f"+62813999900{n:02d}",
            region_code="6472011001",
            about="Suami buruh harian, anak tiga",
            state=state,
            note="Sudah dikunjungi" if state != "diajukan" else None,
            created_at=LONG_AGO,
            updated_at=closed_at,
        )
        s.add(row)
        await s.flush()
        return row.id


async def test_closed_proposals_lose_their_personal_fields_after_retention(
    harness: Harness,
) -> None:
    h = harness
    old_declined = await _proposal(h, 1, state="ditolak", closed_at=LONG_AGO)
    old_registered = await _proposal(h, 2, state="didaftarkan", closed_at=LONG_AGO)
    recent = await _proposal(h, 3, state="ditolak", closed_at=T0 - timedelta(days=40))
    still_open = await _proposal(h, 4, state="diajukan", closed_at=LONG_AGO)
    # What `sinergi tick --at 2026-11-23T02:00:00Z` runs.
    counts = await run_jobs(h.rt, parse_at(T0.isoformat()))
    assert counts["retention"] == 2 and counts["previews"] == 0
    async with await h.session() as s:
        rows = {
            r.id: (r.name, r.phone, r.about, r.note, r.state, r.region_code)
            for r in await s.scalars(select(Proposal))
        }
    for gone in (old_declined, old_registered):
        assert rows[gone][:4] == ("", None, None, None)
        assert rows[gone][5] == "6472011001"  # the counts per desa and state stay
    assert rows[recent][0] == "Keluarga Usulan 3" and rows[recent][1] == "+6281399990003"
    assert rows[still_open][0] == "Keluarga Usulan 4"  # the office has not answered yet
    assert [e.detail["proposals"] for e in await _purge_lines(h)] == [2]


async def test_ended_staff_sessions_and_old_failed_sign_ins_are_deleted(harness: Harness) -> None:
    h = harness
    async with await h.session() as s:
        user = await add_staff(
            s,
            username="samarinda",
            password="kata-sandi-yang-panjang",
            role="officer",
            region_code="6472",
            now=LONG_AGO,
        )
        await open_session(s, user, now=T0 - timedelta(days=2), hours=8, address="10.0.0.1")
        _token, live = await open_session(s, user, now=T0, hours=8, address="10.0.0.2")
        s.add_all(
            [
                LoginFailure(username="samarinda", address="10.0.0.9", at=T0 - timedelta(days=31)),
                LoginFailure(username="samarinda", address="10.0.0.9", at=T0 - timedelta(days=2)),
            ]
        )
        live_id = live.id
    await run_due(h.rt.sessions, T0, Schedule.from_settings(h.rt.settings), jobs=named("retention"))
    async with await h.session() as s:
        sessions = [r.id for r in await s.scalars(select(StaffSession))]
        failures = [r.at for r in await s.scalars(select(LoginFailure))]
    assert sessions == [live_id]
    assert failures == [T0 - timedelta(days=2)]
    line = (await _purge_lines(h))[-1]
    assert (line.detail["staff_sessions"], line.detail["login_failures"]) == (1, 1)


async def test_roster_previews_are_deleted_after_an_hour_by_the_tick(harness: Harness) -> None:
    h = harness
    folder = h.rt.settings.uploads_path
    uploads.keep(folder, 7, "abc123", b"no_kk,nik\n6472010101000001,6472016503810001\n", now=T0)
    schedule = Schedule.from_settings(h.rt.settings)
    soon = await run_due(h.rt.sessions, T0 + timedelta(minutes=30), schedule, named("previews"))
    assert soon == {"previews": 0} and len(list(folder.iterdir())) == 1
    assert await _purge_lines(h, "retention.previews") == []
    later = await run_due(h.rt.sessions, T0 + timedelta(minutes=61), schedule, named("previews"))
    assert later == {"previews": 1} and list(folder.iterdir()) == []
    assert [e.detail["files"] for e in await _purge_lines(h, "retention.previews")] == [1]
