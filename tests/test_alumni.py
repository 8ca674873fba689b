"""The graduates' community: a graduate lists its business with its own yes (and takes it down),
anyone linked finds it in chat in their own words, a mentor pairs a peer mentor with a family and
both hear it, partner offices read the listing, and erasure and BERHENTI leave nothing listed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from storage import alumni, erasure, partners
from storage.models import AlumniListing, Conversation, GraduationStage, Household, PeerPairing
from tests import factories
from tests import ladder_factories as lf
from tests.admin_world import PASSWORD, login
from tests.case_helpers import (
    HOUSEHOLD_PHONE,
    linked,
    linked_mentor,
    menu_key,
    person_on,
    seed,
)
from tests.conftest import T0
from tests.drivers import DRIVERS, Driver, TelegramDriver
from tests.harness import Harness

SEARCHER_CHAT = 700300
MENTEE_CHAT = 700301


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same graduate household, on each channel in turn."""
    return person_on(request, harness)


def _stage(household_id: int, stage: str = "mandiri") -> GraduationStage:
    """A household's place on the path (mandiri unless told)."""
    rank = {"mandiri": 5, "usaha_berjalan": 4}[stage]
    return GraduationStage(
        household_id=household_id, stage=stage, rank=rank, since=T0.date(), since_at=T0,
        updated_at=T0,
    )  # fmt: skip


async def _graduate(h: Harness) -> tuple[int, int]:
    """The seeded mentor and household, the household graduated (mandiri)."""
    mentor_id, household_id = await seed(h)
    async with await h.session() as s:
        s.add(_stage(household_id))
        await s.commit()
    return mentor_id, household_id


async def _other_family(
    h: Harness, *, user_id: int, mentor_id: int | None = None, n: int = 2, **extra: object
) -> int:
    """Another household (of the mentor, when given) with a linked Telegram chat at the menu."""
    async with await h.session() as s:
        hh = await factories.household(
            s, h.rt.vault, nik=f"64720250019000{n:02d}", no_kk=f"64720101010000{n:02d}",
            name=f"Wati Lestari {n}", phone=f"+62813000002{n:02d}", mentor_id=mentor_id,
            **extra,  # type: ignore[arg-type]
        )  # fmt: skip
        chat = lf.chat(s, user_id=user_id, household_id=hh.id)
        await s.flush()
        s.add(
            Conversation(identity_id=chat.id, journey="menu", step="choose", data={}, updated_at=T0)
        )
        await s.commit()
        return hh.id


async def _listing(h: Harness, household_id: int) -> AlumniListing | None:
    async with await h.session() as s:
        return await alumni.of_household(s, household_id)


async def _list_in_chat(person: Driver, *, share: bool = True, agree: bool = True) -> list:
    """The graduate lists "Jahitan Bu Siti" from the menu, answering each question."""
    said = await menu_key(person, "Komunitas lulusan")
    assert "Komunitas lulusan" in said[-1].text
    said = await person.press(said[-1].key_of("Cantumkan usaha saya"))
    assert "Apa nama usaha Anda?" in said[-1].text
    said = await person.text("Jahitan Bu Siti")
    said = await person.press(said[-1].key_of("Jahit dan konveksi"))
    assert "nomor HP" in said[-1].text
    said = await person.press(said[-1].key_of("Ya, tampilkan" if share else "Tidak, jangan"))
    summary = said[-1].text
    assert "Jahitan Bu Siti (Jahit dan konveksi), desa Rawa Makmur" in summary
    assert (HOUSEHOLD_PHONE in summary) is share and "HAPUS IKLAN" in summary
    said = await person.press(said[-1].key_of("Ya, cantumkan" if agree else "Tidak, jangan"))
    return said


async def _search(h: Harness, words: str) -> str:
    """What a linked family reads when it types `words`."""
    said = await TelegramDriver(h, user_id=SEARCHER_CHAT).text(words)
    return said[-1].text


async def _list(h: Harness, household_id: int, name: str, kind: str, *, share: bool) -> None:
    """A graduate listed through storage, as the chat does after its yes."""
    async with await h.session() as s:
        household = await s.get(Household, household_id)
        assert household is not None
        await alumni.list_business(s, household, name=name, kind=kind, share_phone=share, now=h.now)
        await s.commit()


# Listing, with consent, on every channel ---------------------------------------------------


