"""Scenario helpers for the request, report and mentor tests: a linked household, a linked mentor."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Household, Mentor
from tests import factories
from tests.drivers import DRIVERS, Driver, TelegramDriver, WhatsAppDriver
from tests.harness import Harness

HOUSEHOLD_PHONE = "+6281300000001"
MENTOR_PHONE = "+6281200000001"
MENTOR_TELEGRAM_ID = 700100


def person_on(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The household's driver on the channel of this parameter."""
    driver = DRIVERS[request.param](harness)
    if request.param != "telegram":
        driver.phone = HOUSEHOLD_PHONE  # type: ignore[attr-defined]
    return driver


async def seed(h: Harness, **household: Any) -> tuple[int, int]:
    """One mentor and one household of theirs; returns (mentor id, household id)."""
    async with await h.session() as s:
        m = await factories.mentor(s, phone=MENTOR_PHONE)
        hh = await factories.household(
            s, h.rt.vault, mentor_id=m.id, phone=HOUSEHOLD_PHONE, **household
        )
        return m.id, hh.id


async def linked(person: Driver) -> None:
    """The household has agreed and linked its chat by phone."""
    await person.text("/start")
    await person.text("SETUJU")
    said = await person.link_by_phone(HOUSEHOLD_PHONE)
    assert "tersambung" in said[-1].text


async def linked_mentor(h: Harness) -> TelegramDriver:
    """The mentor, on Telegram, agreed and recognised by phone."""
    mentor = TelegramDriver(h, user_id=MENTOR_TELEGRAM_ID)
    await mentor.text("/start")
    await mentor.text("SETUJU")
    said = await mentor.link_by_phone(MENTOR_PHONE)
    assert "pendamping" in said[-1].text
    return mentor


async def welcomed_mentor(mentor: Driver) -> list:
    """A mentor opens the bot before their chat is linked and agrees to the mentors' notice:
    on Telegram they say they are a mentor and share their number; elsewhere it is known."""
    said = await mentor.text("/start")
    if isinstance(mentor, TelegramDriver):
        said = await mentor.press(said[-1].key_of("Saya pendamping"))
        assert said[-1].ask_contact
        said = await mentor.share_contact(MENTOR_PHONE)
    assert "Terima kasih atas kerja Anda sebagai pendamping" in said[-1].text
    return await mentor.press(said[-1].key_of("SETUJU"))


def mentor_on(h: Harness, channel: str) -> Driver:
    """The seeded mentor's driver on this channel."""
    if channel == "telegram":
        return TelegramDriver(h, user_id=MENTOR_TELEGRAM_ID)
    driver = DRIVERS[channel](h)
    driver.phone = MENTOR_PHONE  # type: ignore[attr-defined]
    if isinstance(driver, WhatsAppDriver):
        driver.user_id = "ID.50000000000000000001"
    return driver


async def menu_key(person: Driver, label_part: str) -> list:
    """Open the menu and choose the line whose label contains `label_part`."""
    said = await person.text("MENU")
    return await person.press(said[-1].key_of(label_part))


async def other_mentor_household(h: Harness) -> int:
    """A household of another mentor in another desa."""
    async with await h.session() as s:
        other = await factories.mentor(
            s, name="Budi Santoso", phone="+6281200000099", region_code="6472021002"
        )
        hh = await factories.household(
            s,
            h.rt.vault,
            nik="6472025001900002",
            no_kk="6472020101000002",
            name="Wati Lestari",
            phone="+6281300000099",
            region_code="6472021002",
            mentor_id=other.id,
        )
        return hh.id


async def ids(h: Harness) -> tuple[Mentor, Household]:
    """The seeded mentor and household."""
    async with await h.session() as s:
        mentor = await s.scalar(select(Mentor).where(Mentor.phone == MENTOR_PHONE))
        household = await s.scalar(select(Household).where(Household.phone == HOUSEHOLD_PHONE))
        assert mentor is not None and household is not None
        return mentor, household


async def report_in_chat(
    person: Driver,
    *,
    state: str = "Berjalan",
    omzet: str = "1,5 juta",
    problem: str = "Modal",
    urgent: str = "Tidak, bisa menunggu",
    send: bool = True,
) -> list:
    """The household sends a monthly business report by chat, answering each question."""
    said = await menu_key(person, "Lapor usaha")
    assert "Laporan usaha " in said[-1].text
    said = await person.press(said[-1].key_of(state))
    if state != "Tutup":
        assert "Berapa omzet" in said[-1].text
        said = await person.text(omzet)
    said = await person.press(said[-1].key_of(problem))
    if problem != "Tidak ada masalah":
        said = await person.press(said[-1].key_of(urgent))
    assert "Kirim foto usaha" in said[-1].text
    said = await person.press(said[-1].key_of("Lewati"))
    assert "Apakah sudah benar?" in said[-1].text
    if send:
        said = await person.press(said[-1].key_of("Ya, kirim laporan"))
    return said


async def ask_training(
    person: Driver, topic: str = "Pengolahan pangan", note: str | None = "Saya jual keripik"
) -> list:
    """The household asks for a training by chat, with a note or without one."""
    said = await menu_key(person, "Ajukan permintaan")
    assert "Apa yang ingin Anda ajukan?" in said[-1].text
    said = await person.press(said[-1].key_of("Pelatihan"))
    said = await person.press(said[-1].key_of(topic))
    assert "Tulis catatan singkat" in said[-1].text
    if note is None:
        return await person.press(said[-1].key_of("Lewati"))
    return await person.text(note)
