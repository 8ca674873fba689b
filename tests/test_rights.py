"""The household's rights on every channel: DATA SAYA, and HAPUS DATA through to the erasure."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.media import MediaStore
from storage.models import (
    AuditEvent,
    Base,
    ChatIdentity,
    Household,
    MentorVisit,
    OutboxMessage,
    ProgramEnrollment,
    ProgressReport,
    Proposal,
    ServiceRequest,
)
from tests import factories
from tests.admin_world import csrf_of, signed_in_officer
from tests.case_helpers import (
    HOUSEHOLD_PHONE,
    linked,
    other_mentor_household,
    person_on,
    seed,
)
from tests.conftest import T0
from tests.drivers import DRIVERS, Driver
from tests.harness import Harness

# The family's phone without its country code or trunk zero: every way it may be written.
PHONE_DIGITS = "81300000001"
TYPED = "Nama ibu saya tertulis Sitti padahal Siti, rumah kami dekat pasar ikan Palaran"
REPORT_NOTE = "Warung sepi karena jalan ke pasar ikan ditutup sejak banjir"
VISIT_NOTE = "Bu Siti cerita suaminya sakit paru dan warung tutup dua minggu"


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _seed(h: Harness) -> tuple[int, int]:
    """A mentor and a household with two programs; (mentor id, household id)."""
    mentor_id, household_id = await seed(h)
    async with await h.session() as s:
        await factories.program(s, household_id)
        await factories.program(
            s, household_id, code="BPNT", status="aktif", period="November 2026", amount=200_000
        )
    return mentor_id, household_id


async def _last_outbox_id(h: Harness) -> int:
    """The newest outbox row so far."""
    async with await h.session() as s:
        return int(await s.scalar(select(func.max(OutboxMessage.id))) or 0)


async def _reply_lengths(h: Harness, after: int) -> list[int]:
    """How long each reply written since `after` is (a channel may still merge a burst)."""
    async with await h.session() as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.id > after))
        return [len(r.payload["text"]) for r in rows]


async def test_data_saya_shows_the_familys_own_data_masked_and_audited(person: Driver) -> None:
    _mentor, household_id = await _seed(person.h)
    other = await other_mentor_household(person.h)
    await linked(person)
    before = await _last_outbox_id(person.h)
    said = await person.text("DATA SAYA")
    text = "\n".join(s.text for s in said)
    assert "Data keluarga Anda yang disimpan Sinergi:" in text
    assert "Nama: Siti A***** R*****" in text
    assert "No. KK: 6472********0001" in text
    assert "NIK: 6472********0001" in text
    assert "Desa: Rawa Makmur, Palaran, Kota Samarinda" in text
    assert "HP: +62*******0001" in text
    assert "(data dari DTSEN Kemensos per 10 November 2026)" in text
    assert "Pendamping: Rina Marlina" in text
    assert "Laporan usaha: belum ada." in text
    assert "HAPUS DATA" in said[-1].text
    for secret in (factories.NIK, factories.NO_KK, HOUSEHOLD_PHONE, "Aminah", "Wati", "6472020101"):
        assert secret not in text
    assert max(await _reply_lengths(person.h, before)) <= 600
    async with await person.h.session() as s:
        seen = list(
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "rights.data_seen"))
        )
    assert [(e.household_id, e.actor.startswith("chat:")) for e in seen] == [(household_id, True)]
    assert other != household_id


async def test_data_saya_in_own_words_lists_open_requests(person: Driver) -> None:
    await _seed(person.h)
    await linked(person)
    await person.text("sanggah")
    await person.text("1")
    await person.text(TYPED)
    said = await person.text("bu data saya apa aja yang disimpan?")
    text = "\n".join(s.text for s in said)
    assert "Pengajuan yang masih berjalan:" in text and "SG-2611-0001" in text
    said = await person.press(said[-1].key_of("Perbaiki data"))
    assert "Tentang apa?" in said[-1].text


async def test_data_saya_is_split_into_short_messages(harness: Harness) -> None:
    person = DRIVERS["simulator"](harness)
    person.phone = HOUSEHOLD_PHONE
    _mentor, household_id = await _seed(harness)
    async with await harness.session() as s:
        for n in range(12):
            await factories.program(s, household_id, code=f"PROGRAM_DAERAH_{n:02d}")
    await linked(person)
    before = await _last_outbox_id(harness)
    said = await person.text("data saya")
    lengths = await _reply_lengths(harness, before)
    assert len(lengths) >= 3 and max(lengths) <= 600
    assert "PROGRAM_DAERAH_11" in "\n".join(s.text for s in said)


async def test_unlinked_chat_is_asked_to_link_first(person: Driver) -> None:
    await _seed(person.h)
    await person.text("/start")
    await person.text("SETUJU")
    for words in ("DATA SAYA", "hapus data"):
        said = await person.text(words)
        text = "\n".join(s.text for s in said)
        assert "Siti" not in text and "6472" not in text and "PKH" not in text
        assert "menghubungkan chat ini" in text.lower() or "sambungkan" in text.lower(), text


async def _file_erasure(person: Driver, kind_label: str) -> list[Any]:
    """HAPUS DATA, the kind chosen, Ya: the reply with the reference."""
    said = await person.text("HAPUS DATA")
    assert "tidak bisa dihapus oleh Sinergi" in said[-1].text  # the register stays
    said = await person.press(said[-1].key_of(kind_label))
    assert "Kirim permintaan ini ke Dinsos?" in said[-1].text
    return await person.text("1")


async def test_hapus_data_files_a_request_with_a_three_day_deadline(person: Driver) -> None:
    await _seed(person.h)
    await linked(person)
    said = await _file_erasure(person, "Hapus data saya")
    assert "Nomor: HD-2611-0001" in said[-1].text
    assert "paling lambat 26 November 2026" in said[-1].text
    async with await person.h.session() as s:
        row = await s.scalar(select(ServiceRequest))
    assert row is not None and (row.kind, row.topic, row.state) == ("hapus", "erase", "diajukan")
    assert row.due_at == person.h.now + timedelta(hours=72)


async def test_hapus_data_no_sends_nothing(person: Driver) -> None:
    await _seed(person.h)
    await linked(person)
    said = await person.text("hapus data saya")
    said = await person.press(said[-1].key_of("Berhenti memakai"))
    said = await person.text("2")
    assert "Tidak ada yang dikirim." in said[0].text
    async with await person.h.session() as s:
        assert await s.scalar(select(ServiceRequest)) is None


async def _leave_traces(h: Harness, household_id: int, mentor_id: int) -> list[str]:
    """A report with a photo and a note, a visit note, a voice note: the files' paths."""
    store = MediaStore(h.rt.settings.media_path)
    photo = store.save(b"\xff\xd8 foto warung bu siti", mime_type="image/jpeg")
    voice = store.save(b"OggS suara bu siti", mime_type="audio/ogg")
    async with await h.session() as s:
        s.add(
            ProgressReport(
                household_id=household_id,
                period="2026-10",
                business_state="berjalan",
                omzet=1_200_000,
                problem="pemasaran",
                problem_note=REPORT_NOTE,
                photo_path=photo,
                status="complete",
                flags=[],
                started_at=T0,
                submitted_at=T0,
            )
        )
        s.add(
            MentorVisit(
                household_id=household_id, mentor_id=mentor_id, at=T0, met=True, note=VISIT_NOTE
            )
        )
        s.add(
            AuditEvent(
                at=T0,
                actor="chat:1",
                action="voice_note",
                household_id=household_id,
                region_code="6472011001",
                detail={"media": voice},
            )
        )
        chat = await s.scalar(select(ChatIdentity).where(ChatIdentity.household_id == household_id))
        assert chat is not None
        s.add(  # proposed before the chat was linked: the chat's own words too
            Proposal(
                reference="US-2611-0001",
                identity_id=chat.id,
                name="Keluarga Sitti",
                phone=HOUSEHOLD_PHONE,
                region_code="6472011001",
                about=TYPED,
                state="ditolak",
                created_at=T0,
                updated_at=T0,
            )
        )
    return [photo, voice]


