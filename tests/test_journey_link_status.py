"""The first journey on every channel: consent, link, and "is my aid coming?"."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import ChatIdentity, Consent, OutboxMessage
from tests import factories
from tests.drivers import DRIVERS, Driver
from tests.harness import Harness


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    driver = DRIVERS[request.param](harness)
    if request.param != "telegram":
        driver.phone = "+6281300000001"  # type: ignore[attr-defined]
    return driver


async def _seed(h: Harness, with_programs: bool = True) -> None:
    async with await h.session() as s:
        m = await factories.mentor(s)
        hh = await factories.household(s, h.rt.vault, mentor_id=m.id)
        if with_programs:
            await factories.program(s, hh.id)
            await factories.program(
                s, hh.id, code="BPNT", status="aktif", period="November 2026", amount=200_000
            )


async def test_consent_link_and_status(person: Driver) -> None:
    await _seed(person.h)
    first = await person.text("/start")
    assert "Selamat datang di Sinergi" in first[-1].text
    assert "Siti" not in first[-1].text  # nothing personal before consent
    said = await person.press(first[-1].key_of("SETUJU"))
    assert "Persetujuan Anda sudah kami simpan" in said[0].text
    said = await person.link_by_phone("+6281300000001")
    assert "tersambung dengan keluarga Siti A***** R*****" in said[-1].text
    said = await person.text("status")
    text = said[-1].text
    # The news first: a program and where it stands, how much, then whose aid it is.
    first = text.split("\n", 1)[0]
    assert first in (
        "PKH (Program Keluarga Harapan): sudah disalurkan",
        "BPNT / Sembako (bantuan pangan): aktif",
    )
    assert (
        "PKH (Program Keluarga Harapan): sudah disalurkan\nRp1.500.000 untuk Tahap 4 2026\n"
        "(data dari DTSEN Kemensos per 10 November 2026)"
    ) in text
    assert text.endswith("Bantuan keluarga Siti A***** R*****. Ketik MENU untuk kembali ke menu.")
    assert "6472016503810001" not in text


async def test_choices_work_typed_by_number(person: Driver) -> None:
    await _seed(person.h)
    await person.text("halo")
    said = await person.text("1")  # 1 = SETUJU
    assert "Persetujuan Anda sudah kami simpan" in said[0].text


async def test_nothing_on_record_says_whom_to_ask(person: Driver) -> None:
    await _seed(person.h, with_programs=False)
    await person.text("/start")
    await person.text("SETUJU")
    await person.link_by_phone("+6281300000001")
    said = await person.text("STATUS")
    assert "Belum ada program yang tercatat" in said[-1].text
    assert "Rina Marlina" in said[-1].text


async def test_berhenti_withdraws_consent_and_cancels_waiting_messages(person: Driver) -> None:
    await _seed(person.h)
    await person.text("/start")
    await person.text("SETUJU")
    said = await person.text("berhenti")
    assert "tidak akan menerima pesan lagi" in said[-1].text
    said = await person.text("status")
    assert "Ketik MULAI" in said[-1].text
    async with await person.h.session() as s:
        consent = await s.scalar(select(Consent))
        assert consent is not None and consent.withdrawn_at is not None
        identity = await s.scalar(select(ChatIdentity))
        assert identity is not None and identity.opted_out
    said = await person.text("MULAI")
    assert "Apakah Anda setuju" in said[-1].text


async def test_status_before_consent_shows_only_the_notice(person: Driver) -> None:
    await _seed(person.h)
    said = await person.text("STATUS")
    assert "Apakah Anda setuju" in said[-1].text
    assert "PKH" not in said[-1].text


async def test_each_reply_is_one_outbox_row_marked_sent(person: Driver) -> None:
    await _seed(person.h)
    await person.text("/start")
    async with await person.h.session() as s:
        states = (
            await s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
        ).all()
    assert dict(states) == {"sent": 1}


async def test_not_agreeing_ends_with_where_else_to_get_help(person: Driver) -> None:
    await _seed(person.h)
    first = await person.text("/start")
    said = await person.press(first[-1].key_of("Tidak setuju"))
    assert "Kalau berubah pikiran, ketik SETUJU." in said[-1].text
    assert said[-1].text.endswith("silakan hubungi pendamping Anda atau kantor desa.")