async def test_a_graduate_lists_its_business_and_another_family_finds_it(
    harness: Harness, person: Driver
) -> None:
    _mentor, household_id = await _graduate(harness)
    await _other_family(harness, user_id=SEARCHER_CHAT)
    await linked(person)
    said = await _list_in_chat(person)
    assert "Usaha Anda sudah dicantumkan" in said[-1].text
    row = await _listing(harness, household_id)
    assert row is not None and row.listed_at == harness.now and row.share_phone
    found = await _search(harness, "cari usaha: jahit Samarinda")
    assert "Usaha para lulusan (1)" in found
    assert (
        f"Jahitan Bu Siti: Jahit dan konveksi, desa Rawa Makmur (Kota Samarinda), {HOUSEHOLD_PHONE}"
        in found
    )


async def test_without_the_last_yes_nothing_is_listed(harness: Harness, person: Driver) -> None:
    _mentor, household_id = await _graduate(harness)
    await _other_family(harness, user_id=SEARCHER_CHAT)
    await linked(person)
    said = await _list_in_chat(person, agree=False)
    assert "Tidak ada yang dicantumkan" in said[-1].text
    assert await _listing(harness, household_id) is None
    assert "Belum ada usaha yang Anda cari" in await _search(harness, "cari usaha jahit")


async def test_hapus_iklan_takes_the_business_down_and_keeps_the_dates(
    harness: Harness, person: Driver
) -> None:
    _mentor, household_id = await _graduate(harness)
    await _other_family(harness, user_id=SEARCHER_CHAT)
    await linked(person)
    await _list_in_chat(person)
    harness.advance(days=3)
    said = await person.text("HAPUS IKLAN")
    assert "tidak dicantumkan lagi" in said[0].text
    row = await _listing(harness, household_id)
    assert row is not None and row.listed_at is None and row.withdrawn_at == harness.now
    assert row.business_name is None and not row.share_phone
    assert "Belum ada usaha yang Anda cari" in await _search(harness, "cari usaha jahit")
    said = await person.text("HAPUS IKLAN")
    assert "tidak sedang dicantumkan" in said[0].text


async def test_the_phone_is_shown_only_when_the_family_agreed(harness: Harness) -> None:
    person = TelegramDriver(harness, user_id=700299)
    await _graduate(harness)
    await _other_family(harness, user_id=SEARCHER_CHAT)
    # The household's Telegram chat links by sharing its own contact.
    await linked(person)
    await _list_in_chat(person, share=False)
    found = await _search(harness, "cari usaha jahit")
    assert "Jahitan Bu Siti" in found and HOUSEHOLD_PHONE not in found


async def test_a_family_not_yet_independent_is_not_offered_a_listing(harness: Harness) -> None:
    _mentor, household_id = await seed(harness)
    async with await harness.session() as s:
        s.add(_stage(household_id, "usaha_berjalan"))
        household = await s.get(Household, household_id)
        assert household is not None
        with pytest.raises(alumni.NotGraduate):
            await alumni.list_business(s, household, name="X", kind="kue", share_phone=True, now=T0)
        await s.commit()
    person = TelegramDriver(harness, user_id=700299)
    await linked(person)
    said = await menu_key(person, "Komunitas lulusan")
    assert "Usaha apa yang Anda cari?" in said[-1].text and not said[-1].choices


async def test_the_graduation_path_of_a_graduate_offers_the_community(harness: Harness) -> None:
    await _graduate(harness)
    person = TelegramDriver(harness, user_id=700299)
    await linked(person)
    said = await person.text("PERJALANAN USAHA")
    assert "ketik ALUMNI" in said[-1].text


# Searching in one's own words ----------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        "cari usaha: jahit Samarinda",
        "Cari Usaha Jahit",
        "cari usahaa jahti samrinda",  # typos in the command and in both words searched
        "mencari usaha penjahit di palaran",
        "direktroi usaha konveksi",
        "carikan usaha jahit rawa makmur",
    ],
)
async def test_a_search_is_understood_as_people_type_it(harness: Harness, words: str) -> None:
    _mentor, household_id = await _graduate(harness)
    other = await _other_family(harness, user_id=SEARCHER_CHAT, region_code="6471011001")
    async with await harness.session() as s:
        s.add(_stage(other))
        await s.commit()
    await _list(harness, household_id, "Jahitan Bu Siti", "jahit", share=False)
    await _list(harness, other, "Kue Bu Wati", "kue", share=True)
    found = await _search(harness, words)
    assert "Jahitan Bu Siti" in found and "Kue Bu Wati" not in found


