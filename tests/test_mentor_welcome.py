"""A mentor who opens the bot before their chat is linked: the mentors' welcome, not the household's notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.identities import MENTOR_NOTICE_VERSION
from storage.models import ChatIdentity, Consent
from tests.case_helpers import MENTOR_PHONE, mentor_on, seed, welcomed_mentor
from tests.drivers import DRIVERS, Driver, TelegramDriver
from tests.harness import Harness

# Words of the household's privacy notice that a mentor must never read after saying who they are.
HOUSEHOLD_NOTICE = "data keluarga Anda dari data sosial"


@pytest.fixture(params=sorted(DRIVERS))
def mentor(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The seeded mentor, on each channel in turn."""
    return mentor_on(harness, request.param)


async def test_a_mentor_is_welcomed_as_a_mentor_and_gets_the_mentor_menu(mentor: Driver) -> None:
    await seed(mentor.h)
    said = await welcomed_mentor(mentor)
    assert "Terima kasih, Rina Marlina. Anda terdaftar sebagai pendamping." in said[-1].text
    assert "Menu pendamping" in said[-1].text
    async with await mentor.h.session() as s:
        identity = await s.scalar(select(ChatIdentity))
        assert identity is not None and identity.mentor_id is not None
        assert identity.household_id is None and identity.phone == MENTOR_PHONE
        consent = await s.scalar(select(Consent))
        assert consent is not None and consent.notice_version == MENTOR_NOTICE_VERSION


@pytest.mark.parametrize("channel", ["simulator", "whatsapp"])
async def test_where_the_number_is_known_the_first_answer_is_the_mentors_welcome(
    harness: Harness, channel: str
) -> None:
    """WhatsApp and the simulator know the number (Telegram does not): no household notice."""
    mentor = mentor_on(harness, channel)
    await seed(harness)
    said = await mentor.text("halo")
    assert HOUSEHOLD_NOTICE not in said[-1].text
    assert "Halo Rina Marlina, selamat datang di Sinergi" in said[-1].text
    assert [label for _key, label in said[-1].choices] == ["SETUJU", "Tidak setuju"]


async def test_on_telegram_the_notice_offers_the_mentor_way(harness: Harness) -> None:
    await seed(harness)
    mentor = mentor_on(harness, "telegram")
    said = await mentor.text("/start")
    assert HOUSEHOLD_NOTICE in said[-1].text
    said = await mentor.press(said[-1].key_of("Saya pendamping"))
    assert "Supaya kami kenali sebagai pendamping" in said[-1].text and said[-1].ask_contact
    assert HOUSEHOLD_NOTICE not in said[-1].text


async def test_a_number_not_on_the_mentors_list_is_not_kept(harness: Harness) -> None:
    """A household that pressed "Saya pendamping" by mistake reads the household notice again."""
    await seed(harness)
    person = TelegramDriver(harness)
    said = await person.text("/start")
    await person.press(said[-1].key_of("Saya pendamping"))
    said = await person.share_contact("+6281300000001")
    assert "Nomor ini tidak ada di daftar pendamping." in said[0].text
    assert HOUSEHOLD_NOTICE in said[-1].text
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
        assert identity is not None
        assert identity.phone is None and identity.mentor_id is None and identity.consent_at is None


async def test_someone_elses_contact_does_not_make_a_mentor(harness: Harness) -> None:
    await seed(harness)
    person = TelegramDriver(harness)
    said = await person.text("/start")
    await person.press(said[-1].key_of("Saya pendamping"))
    said = await person.share_contact(MENTOR_PHONE, own=False)
    assert "nomor HP Anda sendiri" in said[0].text
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
        assert identity is not None and identity.mentor_id is None and identity.phone is None


async def test_a_mentor_who_does_not_agree_is_respected_and_can_agree_later(
    mentor: Driver,
) -> None:
    await seed(mentor.h)
    said = await mentor.text("/start")
    if isinstance(mentor, TelegramDriver):
        await mentor.press(said[-1].key_of("Saya pendamping"))
        said = await mentor.share_contact(MENTOR_PHONE)
    said = await mentor.press(said[-1].key_of("Tidak setuju"))
    assert "Tanpa persetujuan Anda, Sinergi tidak bisa mengirim kabar" in said[-1].text
    said = await mentor.text("SETUJU")
    assert "Menu pendamping" in said[-1].text
