"""Usul: a family not on the roster proposed from an unlinked chat, on every channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import AuditEvent, OutboxMessage, Proposal, Region
from tests.admin_world import csrf_of, signed_in_officer
from tests.drivers import DRIVERS, Driver, TelegramDriver
from tests.harness import Harness

# Not on the roster: nobody's phone.
PHONE = "+6281399990001"
STORY = "Suami buruh harian lepas, anak tiga masih sekolah, rumah kontrak"


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """Someone whose family is not on the roster, on each channel in turn."""
    driver = DRIVERS[request.param](harness)
    if request.param != "telegram":
        driver.phone = PHONE
    return driver


async def _regions(h: Harness) -> None:
    """Two desa of Samarinda and one of Balikpapan."""
    async with await h.session() as s:
        s.add_all(
            [
                Region(code="64", name="Kalimantan Timur", level=1),
                Region(code="6472", name="Kota Samarinda", level=2),
                Region(code="647201", name="Palaran", level=3),
                Region(code="6472011001", name="Rawa Makmur", level=4),
                Region(code="6472011002", name="Handil Bakti", level=4),
                Region(code="6471011001", name="Handil Jaya", level=4),
            ]
        )


async def _propose(person: Driver, *, name: str = "Sumiati Wulandari") -> str:
    """Consent, the four answers, Ya: the last reply."""
    said = await person.text("keluarga saya belum terdaftar bu")
    assert "Tidak perlu NIK" in said[-1].text
    await person.text("1")
    said = await person.text(name)
    assert "desa atau kelurahan" in said[-1].text
    said = await person.text("handil")
    assert "Yang mana?" in said[-1].text  # two desa match: the person chooses
    said = await person.press(said[-1].key_of("Handil Bakti"))
    said = await person.text("0813 9999 0001")
    assert "keadaan keluarga" in said[-1].text
    said = await person.text(STORY)
    assert f"Nama: {name}" in said[-1].text and "Desa: Handil Bakti" in said[-1].text
    said = await person.text("1")
    return said[-1].text


async def test_a_proposal_reaches_the_desas_office_and_the_person_hears_the_outcome(
    person: Driver,
) -> None:
    await _regions(person.h)
    await person.text("/start")
    said = await person.text("SETUJU")
    assert "Keluarga saya belum terdaftar" in said[-1].choices[-1][1]
    assert said[-1].choices[-1][0] == "usul"
    text = await _propose(person)
    assert "Nomor: US-2611-0001" in text
    async with await person.h.session() as s:
        row = await s.scalar(select(Proposal))
        filed = await s.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.filed"))
    assert row is not None and (row.region_code, row.phone, row.about) == (
        "6472011002",
        PHONE,
        STORY,
    )
    assert filed is not None and filed.detail["reference"] == "US-2611-0001"

    samarinda = await signed_in_officer(person.h, "samarinda", "6472")
    balikpapan = await signed_in_officer(person.h, "balikpapan", "6471")
    assert "Sumiati Wulandari" in (await samarinda.get("/admin/proposals")).text
    assert "Sumiati Wulandari" not in (await balikpapan.get("/admin/proposals")).text
    path = f"/admin/proposals/{row.id}/move"
    foreign = await balikpapan.post(
        path, data={"csrf_token": await csrf_of(balikpapan), "action": "register"}
    )
    assert foreign.status_code == 404
    token = await csrf_of(samarinda)
    blank = await samarinda.post(path, data={"csrf_token": token, "action": "decline"})
    assert blank.headers["location"].endswith("error=reason")
    declined = await samarinda.post(
        path,
        data={"csrf_token": token, "action": "decline", "note": "Sudah terdaftar atas nama suami"},
    )
    assert declined.status_code == 303
    await person.h.work()
    async with await person.h.session() as s:
        moved = await s.get(Proposal, row.id)
        told = [
            (m.payload.get("text", ""), m.state)
            for m in await s.scalars(
                select(OutboxMessage).where(OutboxMessage.identity_id == row.identity_id)
            )
        ]
    assert moved is not None and (moved.state, moved.decided_by) == ("ditolak", "samarinda")
    assert [
        state
        for text, state in told
        if "tidak menerima usulan US-2611-0001" in text
        and "Alasan: Sudah terdaftar atas nama suami" in text
    ] == ["sent"]


async def test_proposals_are_limited_per_chat(person: Driver) -> None:
    await _regions(person.h)
    await person.text("/start")
    await person.text("SETUJU")
    for n in range(2):
        assert "Nomor: US-2611-000" in await _propose(person, name=f"Keluarga Nomor {n + 1}")
    said = await person.text("kami belum terdaftar")
    assert "Usulan sudah dikirim dari chat ini" in "\n".join(m.text for m in said)
    async with await person.h.session() as s:
        assert len(list(await s.scalars(select(Proposal)))) == 2


async def test_proposals_are_limited_per_phone_across_chats(harness: Harness) -> None:
    await _regions(harness)
    for user_id in (900001, 900002):
        chat = TelegramDriver(harness, user_id=user_id)
        await chat.text("/start")
        await chat.text("SETUJU")
        await _propose(chat, name=f"Keluarga {user_id}")
    third = TelegramDriver(harness, user_id=900003)
    await third.text("/start")
    await third.text("SETUJU")
    await third.text("saya belum terdaftar")
    await third.text("1")
    await third.text("Keluarga Ketiga")
    await third.text("handil")
    said = await third.press("desa:6472011002")
    said = await third.text("0813 9999 0001")  # the same number as the two before
    assert "Usulan sudah dikirim dari chat ini atau untuk nomor ini" in said[0].text
    async with await harness.session() as s:
        assert len(list(await s.scalars(select(Proposal)))) == 2