async def test_cari_usaha_alone_asks_what_to_look_for_then_searches(harness: Harness) -> None:
    _mentor, household_id = await _graduate(harness)
    await _other_family(harness, user_id=SEARCHER_CHAT)
    await _list(harness, household_id, "Jahitan Bu Siti", "jahit", share=False)
    assert "Usaha apa yang Anda cari?" in await _search(harness, "cari usaha")
    assert "Jahitan Bu Siti" in await _search(harness, "jahit")
    assert "Belum ada usaha yang Anda cari" in await _search(harness, "cari usaha bengkel")


async def test_a_mentor_searches_in_own_words(harness: Harness) -> None:
    _mentor, household_id = await _graduate(harness)
    await _list(harness, household_id, "Jahitan Bu Siti", "jahit", share=True)
    mentor = await linked_mentor(harness)
    said = await mentor.text("cari usaha jahit samarinda")
    assert "Jahitan Bu Siti" in said[-1].text and HOUSEHOLD_PHONE in said[-1].text
    said = await menu_key(mentor, "Komunitas lulusan")
    said = await mentor.press(said[-1].key_of("Cari usaha"))
    assert "Usaha apa yang Anda cari?" in said[-1].text
    said = await mentor.text("penjahit")
    assert "Jahitan Bu Siti" in said[-1].text


async def test_a_relapsed_household_is_no_longer_found(harness: Harness) -> None:
    _mentor, household_id = await _graduate(harness)
    await _other_family(harness, user_id=SEARCHER_CHAT)
    await _list(harness, household_id, "Jahitan Bu Siti", "jahit", share=False)
    async with await harness.session() as s:
        stage = await s.get(GraduationStage, household_id)
        assert stage is not None
        stage.stage, stage.rank = "usaha_berjalan", 4
        await s.commit()
    assert "Belum ada usaha yang Anda cari" in await _search(harness, "cari usaha jahit")


# Erasure and BERHENTI --------------------------------------------------------------------------


async def _rows(h: Harness, household_id: int) -> int:
    """The household's listing and pairing rows left."""
    async with await h.session() as s:
        listed = await s.scalar(
            select(func.count())
            .select_from(AlumniListing)
            .where(AlumniListing.household_id == household_id)
        )
        paired = await s.scalar(
            select(func.count()).select_from(PeerPairing).where(
                (PeerPairing.household_id == household_id) | (PeerPairing.peer_household_id == household_id)
            )
        )  # fmt: skip
        return int(listed or 0) + int(paired or 0)


async def _listed_and_paired(h: Harness) -> tuple[int, int]:
    """A graduate listed and offered as a peer, paired with another family of its mentor."""
    mentor_id, household_id = await _graduate(h)
    mentee = await _other_family(h, user_id=MENTEE_CHAT, mentor_id=mentor_id)
    await _list(h, household_id, "Jahitan Bu Siti", "jahit", share=True)
    async with await h.session() as s:
        household = await s.get(Household, household_id)
        assert household is not None
        await alumni.offer_peer(s, household, offer=True, now=h.now)
        await alumni.pair(
            s, peer_household_id=household_id, household_id=mentee, mentor_id=mentor_id, now=h.now
        )
        await s.commit()
    return household_id, mentee


async def test_erasure_removes_the_listing_and_the_pairings(harness: Harness) -> None:
    household_id, _mentee = await _listed_and_paired(harness)
    assert await _rows(harness, household_id) == 2
    async with await harness.session() as s:
        counts = await erasure.erase_household(
            s,
            household_id=household_id,
            media_root=None,
            actor="test",
            reference=None,
            now=harness.now,
        )
        await s.commit()
    assert counts["alumni_listing"] == 2 and await _rows(harness, household_id) == 0
    mentor = await linked_mentor(harness)
    said = await mentor.text("cari usaha jahit")
    assert "Jahitan Bu Siti" not in said[-1].text


async def test_a_restriction_removes_the_listing(harness: Harness) -> None:
    household_id, _mentee = await _listed_and_paired(harness)
    async with await harness.session() as s:
        await erasure.restrict_household(
            s, household_id=household_id, actor="test", reference=None, now=harness.now
        )
        await s.commit()
    assert await _rows(harness, household_id) == 0


async def test_berhenti_removes_the_listing(harness: Harness, person: Driver) -> None:
    _mentor, household_id = await _graduate(harness)
    await linked(person)
    await _list_in_chat(person)
    said = await person.text("BERHENTI")
    assert "MULAI" in said[-1].text
    assert await _rows(harness, household_id) == 0


# Peer mentors ----------------------------------------------------------------------------------