async def _every_text(s: AsyncSession, h: Harness) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text and JSON column of every table; sealed ones opened."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        columns += [c for c in table.columns if type(c.type).__name__ in ("FreeText", "MaskedJSON")]
        if not columns:
            continue
        for row in (await s.execute(select(*columns))).all():
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if table.name == "inbox_updates" and column.name == "raw" and text:
                    with contextlib.suppress(Exception):  # already opened by the worker
                        text = h.rt.vault.unseal(text)
                found.append((table.name, column.name, text))
    return found


async def test_erasure_approved_leaves_nothing_of_the_family(person: Driver) -> None:
    mentor_id, household_id = await _seed(person.h)
    await linked(person)
    await person.text("sanggah")
    await person.text("1")
    await person.text(TYPED)
    files = await _leave_traces(person.h, household_id, mentor_id)
    said = await _file_erasure(person, "Hapus data saya")
    reference = said[-1].text.split("Nomor: ")[1].split(".")[0]
    officer = await signed_in_officer(person.h, "samarinda", "6472")
    queue = (await officer.get("/admin/requests")).text
    assert reference in queue and "Jawab paling lambat" in queue
    async with await person.h.session() as s:
        request_id = await s.scalar(
            select(ServiceRequest.id).where(ServiceRequest.reference == reference)
        )
    token = await csrf_of(officer)
    moved = await officer.post(
        f"/admin/requests/{request_id}/move", data={"csrf_token": token, "action": "approve"}
    )
    assert moved.status_code == 303
    told = "\n".join(m.text for m in await person.news())
    # The family's last word arrives though its chat is gone, and names what the office keeps.
    assert f"Dinsos menyetujui permintaan Anda {reference}" in told
    assert "sudah menghapus percakapan" in told and "DTSEN" in told
    assert "bantuan Anda tidak berubah" in told

    store = MediaStore(person.h.rt.settings.media_path)
    assert [store.path_of(f) for f in files] == [None, None]
    async with await person.h.session() as s:
        texts = await _every_text(s, person.h)
        household = await s.get(Household, household_id)
        chats = list(await s.scalars(select(ChatIdentity)))
        erased = await s.scalar(select(AuditEvent).where(AuditEvent.action == "household.erased"))
        programs = list(await s.scalars(select(ProgramEnrollment)))
        report = await s.scalar(select(ProgressReport))
    leaks = [
        (table, column)
        for table, column, text in texts
        if PHONE_DIGITS in text
        or any(words in text for words in (TYPED, REPORT_NOTE, VISIT_NOTE, "Sitti", "pasar ikan"))
        or ("Siti A" in text and (table, column) != ("households", "name"))
    ]
    assert leaks == [], [t for t in texts if (t[0], t[1]) in leaks][:12]
    # The register entry and the counts stay; the chat is unlinked and stopped.
    assert household is not None and household.name == "Siti Aminah Rahayu"
    assert household.phone is None
    assert len(programs) == 2 and report is not None and report.omzet == 1_200_000
    assert chats and all(c.household_id is None and c.opted_out for c in chats)
    assert erased is not None and erased.actor == "samarinda"
    assert erased.household_id == household_id and erased.detail["reference"] == reference
    assert erased.detail["photos"] == 1 and erased.detail["voice_notes"] == 1


