"""A partner's own chat: linked by the number on their account, as a mentor's is, then a short
menu to answer the referrals sent to their office, with the household and mentor told.

Runs through the real conversation core on the Telegram and WhatsApp fakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from handlers import notices
from storage import partners
from storage.identities import PARTNER_NOTICE_VERSION
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Consent,
    Household,
    Organisation,
    Referral,
    StaffUser,
)
from tests import factories
from tests.case_helpers import seed
from tests.drivers import Driver, TelegramDriver, WhatsAppDriver
from tests.harness import Harness, Said

PARTNER_PHONE = "+6281255550077"
PASSWORD = "kata-sandi-yang-panjang"
FAMILY_CHAT, MENTOR_CHAT, PARTNER_TELEGRAM = 730101, 730001, 730201
# What a partner must never read: the household's NIK (masked or not), its No. KK, and
# anything of the other organisation's referral.
SECRETS = ("6472015001900001", "6472********0001", "Rahasia", "NIK")


@dataclass
class Office:
    """Samarinda's Disperindagkop with two referrals waiting, and another office's one."""

    mine: list[int]
    foreign: int
    household: int


async def _office(h: Harness) -> Office:
    """The seeded family and mentor with chats of their own, two offices, a partner account of
    each (ours with its own number), two referrals to ours and one to the other office."""
    mentor_id, household_id = await seed(h)
    async with await h.session() as s:
        ours = await factories.organisation(s)
        other = await factories.organisation(
            s, code="NAKER-BPN", name="Disnakertrans Balikpapan", kind="disnakertrans"
        )
        await partners.add_partner(
            s,
            username="mitra-smd",
            password=PASSWORD,
            organisation_code=ours.code,
            now=h.now,
            phone=PARTNER_PHONE,
        )
        await partners.add_partner(
            s, username="mitra-bpn", password=PASSWORD, organisation_code=other.code, now=h.now
        )
        s.add_all(
            [
                ChatIdentity(
                    channel="telegram",
                    external_id=str(FAMILY_CHAT),
                    household_id=household_id,
                    consent_at=h.now,
                    created_at=h.now,
                ),
                ChatIdentity(
                    channel="telegram",
                    external_id=str(MENTOR_CHAT),
                    mentor_id=mentor_id,
                    consent_at=h.now,
                    created_at=h.now,
                ),
            ]
        )
        rows = [
            _referral(household_id, ours, "Pelatihan pengemasan", h),
            _referral(household_id, ours, "Izin usaha PIRT", h),
            _referral(household_id, other, "Pelatihan Rahasia", h),
        ]
        for row in rows:
            s.add(row)
            await s.flush()
        await s.commit()
        return Office([rows[0].id, rows[1].id], rows[2].id, household_id)


def _referral(household_id: int, organisation: Organisation, asked: str, h: Harness) -> Referral:
    """A referral sent today, waiting for the organisation's answer."""
    return Referral(
        household_id=household_id,
        region_code="6472011001",
        office=organisation.kind,
        organisation_id=organisation.id,
        asked=asked,
        why="Usaha keripik sudah jalan 6 bulan",
        state="dikirim",
        created_by="petugas-smd",
        sent_at=h.now,
        updated_at=h.now,
    )


