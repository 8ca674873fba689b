"""Requests on every channel: training, cooperative, data correction; state changes reach the household."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from bot.commands import request as request_cmd
from handlers import notices
from storage import requests
from storage.db import is_postgres, make_engine, make_sessions, unit_of_work
from storage.models import Household, RequestEvent, ServiceRequest
from tests import factories
from tests.case_helpers import (
    MENTOR_TELEGRAM_ID,
    ask_training,
    linked,
    linked_mentor,
    menu_key,
    other_mentor_household,
    person_on,
    seed,
)
from tests.drivers import DRIVERS, Driver, TelegramDriver
from tests.harness import Harness


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _requests(h: Harness) -> list[ServiceRequest]:
    async with await h.session() as s:
        return list(await s.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))


async def _tell(s: AsyncSession, event: RequestEvent, *, now: datetime) -> None:
    """The household hears of a move, as after a staff action in the admin or the CLI."""
    row = await s.get(ServiceRequest, event.request_id)
    assert row is not None
    await notices.request_moved(s, row, event, now=now)


async def test_training_request_gets_a_reference_and_shows_in_the_list(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await ask_training(person)
    assert "Nomor: PL-2611-0001" in said[-1].text
    rows = await _requests(person.h)
    assert [(r.kind, r.topic, r.details, r.state) for r in rows] == [
        ("pelatihan", "olahan_pangan", "Saya jual keripik", "diajukan")
    ]
    said = await person.text("status pengajuan")
    assert "PL-2611-0001 · Pelatihan: Pengolahan pangan" in said[-1].text
    assert "Status: diajukan" in said[-1].text


async def test_cooperative_conditions_come_before_filing(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("koperasi"))
    text = said[-1].text
    assert "Koperasi Desa Merah Putih Rawa Makmur" in text
    assert "e-KTP desa ini" in text and "17 tahun" in text and "simpanan pokok" in text
    assert await _requests(person.h) == []  # nothing filed before the household agrees
    said = await person.press(said[-1].key_of("Ya, daftar"))
    assert "Nomor: KP-2611-0001" in said[-1].text
    (row,) = await _requests(person.h)
    assert (row.kind, row.topic, row.region_code) == ("koperasi", "6472011001", "6472011001")


async def test_data_objection_records_the_words_and_decides_nothing(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("sanggah"))
    said = await person.press(said[-1].key_of("berhak dapat bantuan"))
    assert "tidak memutuskan siapa yang menerima bantuan" in said[-1].text
    long_story = (
        "Suami saya sudah meninggal dan kami tidak punya penghasilan. " * 90
    )  # ~5,000 characters
    said = await person.text(long_story)
    assert "Nomor: SG-2611-0001" in said[-1].text
    (row,) = await _requests(person.h)
    assert row.kind == "sanggah" and row.topic == "usul"
    assert row.details and row.details.startswith("Suami saya") and 3900 <= len(row.details) <= 4000


async def test_same_open_request_is_not_filed_twice(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    await ask_training(person)
    said = await ask_training(person, note=None)
    assert "sudah punya pengajuan yang sama: PL-2611-0001 (diajukan)" in said[-1].text
    said = await ask_training(person, topic="Menjahit", note=None)
    assert "PL-2611-0002" in said[-1].text
    assert len(await _requests(person.h)) == 2


async def test_cancel_while_submitted_then_a_new_one_may_be_filed(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    await ask_training(person)
    said = await person.text("STATUS PENGAJUAN")
    said = await person.press(said[-1].key_of("Batal PL-2611-0001"))
    assert "Batalkan pengajuan PL-2611-0001?" in said[-1].text
    said = await person.press(said[-1].key_of("Ya, batalkan"))
    assert "PL-2611-0001 sudah dibatalkan" in said[-1].text
    said = await ask_training(person, note=None)
    assert "PL-2611-0002" in said[-1].text
    states = [r.state for r in await _requests(person.h)]
    assert states == ["dibatalkan", "diajukan"]


async def test_cancel_is_refused_once_the_office_took_it_up(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    await ask_training(person)
    said = await person.text("STATUS PENGAJUAN")
    key = said[-1].key_of("Batal PL-2611-0001")
    (row,) = await _requests(person.h)
    async with await person.h.session() as s:
        await requests.transition(
            s, row.id, "diproses", actor="staff:1", note=None, now=person.h.now, scope="6472"
        )
    said = await person.press(key)
    said = await person.press(said[-1].key_of("Ya, batalkan"))
    assert any("tidak bisa dibatalkan lagi" in m.text for m in said)
    assert [r.state for r in await _requests(person.h)] == ["diproses"]


async def test_two_quick_identical_taps_file_one_request(harness: Harness) -> None:
    h = harness
    await seed(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("koperasi"))
    yes = said[-1].key_of("Ya, daftar")
    # Both taps are stored before either is answered, as when the network is slow.
    for _ in range(2):
        response = await h.post_telegram(h.telegram_callback(person.user_id, yes))
        assert response.status_code == 200
    await h.work()
    assert len(await _requests(h)) == 1


async def test_unlinked_and_opted_out_chats_cannot_file(harness: Harness) -> None:
    h = harness
    await seed(h)
    stranger = TelegramDriver(h, user_id=555001)
    await stranger.text("/start")
    await stranger.text("SETUJU")
    said = await stranger.text("STATUS PENGAJUAN")
    assert "PL-" not in said[-1].text and "Pengajuan Anda" not in said[-1].text
    said = await stranger.press("pelatihan")
    assert "Nomor:" not in said[-1].text
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(person, "Ajukan permintaan")
    koperasi = said[-1].key_of("koperasi")
    await person.text("BERHENTI")
    said = await person.press(koperasi)
    assert "Ketik MULAI" in said[-1].text
    said = await person.press("yes")
    assert "Ketik MULAI" in said[-1].text
    assert await _requests(h) == []


async def test_each_state_change_reaches_the_household_on_telegram(harness: Harness) -> None:
    h = harness
    await seed(h)
    person = TelegramDriver(h)
    await linked(person)
    await ask_training(person)
    (row,) = await _requests(h)
    seen = len(h.telegram_said(person.user_id))
    async with await h.session() as s:
        event = await requests.transition(
            s, row.id, "diproses", actor="staff:7", note=None, now=h.now, scope="6472"
        )
        await _tell(s, event, now=h.now)
    h.advance(hours=1)
    async with await h.session() as s:
        event = await requests.transition(
            s,
            row.id,
            "dirujuk",
            actor="staff:7",
            note="Jadwal pelatihan bulan depan",
            referred_to="Disnakertrans",
            now=h.now,
            scope="6472",
        )
        await _tell(s, event, now=h.now)
    await h.work()
    told = [m.text for m in h.telegram_said(person.user_id, seen)]
    assert told[0].startswith(
        "Pengajuan pelatihan Anda (PL-2611-0001) sedang diproses oleh kantor."
    )
    assert told[1].startswith(
        "Pengajuan pelatihan Anda (PL-2611-0001) diteruskan ke Disnakertrans."
    )
    assert "Keterangan dari kantor: Jadwal pelatihan bulan depan" in told[1]
    async with await h.session() as s:
        events = (
            await s.execute(
                select(RequestEvent.actor, RequestEvent.from_state, RequestEvent.to_state).order_by(
                    RequestEvent.id
                )
            )
        ).all()
    assert [tuple(e) for e in events] == [
        (f"chat:{1}", None, "diajukan"),
        ("staff:7", "diajukan", "diproses"),
        ("staff:7", "diproses", "dirujuk"),
    ]


async def test_household_hears_in_its_own_language(harness: Harness) -> None:
    h = harness
    await seed(h)
    person = TelegramDriver(h)
    await linked(person)
    await ask_training(person)
    said = await person.text("MENU")
    said = await person.press(said[-1].key_of("Bahasa"))
    await person.press("en")
    (row,) = await _requests(h)
    async with await h.session() as s:
        event = await requests.transition(
            s, row.id, "disetujui", actor="staff:7", note=None, now=h.now, scope="6472011001"
        )
        await _tell(s, event, now=h.now)
    await h.work()
    assert (
        "Good news! Your training request (PL-2611-0001) is approved."
        in h.telegram_said(person.user_id)[-1].text
    )


async def test_transition_fails_closed_outside_scope_and_off_the_map(harness: Harness) -> None:
    h = harness
    _mentor, household_id = await seed(h)
    other_id = await other_mentor_household(h)
    async with await h.session() as s:
        mine, _new = await requests.file_request(
            s,
            household=await s.get(Household, household_id),
            kind="pelatihan",
            topic="menjahit",
            details=None,
            actor="test",
            now=h.now,
        )
        theirs, _new = await requests.file_request(
            s,
            household=await s.get(Household, other_id),
            kind="koperasi",
            topic="6472021002",
            details=None,
            actor="test",
            now=h.now,
        )
    async with await h.session() as s:
        for scope in (None, "", "64.72", "*", 6472):
            with pytest.raises(PermissionError):
                await requests.transition(
                    s, mine.id, "diproses", actor="x", note=None, now=h.now, scope=scope
                )
        with pytest.raises(requests.RequestError):  # another kecamatan's request is not found
            await requests.transition(
                s, theirs.id, "diproses", actor="x", note=None, now=h.now, scope="647201"
            )
        with pytest.raises(requests.RequestError):
            await requests.transition(
                s, mine.id, "selesai", actor="x", note=None, now=h.now, scope="6472"
            )
        with pytest.raises(requests.RequestError):
            await requests.transition(
                s, mine.id, "dirujuk", actor="x", note=None, now=h.now, scope="6472"
            )
    assert [r.state for r in await _requests(h)] == ["diajukan", "diajukan"]


async def test_references_count_per_kind_and_month(harness: Harness) -> None:
    h = harness
    _mentor, household_id = await seed(h)
    async with await h.session() as s:
        household = await s.get(Household, household_id)
        assert household is not None
        refs = []
        for topic in ("menjahit", "pembukuan"):
            row, _new = await requests.file_request(
                s,
                household=household,
                kind="pelatihan",
                topic=topic,
                details=None,
                actor="t",
                now=h.now,
            )
            refs.append(row.reference)
        row, _new = await requests.file_request(
            s,
            household=household,
            kind="sanggah",
            topic="data_salah",
            details="x",
            actor="t",
            now=h.now,
        )
        refs.append(row.reference)
        h.advance(days=10)  # 3 December 2026: a new month starts again at 0001
        row, _new = await requests.file_request(
            s,
            household=household,
            kind="pelatihan",
            topic="peternakan",
            details=None,
            actor="t",
            now=h.now,
        )
        refs.append(row.reference)
    assert refs == ["PL-2611-0001", "PL-2611-0002", "SG-2611-0001", "PL-2612-0001"]


async def test_concurrent_filings_get_distinct_references_and_one_per_topic(
    harness: Harness,
) -> None:
    """Separate sessions at once; PostgreSQL shows the race, SQLite serialises the writers."""
    h = harness
    household_ids = []
    async with await h.session() as s:
        m = await factories.mentor(s)
        for i in range(6):
            hh = await factories.household(
                s,
                h.rt.vault,
                nik=f"64720150019000{i:02d}",
                no_kk=f"64720101010000{i:02d}",
                phone=f"+62813000001{i:02d}",
                mentor_id=m.id,
            )
            household_ids.append(hh.id)

    async def file(household_id: int) -> str:
        async with unit_of_work(h.rt.sessions) as s:
            household = await s.get(Household, household_id)
            assert household is not None
            row, _new = await requests.file_request(
                s,
                household=household,
                kind="pelatihan",
                topic="menjahit",
                details=None,
                actor="t",
                now=h.now,
            )
            return row.reference

    # Every household twice (two quick taps), all at once. SQLite allows one writer at a time
    # (a deferred transaction that upgrades to a write fails rather than waits): one by one there.
    if is_postgres(h.rt.engine):
        refs = await asyncio.gather(*(file(i) for i in household_ids * 2))
    else:
        refs = [await file(i) for i in household_ids * 2]
    rows = await _requests(h)
    assert len(rows) == 6
    assert sorted(r.reference for r in rows) == [f"PL-2611-{n:04d}" for n in range(1, 7)]
    assert set(refs) == {r.reference for r in rows}


async def test_cli_moves_a_request_and_the_household_is_told(harness: Harness) -> None:
    h = harness
    await seed(h)
    person = TelegramDriver(h)
    await linked(person)
    await ask_training(person)
    line = await request_cmd.set_state(
        h.rt, "pl-2611-0001", "ditolak", note="Kuota penuh", office=None, now=h.now
    )
    assert line == "PL-2611-0001: ditolak"
    await h.work()
    told = h.telegram_said(person.user_id)[-1].text
    assert told.startswith("Mohon maaf. Pengajuan pelatihan Anda (PL-2611-0001) tidak disetujui.")
    assert "Kuota penuh" in told and "Tanya pendamping Anda" in told
    with pytest.raises(requests.RequestError):
        await request_cmd.set_state(
            h.rt, "PL-2611-0999", "diproses", note=None, office=None, now=h.now
        )


def test_cli_command_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import app

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("SINERGI_DATABASE_URL", url)
    monkeypatch.setenv("SINERGI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SINERGI_TELEGRAM_TOKEN", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["request", "set", "PL-2611-0001", "diproses"])
    assert result.exit_code == 1
    assert "no request PL-2611-0001" in result.output

    async def seed_one() -> None:
        engine = make_engine(url)
        async with unit_of_work(make_sessions(engine)) as s:
            m = await factories.mentor(s)
            from storage.crypto import NikVault

            hh = await factories.household(s, NikVault("k", ""), mentor_id=m.id)
            await requests.file_request(
                s,
                household=hh,
                kind="koperasi",
                topic=hh.region_code,
                details=None,
                actor="t",
                now=factories.T0,
            )
        await engine.dispose()

    asyncio.run(seed_one())
    result = runner.invoke(
        app,
        [
            "request",
            "set",
            "KP-2611-0001",
            "dirujuk",
            "--note",
            "Ke pengurus",
            "--to",
            "Kopdes Rawa Makmur",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "KP-2611-0001: dirujuk" in result.output
    result = runner.invoke(app, ["request", "set", "KP-2611-0001", "diajukan"])
    assert result.exit_code == 1


async def test_the_mentor_hears_of_a_new_request_but_not_at_night(harness: Harness) -> None:
    h = harness
    await seed(h, name="Siti Aminah")
    await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    told = len(h.telegram.sent(MENTOR_TELEGRAM_ID))
    await ask_training(person)  # 10:00 WITA
    news = [p["text"] for p in h.telegram.sent(MENTOR_TELEGRAM_ID)[told:]]
    assert news == [
        "Pengajuan baru PL-2611-0001 dari Siti A***** (No. KK akhiran 0001): Pelatihan.\n"
        "Ketik MENU dan pilih Laporan & pengajuan baru untuk melihatnya."
    ]
    # At 21:00 WITA the family asks to join the cooperative: the mentor hears it at 08:00.
    h.advance(hours=11)
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("koperasi"))
    said = await person.press(said[-1].key_of("Ya, daftar"))
    assert "KP-2611-0001" in said[-1].text
    assert len(h.telegram.sent(MENTOR_TELEGRAM_ID)) == told + 1
    h.advance(hours=11)  # 08:00 WITA
    await h.work()
    news = [p["text"] for p in h.telegram.sent(MENTOR_TELEGRAM_ID)[told + 1 :]]
    assert len(news) == 1 and news[0].startswith("Pengajuan baru KP-2611-0001 dari Siti A*****")