async def test_restriction_approved_stops_the_chat_and_tells_it(person: Driver) -> None:
    _mentor, household_id = await _seed(person.h)
    await linked(person)
    said = await _file_erasure(person, "Berhenti memakai")
    reference = said[-1].text.split("Nomor: ")[1].split(".")[0]
    officer = await signed_in_officer(person.h, "samarinda", "6472")
    async with await person.h.session() as s:
        request_id = await s.scalar(select(ServiceRequest.id))
    token = await csrf_of(officer)
    await officer.post(
        f"/admin/requests/{request_id}/move", data={"csrf_token": token, "action": "approve"}
    )
    await person.h.work()
    said = await person.text("status")
    assert "Ketik MULAI" in said[-1].text
    async with await person.h.session() as s:
        chat = await s.scalar(select(ChatIdentity))
        kept = await s.get(Household, household_id)
    assert chat is not None and chat.opted_out and chat.household_id is None
    assert kept is not None and kept.phone == HOUSEHOLD_PHONE  # kept, no longer used
    assert reference.startswith("HD-")


async def test_erasure_requests_stay_in_their_region(harness: Harness) -> None:
    person = DRIVERS["simulator"](harness)
    person.phone = HOUSEHOLD_PHONE
    await _seed(harness)
    await linked(person)
    await _file_erasure(person, "Hapus data saya")
    elsewhere = await signed_in_officer(harness, "balikpapan", "6471")
    assert "HD-2611-0001" not in (await elsewhere.get("/admin/requests")).text
    async with await harness.session() as s:
        request_id = await s.scalar(select(ServiceRequest.id))
    token = await csrf_of(elsewhere)
    moved = await elsewhere.post(
        f"/admin/requests/{request_id}/move", data={"csrf_token": token, "action": "approve"}
    )
    assert moved.status_code == 404
    async with await harness.session() as s:
        row = await s.get(ServiceRequest, request_id)
        assert row is not None and row.state == "diajukan"
        assert (
            await s.scalar(select(AuditEvent).where(AuditEvent.action == "household.erased"))
            is None
        )