@pytest.fixture(params=["telegram", "whatsapp"])
def partner(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The partner of Disperindagkop Samarinda, on each channel in turn."""
    if request.param == "telegram":
        return TelegramDriver(harness, user_id=PARTNER_TELEGRAM)
    return WhatsAppDriver(harness, phone=PARTNER_PHONE, user_id="ID.60000000000000000001")


async def _linked(partner: Driver) -> list[Said]:
    """The partner opens the bot, is recognised by their number, agrees: the partner menu.

    On Telegram they say who they are and share their number; WhatsApp knows it already."""
    said = await partner.text("halo")
    if isinstance(partner, TelegramDriver):
        said = await partner.press(said[-1].key_of("Saya pendamping"))
        assert said[-1].ask_contact
        said = await partner.share_contact(PARTNER_PHONE)
    assert "akun mitra mitra-smd" in said[-1].text, said[-1].text
    assert "data keluarga Anda" not in said[-1].text  # not the household's notice
    return await partner.press(said[-1].key_of("SETUJU"))


def _labels(said: Said) -> list[str]:
    """The choices' labels as the person reads them, without Telegram's leading numbers."""
    return [re.sub(r"^\d+\. ", "", label) for _key, label in said.choices]


def _everything(said: list[Said]) -> str:
    """All the partner read, texts and choice labels."""
    return "\n".join(s.text + "\n" + "\n".join(label for _k, label in s.choices) for s in said)


async def test_a_partner_links_their_chat_by_their_number_and_gets_the_partner_menu(
    partner: Driver,
) -> None:
    await _office(partner.h)
    said = await _linked(partner)
    assert "Disperindagkop Kota Samarinda" in said[-1].text
    assert "Menu mitra" in said[-1].text
    assert _labels(said[-1])[0] == "Rujukan menunggu jawaban"
    async with await partner.h.session() as s:
        chat = await s.scalar(select(ChatIdentity).where(ChatIdentity.staff_id.is_not(None)))
        assert chat is not None and chat.channel == partner.channel
        assert chat.household_id is None and chat.mentor_id is None
        staff = await s.get(StaffUser, chat.staff_id)
        assert staff is not None and staff.username == "mitra-smd"
        consent = await s.scalar(select(Consent).where(Consent.identity_id == chat.id))
        assert consent is not None and consent.notice_version == PARTNER_NOTICE_VERSION


async def test_a_partner_accepts_with_a_date_then_closes_and_the_family_and_mentor_hear_it(
    partner: Driver,
) -> None:
    office = await _office(partner.h)
    h = partner.h
    said = await _linked(partner)
    said = await partner.press(said[-1].key_of("menunggu jawaban"))
    assert _labels(said[-1]) == [
        "Siti Aminah Rahayu, Rawa Makmur: Pelatihan pengemasan",
        "Siti Aminah Rahayu, Rawa Makmur: Izin usaha PIRT",
    ]
    seen = list(said)
    said = await partner.text("1")  # typed, as on any channel
    seen += said
    assert "Usaha keripik sudah jalan 6 bulan" in said[-1].text
    assert "+6281300000001" in said[-1].text  # the family's number, to reach them
    said = await partner.press("accept")
    said = await partner.text("15-01-2027")
    assert "Diterima" in said[-1].text and "Menu mitra" in said[-1].text
    async with await h.session() as s:
        row = await s.get(Referral, office.mine[0])
        assert row is not None and row.state == "diterima"
        assert row.plan_date is not None and row.plan_date.isoformat() == "2027-01-15"
        assert row.answered_by == "mitra-smd"
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "referral.accept"))
        assert event is not None and event.actor == "mitra-smd"
        assert event.household_id == office.household
    family = h.telegram_said(FAMILY_CHAT)
    assert any("Kabar baik!" in m.text and "15 Januari 2027" in m.text for m in family), family
    mentor = h.telegram_said(MENTOR_CHAT)
    assert any("Pelatihan pengemasan" in m.text for m in mentor), mentor

    said = await partner.text("MENU")
    said = await partner.press(said[-1].key_of("diterima"))
    said = await partner.press(f"ref:{office.mine[0]}")
    said = await partner.press("close")
    seen += said
    said = await partner.press(said[-1].key_of("ikut pelatihan"))
    assert "Selesai" in said[-1].text
    async with await h.session() as s:
        row = await s.get(Referral, office.mine[0])
        assert row is not None and row.state == "selesai" and row.outcome == "trained"
    assert any("selesai" in m.text.lower() for m in h.telegram_said(FAMILY_CHAT)[len(family) :])
    for secret in SECRETS:
        assert secret not in _everything(seen), secret


async def test_a_partner_declines_with_a_reason(partner: Driver) -> None:
    office = await _office(partner.h)
    said = await _linked(partner)
    said = await partner.press(said[-1].key_of("menunggu jawaban"))
    said = await partner.press(f"ref:{office.mine[1]}")
    said = await partner.press("decline")
    said = await partner.text("Kuota PIRT tahun ini sudah penuh")
    assert "Ditolak" in said[-1].text
    async with await partner.h.session() as s:
        row = await s.get(Referral, office.mine[1])
        assert row is not None and row.state == "ditolak"
        assert row.reason == "Kuota PIRT tahun ini sudah penuh"
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "referral.decline"))
        assert event is not None and event.actor == "mitra-smd"
    family = partner.h.telegram_said(FAMILY_CHAT)
    assert any("Kuota PIRT tahun ini sudah penuh" in m.text for m in family), family


async def test_another_offices_referral_cannot_be_reached_by_its_number(partner: Driver) -> None:
    office = await _office(partner.h)
    said = await _linked(partner)
    said = await partner.press(said[-1].key_of("menunggu jawaban"))
    assert len(said[-1].choices) == 2 and office.foreign > 2
    seen = list(said)
    said = await partner.press(f"ref:{office.foreign}")  # a forged button press
    seen += said
    assert "bukan rujukan kantor Anda" in said[-1].text
    said = await partner.press("accept")  # and no step on it can follow
    seen += said
    assert "Kapan atau bagaimana" not in said[-1].text
    said = await partner.press("referrals_waiting")
    for typed in (str(office.foreign), f"ref:{office.foreign}"):  # its id, its key, typed
        said = await partner.text(typed)
        seen += said
        assert "Mohon pilih salah satu nomor" in said[-1].text
        assert len(said[-1].choices) == 2
    for secret in SECRETS:
        assert secret not in _everything(seen), secret
    async with await partner.h.session() as s:
        row = await s.get(Referral, office.foreign)
        assert row is not None and row.state == "dikirim" and row.answered_by is None


async def test_a_new_referral_reaches_the_partners_linked_chat(partner: Driver) -> None:
    office = await _office(partner.h)
    await _linked(partner)
    async with await partner.h.session() as s:
        row = await s.get(Referral, office.mine[0])
        household = await s.get(Household, office.household)
        assert row is not None and household is not None and row.organisation_id is not None
        organisation = await s.get(Organisation, row.organisation_id)
        assert organisation is not None and organisation.phone is None  # only the partner's own
        assert await notices.referral_received(s, row, household, organisation, now=partner.h.now)
        await s.commit()
    said = await partner.news()
    assert any("Rujukan baru dari Dinsos" in m.text for m in said), said


async def test_a_switched_off_partner_account_unlinks_the_chat(partner: Driver) -> None:
    await _office(partner.h)
    said = await _linked(partner)
    async with await partner.h.session() as s:
        staff = await s.scalar(select(StaffUser).where(StaffUser.username == "mitra-smd"))
        assert staff is not None
        staff.active = False
        await s.commit()
    said = await partner.press("referrals_waiting")
    assert "tidak lagi tersambung ke akun mitra" in said[-1].text
    async with await partner.h.session() as s:
        assert (
            await s.scalar(select(ChatIdentity).where(ChatIdentity.staff_id.is_not(None))) is None
        )
