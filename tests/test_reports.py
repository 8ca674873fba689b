"""Progress reports on every channel: six questions at most, resume, replace, flags, RIWAYAT."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.reports import close_stale_reports
from storage.media import MediaStore
from storage.models import ProgressReport
from tests.case_helpers import linked, linked_mentor, menu_key, person_on, report_in_chat, seed
from tests.conftest import T0
from tests.drivers import DRIVERS, Driver, TelegramDriver
from tests.harness import Harness


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _reports(h: Harness) -> list[ProgressReport]:
    async with await h.session() as s:
        return list(await s.scalars(select(ProgressReport).order_by(ProgressReport.period)))


async def test_a_full_report_is_read_back_and_saved(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    said = await person.press(said[-1].key_of("Berjalan"))
    said = await person.text("satu setengah juta")
    assert "Tercatat: Rp1.500.000." in said[-1].text
    assert "masalah utama" in said[-1].text
    said = await person.press(said[-1].key_of("Pemasaran"))
    said = await person.press(said[-1].key_of("Tidak, bisa menunggu"))
    said = await person.press(said[-1].key_of("Lewati"))
    text = said[-1].text
    assert "Usaha: Berjalan" in text and "Omzet: Rp1.500.000" in text
    assert "Masalah: Pemasaran / pembeli" in text and "Foto: tidak" in text
    said = await person.press(said[-1].key_of("Ya, kirim laporan"))
    assert "Laporan Anda untuk November 2026 sudah tersimpan" in said[-1].text
    (row,) = await _reports(person.h)
    assert (row.period, row.status, row.business_state, row.omzet, row.problem, row.flagged) == (
        "2026-11",
        "complete",
        "berjalan",
        1_500_000,
        "pemasaran",
        False,
    )


async def test_unreadable_omzet_is_asked_again_with_an_example(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    said = await person.press(said[-1].key_of("Berjalan"))
    said = await person.text("lumayan lah")
    assert "tidak terbaca" in said[-1].text and "1.500.000" in said[-1].text
    said = await person.text("750rb")
    assert "Tercatat: Rp750.000." in said[-1].text


async def test_change_an_answer_before_sending(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await report_in_chat(person, send=False)
    said = await person.press(said[-1].key_of("Ubah jawaban"))
    said = await person.press(said[-1].key_of("Omzet"))
    said = await person.text("2jt")
    assert "Omzet: Rp2.000.000" in said[-1].text
    said = await person.press(said[-1].key_of("Ubah jawaban"))
    said = await person.press(said[-1].key_of("Masalah"))
    said = await person.press(said[-1].key_of("Lainnya"))
    long_note = "Listrik sering padam jadi es batu cepat cair. " * 110  # ~5,000 characters
    said = await person.text(long_note)
    said = await person.press(said[-1].key_of("Ya, mendesak"))
    assert "mendesak" in said[-1].text and "Apakah sudah benar?" in said[-1].text
    await person.press(said[-1].key_of("Ya, kirim laporan"))
    (row,) = await _reports(person.h)
    assert row.omzet == 2_000_000 and row.problem == "lainnya" and row.urgent
    assert row.problem_note and len(row.problem_note) <= 4000


async def test_report_can_be_interrupted_and_resumed(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    said = await person.press(said[-1].key_of("Berhenti sementara"))
    await person.text("500 ribu")
    await person.text("STATUS")  # off to something else
    person.h.advance(hours=5)
    said = await menu_key(person, "Lapor usaha")
    assert "Mari lanjutkan laporan Anda untuk November 2026" in said[-1].text
    assert "masalah utama" in said[-1].text
    (row,) = await _reports(person.h)
    assert (row.status, row.business_state, row.omzet) == ("draft", "berhenti", 500_000)


async def test_riwayat_lists_the_last_reports(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await person.text("RIWAYAT")
    assert "belum pernah mengirim laporan" in said[-1].text
    await report_in_chat(person, problem="Tidak ada masalah")
    said = await person.text("riwayat")
    assert "November 2026: Berjalan · omzet Rp1.500.000" in said[-1].text


async def test_one_report_a_month_a_second_replaces_it(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    await report_in_chat(person)
    said = await menu_key(person, "Lapor usaha")
    assert "sudah mengirim laporan untuk November 2026" in said[-1].text
    said = await person.press(said[-1].key_of("Ya, buat baru"))
    said = await person.press(said[-1].key_of("Berjalan"))
    await person.text("3 juta")
    (row,) = await _reports(person.h)
    assert row.omzet == 1_500_000  # the first one stands until the new one is sent
    said = await person.press("tidak_ada")
    said = await person.press(said[-1].key_of("Lewati"))
    await person.press(said[-1].key_of("Ya, kirim laporan"))
    (row,) = await _reports(person.h)
    assert (row.omzet, row.problem, row.status) == (3_000_000, "tidak_ada", "complete")


async def test_photo_and_number_in_the_wrong_places(harness: Harness) -> None:
    h = harness
    await seed(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    said = await person.press(said[-1].key_of("Berjalan"))
    said = await person.photo()  # a photo where a number is expected
    assert "Itu bukan yang saya tanyakan" in said[-1].text and "Berapa omzet" in said[-1].text
    said = await person.text("1.500.000")
    said = await person.press(said[-1].key_of("Tidak ada masalah"))
    said = await person.text("12345")  # a number where a photo is expected
    assert "Silakan kirim foto, atau pilih Lewati" in said[-1].text
    said = await person.photo("AgACAgUAAxkBAAIBbizphoto")
    assert "foto sudah diterima" in said[-1].text and "Foto: ya" in said[-1].text
    await person.press(said[-1].key_of("Ya, kirim laporan"))
    (row,) = await _reports(h)
    # downloaded at once into the media store, because platform links expire
    assert row.photo_path is not None and row.photo_path.startswith("file:")
    stored = MediaStore(h.rt.settings.media_path).path_of(row.photo_path)
    assert stored is not None and stored.read_bytes().endswith(b"AgACAgUAAxkBAAIBbizphoto.jpg")


async def test_a_closed_business_alerts_the_mentor_at_once(harness: Harness) -> None:
    h = harness
    await seed(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await report_in_chat(person, state="Tutup", problem="Kesehatan", urgent="Ya, mendesak")
    assert "Pendamping Anda sudah diberi tahu" in said[-1].text
    (row,) = await _reports(h)
    assert row.flagged and row.flags == ["tutup", "mendesak"] and row.omzet == 0
    alert = h.telegram_said(mentor.user_id)[-1].text
    assert "perlu perhatian Anda: usaha tutup, masalah mendesak" in alert
    assert "Siti A***** R*****" in alert and "+6281300000001" in alert


async def _two_months_of_falling_omzet(h: Harness) -> tuple[TelegramDriver, TelegramDriver]:
    """A linked mentor and family whose last two reports said 3 and then 2 million; now T0."""
    await seed(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    for months_back, omzet in ((2, "3 juta"), (1, "2 juta")):
        h.now = T0 - timedelta(days=31 * months_back)
        await report_in_chat(person, omzet=omzet, problem="Tidak ada masalah")
    h.now = T0
    return mentor, person


async def test_omzet_falling_twice_in_a_row_is_flagged(harness: Harness) -> None:
    h = harness
    mentor, person = await _two_months_of_falling_omzet(h)
    seen = len(h.telegram_said(mentor.user_id))
    said = await report_in_chat(person, omzet="2jt", problem="Tidak ada masalah")
    assert "Pendamping" not in said[-1].text  # equal is not a fall
    said = await menu_key(person, "Lapor usaha")
    said = await person.press(said[-1].key_of("Ya, buat baru"))
    said = await person.press(said[-1].key_of("Berjalan"))
    said = await person.text("1 juta")
    said = await person.press(said[-1].key_of("Tidak ada masalah"))
    said = await person.press(said[-1].key_of("Lewati"))
    said = await person.press(said[-1].key_of("Ya, kirim laporan"))
    assert "Pendamping Anda sudah diberi tahu" in said[-1].text
    rows = await _reports(h)
    assert [(r.period, r.omzet, r.flags) for r in rows] == [
        ("2026-09", 3_000_000, []),
        ("2026-10", 2_000_000, []),
        ("2026-11", 1_000_000, ["omzet_turun"]),
    ]
    told = h.telegram_said(mentor.user_id, seen)
    assert len(told) == 1 and "omzet turun dua laporan berturut-turut" in told[0].text


async def test_half_finished_report_is_saved_partial_after_48_hours(harness: Harness) -> None:
    h = harness
    await seed(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    await person.press(said[-1].key_of("Tutup"))
    h.advance(hours=47)
    async with await h.session() as s:
        assert await close_stale_reports(s, h.now) == 0
    h.advance(hours=1)
    async with await h.session() as s:
        assert await close_stale_reports(s, h.now) == 1
    async with await h.session() as s:
        assert await close_stale_reports(s, h.now) == 0  # a second tick changes nothing
    await h.work()
    (row,) = await _reports(h)
    assert (row.status, row.business_state, row.flagged, row.flags) == (
        "partial",
        "tutup",
        True,
        ["tutup"],
    )
    alerts = [m.text for m in h.telegram_said(mentor.user_id) if "perlu perhatian" in m.text]
    assert len(alerts) == 1 and "usaha tutup" in alerts[0]
    said = await person.text("RIWAYAT")
    assert "Tutup" in said[-1].text and "(belum selesai)" in said[-1].text


async def test_a_half_finished_report_with_falling_omzet_alerts_the_mentor(
    harness: Harness,
) -> None:
    h = harness
    mentor, person = await _two_months_of_falling_omzet(h)
    said = await menu_key(person, "Lapor usaha")
    said = await person.press(said[-1].key_of("Berjalan"))
    await person.text("1 juta")  # and the family stops there
    seen = len(h.telegram_said(mentor.user_id))
    h.advance(hours=48)
    async with await h.session() as s:
        assert await close_stale_reports(s, h.now) == 1
    async with await h.session() as s:
        assert await close_stale_reports(s, h.now) == 0  # checked once
    await h.work()
    rows = await _reports(h)
    assert [(r.status, r.omzet, r.flags) for r in rows][-1] == (
        "partial",
        1_000_000,
        ["omzet_turun"],
    )
    told = h.telegram_said(mentor.user_id, seen)
    assert len(told) == 1 and "omzet turun dua laporan berturut-turut" in told[0].text


async def test_no_omzet_at_night_tells_the_family_and_reaches_the_mentor_in_the_morning(
    harness: Harness,
) -> None:
    """Omzet 0 with the business running is flagged; a report sent at 21:00 waits for 08:00."""
    h = harness
    await seed(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    told = len(h.telegram.sent(mentor.user_id))
    h.advance(hours=11)  # 20:30 WITA
    said = await report_in_chat(person, omzet="0", problem="Tidak ada masalah")
    assert "Pendamping Anda sudah diberi tahu" in said[-1].text
    (row,) = await _reports(h)
    assert row.flagged and row.flags == ["omzet_nol"]
    assert len(h.telegram.sent(mentor.user_id)) == told  # not at night
    h.advance(hours=12)  # 08:30 WITA
    await h.work()
    alerts = [p["text"] for p in h.telegram.sent(mentor.user_id)[told:]]
    assert len(alerts) == 1 and "tidak ada omzet bulan ini" in alerts[0]