async def test_a_mentor_pairs_a_peer_mentor_and_both_families_are_told(harness: Harness) -> None:
    mentor_id, household_id = await _graduate(harness)
    await _list(harness, household_id, "Jahitan Bu Siti", "jahit", share=True)
    mentee = await _other_family(harness, user_id=MENTEE_CHAT, mentor_id=mentor_id)
    peer = TelegramDriver(harness, user_id=700299)
    await linked(peer)
    said = await menu_key(peer, "Komunitas lulusan")
    said = await peer.press(said[-1].key_of("Jadi pendamping sebaya"))
    assert "Apakah Anda setuju?" in said[-1].text
    said = await peer.text("iya")
    assert "Terima kasih" in said[0].text
    mentor = await linked_mentor(harness)
    said = await menu_key(mentor, "Komunitas lulusan")
    said = await mentor.press(said[-1].key_of("Pasangkan pendamping sebaya"))
    assert "Siti A***** R*****" in said[-1].text and "Jahitan Bu Siti" in said[-1].text
    said = await mentor.press(said[-1].key_of("Siti"))
    assert "Keluarga mana" in said[-1].text
    assert "Siti" not in " ".join(label for _key, label in said[-1].choices)  # not the peer itself
    said = await mentor.press(said[-1].key_of("Wati"))
    said = await mentor.press(said[-1].key_of("Ya, pasangkan"))
    assert "sudah diberi tahu" in said[0].text
    told_peer = [s.text for s in await peer.news()]
    told_family = [s.text for s in await TelegramDriver(harness, user_id=MENTEE_CHAT).news()]
    assert any("pendamping sebaya keluarga Wati L******" in t for t in told_peer), told_peer
    assert any(
        "Siti A***** R*****" in t and "Jahitan Bu Siti" in t and HOUSEHOLD_PHONE in t
        for t in told_family
    ), told_family
    async with await harness.session() as s:
        (pairing,) = list(await s.scalars(select(PeerPairing)))
        assert (pairing.peer_household_id, pairing.household_id, pairing.mentor_id) == (
            household_id, mentee, mentor_id,
        )  # fmt: skip


async def test_a_mentor_pairs_only_own_families_with_peers_who_offered(harness: Harness) -> None:
    mentor_id, household_id = await _graduate(harness)
    mentee = await _other_family(harness, user_id=MENTEE_CHAT, mentor_id=mentor_id)
    async with await harness.session() as s:
        with pytest.raises(alumni.NotGraduate):  # listed is not offered
            await alumni.pair(
                s, peer_household_id=household_id, household_id=mentee, mentor_id=mentor_id, now=T0
            )
    mentor = await linked_mentor(harness)
    said = await menu_key(mentor, "Komunitas lulusan")
    said = await mentor.press(said[-1].key_of("Pasangkan pendamping sebaya"))
    assert "Belum ada lulusan" in said[0].text


# Partner offices -------------------------------------------------------------------------------


async def _partner_page(h: Harness, username: str) -> httpx.Response:
    """The businesses page as a partner office's staff member, signed in, reads it."""
    app = h.client._transport.app  # type: ignore[attr-defined]
    app.state.clock = lambda: h.now
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sinergi.test"
    ) as client:
        assert (await login(client, username, PASSWORD)).status_code == 303
        return await client.get("/admin/partner/usaha")


async def test_a_partner_office_reads_only_consented_businesses_of_its_region(
    harness: Harness,
) -> None:
    _mentor, household_id = await _graduate(harness)
    withdrawn = await _other_family(harness, user_id=SEARCHER_CHAT, n=3)
    never = await _other_family(harness, user_id=MENTEE_CHAT, n=4)
    async with await harness.session() as s:
        s.add_all([_stage(withdrawn), _stage(never)])
        for code, region in (("DPK-SMD", "6472"), ("DPK-BPN", "6471")):
            await factories.organisation(
                s, code=code, name=f"Disperindagkop {code}", region_code=region
            )
            await partners.add_partner(
                s, username=code.lower(), password=PASSWORD, organisation_code=code, now=T0
            )
        await s.commit()
    await _list(harness, household_id, "Jahitan Bu Siti", "jahit", share=True)
    await _list(harness, withdrawn, "Kue Ditarik", "kue", share=True)
    async with await harness.session() as s:
        await alumni.withdraw(s, withdrawn, now=harness.now)
        await s.commit()
    page = await _partner_page(harness, "dpk-smd")
    assert page.status_code == 200
    assert "Jahitan Bu Siti" in page.text and HOUSEHOLD_PHONE in page.text
    assert "Kue Ditarik" not in page.text and "Wati Lestari" not in page.text
    page = await _partner_page(harness, "dpk-bpn")
    assert page.status_code == 200 and "Jahitan Bu Siti" not in page.text
    assert "Belum ada lulusan di wilayah Anda" in page.text
