"""Linking a chat to its household: own contact, the mentor's code, NIK + No. KK (rate-limited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import AuditEvent, ChatIdentity, LinkAttempt
from tests import factories
from tests.drivers import TelegramDriver
from tests.harness import Harness

MENTOR_CHAT = 900001


async def _seed(h: Harness) -> None:
    async with await h.session() as s:
        m = await factories.mentor(s)
        await factories.household(s, h.rt.vault, mentor_id=m.id)


async def _consented(h: Harness, user_id: int = 568577002) -> TelegramDriver:
    person = TelegramDriver(h, user_id=user_id)
    await person.text("/start")
    await person.text("SETUJU")
    return person


async def _mentor_online(h: Harness) -> TelegramDriver:
    """The mentor opens the bot and shares their own number."""
    mentor = await _consented(h, MENTOR_CHAT)
    said = await mentor.link_by_phone("+6281200000001")
    assert "Anda terdaftar sebagai pendamping" in said[-1].text
    return mentor


async def test_nik_and_kk_link_and_tell_the_mentor_who_can_undo_it(harness: Harness) -> None:
    await _seed(harness)
    mentor = await _mentor_online(harness)
    person = await _consented(harness)
    await person.press("nik")
    said = await person.text("6472 0165 0381 0001")
    assert "No. KK" in said[-1].text
    said = await person.text(factories.NO_KK)
    assert "tersambung dengan keluarga Siti A***** R*****" in said[-1].text
    notice = harness.telegram_said(MENTOR_CHAT, mentor.seen)[-1]
    assert "memakai NIK" in notice.text and "0001" in notice.text
    assert factories.NIK not in notice.text
    said = await mentor.press(notice.choices[0][0])
    assert "sudah dibatalkan" in said[-1].text
    async with await harness.session() as s:
        identity = await s.scalar(
            select(ChatIdentity).where(ChatIdentity.external_id == "568577002")
        )
        assert identity is not None and identity.household_id is None
        actions = (await s.scalars(select(AuditEvent.action))).all()
    assert {"link", "unlink"} <= set(actions)


async def test_wrong_nik_or_wrong_kk_get_the_same_answer(harness: Harness) -> None:
    await _seed(harness)
    person = await _consented(harness)
    await person.press("nik")
    await person.text("6472016503810002")  # a NIK nobody has
    unknown = (await person.text(factories.NO_KK))[-1].text
    await person.text(factories.NIK)  # the right NIK with a wrong KK
    mismatch = (await person.text("6472010101009999"))[-1].text
    assert unknown == mismatch
    assert "tidak cocok" in unknown


@pytest.mark.parametrize(
    "bad", ["647201650381000", "64720165038100011", "6472013202810001", "0072016503810001"]
)
async def test_malformed_or_impossible_nik_is_asked_again_without_counting(
    harness: Harness, bad: str
) -> None:
    await _seed(harness)
    person = await _consented(harness)
    await person.press("nik")
    said = await person.text(bad)
    assert "NIK terdiri dari 16 angka" in said[-1].text
    async with await harness.session() as s:
        assert (await s.scalars(select(LinkAttempt))).all() == []


async def test_five_tries_per_chat_then_the_pendamping(harness: Harness) -> None:
    await _seed(harness)
    person = await _consented(harness)
    await person.press("nik")
    for i in range(5):
        await person.text(f"647201650381{i + 10:04d}")
        said = await person.text(factories.NO_KK)
        assert "tidak cocok" in said[-1].text
    await person.text(factories.NIK)
    said = await person.text(factories.NO_KK)  # right this time, but the tries are used up
    assert "Terlalu banyak percobaan" in said[-1].text
    harness.advance(minutes=16)
    await person.press("nik")
    await person.text(factories.NIK)
    said = await person.text(factories.NO_KK)
    assert "tersambung" in said[-1].text


async def test_ten_tries_per_nik_per_day_across_chats(harness: Harness) -> None:
    await _seed(harness)
    for chat in range(3):
        person = await _consented(harness, 700 + chat)
        await person.press("nik")
        for _ in range(4 if chat < 2 else 2):
            await person.text(factories.NIK)
            await person.text("6472010101009999")
    attacker = await _consented(harness, 799)
    await attacker.press("nik")
    await attacker.text(factories.NIK)
    said = await attacker.text(factories.NO_KK)
    assert "Terlalu banyak percobaan" in said[-1].text


async def test_mentor_link_code_is_single_use_and_expires(harness: Harness) -> None:
    await _seed(harness)
    mentor = await _mentor_online(harness)
    said = await mentor.press("link_code")
    said = await mentor.text("Siti")
    code = said[-1].text.split(": ", 1)[1].split("\n", 1)[0]
    assert len(code) == 9 and code[4] == "-"
    person = await _consented(harness)
    await person.press("code")
    said = await person.text(code.lower())
    assert "tersambung dengan keluarga" in said[-1].text
    other = await _consented(harness, 1234)
    await other.press("code")
    said = await other.text(code)
    assert "sudah dipakai" in said[-1].text
    # a fresh code, tried after it expired
    await mentor.press("link_code")
    said = await mentor.text(factories.NO_KK)
    late_code = said[-1].text.split(": ", 1)[1].split("\n", 1)[0]
    harness.advance(hours=73)
    await other.text("MENU")
    await other.press("code")
    said = await other.text(late_code)
    assert "sudah tidak berlaku" in said[-1].text


async def test_a_contact_that_is_not_the_senders_is_refused(harness: Harness) -> None:
    await _seed(harness)
    person = await _consented(harness)
    contact = {"phone_number": "6281300000001", "first_name": "Siti", "user_id": 42}
    said = await person._exchange(harness.telegram_update(person.user_id, contact=contact))
    assert "nomor HP Anda sendiri" in said[-1].text
    assert said[-1].ask_contact


async def test_own_contact_not_on_the_roster_offers_the_other_ways(harness: Harness) -> None:
    await _seed(harness)
    person = await _consented(harness)
    said = await person.link_by_phone("+6281377777777")
    assert "tidak ditemukan" in said[0].text
    assert [k for k, _ in said[-1].choices] == ["contact", "code", "nik", "usul"]


async def test_language_switch_to_english_and_back(harness: Harness) -> None:
    await _seed(harness)
    person = await _consented(harness)
    await person.link_by_phone("+6281300000001")
    said = await person.press("language")
    said = await person.press("en")
    assert said[0].text == "Language changed to English."
    assert "Main menu" in said[-1].text
    said = await person.text("status")
    assert "We have no program on record" in said[-1].text
    await person.press("language")
    said = await person.text("1")
    assert said[0].text == "Bahasa diganti ke Bahasa Indonesia."


async def test_batal_leaves_the_nik_step(harness: Harness) -> None:
    await _seed(harness)
    person = await _consented(harness)
    await person.press("nik")
    said = await person.text("batal")
    assert "Mari sambungkan" in said[-1].text


def test_link_code_ttl_setting_is_used(harness: Harness) -> None:
    assert harness.rt.rules.link_code_ttl == timedelta(hours=72)


async def test_nik_is_never_in_clear_at_rest_nor_in_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import sqlalchemy as sa

    from storage.models import Base

    caplog.set_level(logging.DEBUG)
    await _seed(harness)
    person = await _consented(harness)
    await person.press("nik")
    await person.text(factories.NIK)
    await person.text("6472010101009999")  # a failed try first
    await person.text(factories.NIK)
    said = await person.text(factories.NO_KK)
    assert "tersambung" in said[-1].text
    spaced = " ".join(factories.NIK[i : i + 4] for i in range(0, 16, 4))
    assert factories.NIK not in caplog.text and spaced not in caplog.text
    async with await harness.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(sa.select(table))).all():
                assert factories.NIK not in repr(tuple(row)), f"clear NIK in {table.name}"


async def test_a_nik_link_made_before_the_mentor_came_reaches_them_when_they_do(
    harness: Harness,
) -> None:
    """The family links by NIK while its mentor has no chat; the mentor's first chat hears of it."""
    await _seed(harness)
    person = await _consented(harness)
    await person.press("nik")
    await person.text("6472 0165 0381 0001")
    said = await person.text(factories.NO_KK)
    assert "tersambung dengan keluarga" in said[-1].text
    mentor = await _mentor_online(harness)
    notices = [m for m in harness.telegram_said(MENTOR_CHAT) if "memakai NIK" in m.text]
    assert len(notices) == 1 and "0001" in notices[0].text
    # A second chat of the same mentor is not told again: the first one was.
    second = await _consented(harness, MENTOR_CHAT + 1)
    await second.link_by_phone("+6281200000001")
    assert not [m for m in harness.telegram_said(MENTOR_CHAT + 1) if "memakai NIK" in m.text]
    said = await mentor.press(notices[0].choices[0][0])
    assert "sudah dibatalkan" in said[-1].text