async def test_erasure_refused_tells_the_family_why(person: Driver) -> None:
    await _seed(person.h)
    await linked(person)
    said = await _file_erasure(person, "Hapus data saya")
    reference = said[-1].text.split("Nomor: ")[1].split(".")[0]
    officer = await signed_in_officer(person.h, "samarinda", "6472")
    async with await person.h.session() as s:
        request_id = await s.scalar(select(ServiceRequest.id))
    token = await csrf_of(officer)
    path = f"/admin/requests/{request_id}/move"
    blank = await officer.post(path, data={"csrf_token": token, "action": "reject"})
    assert blank.headers["location"].endswith("error=reason")
    reason = "Bantuan PKH Anda masih dalam pemeriksaan"
    moved = await officer.post(path, data={"csrf_token": token, "action": "reject", "note": reason})
    assert moved.status_code == 303
    told = "\n".join(m.text for m in await person.news())
    assert f"Dinsos tidak setuju menghapus data Anda (pengajuan {reference})" in told
    assert f"Alasan: {reason}" in told and "DTSEN" in told
    assert "Rina Marlina" in told
    async with await person.h.session() as s:
        chat = await s.scalar(select(ChatIdentity))
    assert chat is not None and chat.household_id is not None and not chat.opted_out


async def test_erasure_past_the_whatsapp_window_drops_its_last_word(harness: Harness) -> None:
    person = DRIVERS["whatsapp"](harness)
    person.phone = HOUSEHOLD_PHONE
    await _seed(harness)
    await linked(person)
    await _file_erasure(person, "Hapus data saya")
    harness.advance(hours=30)  # Dinsos answers the next day: WhatsApp's 24 hours are over
    officer = await signed_in_officer(harness, "samarinda", "6472")
    async with await harness.session() as s:
        request_id = await s.scalar(select(ServiceRequest.id))
    token = await csrf_of(officer)
    await officer.post(
        f"/admin/requests/{request_id}/move", data={"csrf_token": token, "action": "approve"}
    )
    # No free-form message outside the window, and no approved template for it: nothing goes,
    # and nothing of the message (its words, its address) stays behind either.
    assert await person.news() == []
    async with await harness.session() as s:
        last = list(
            await s.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like("farewell:%"))
            )
        )
    assert [(m.state, m.payload, m.recipient.startswith("erased-")) for m in last] == [
        ("dead", {"erased": True}, True)
    ]
