"""The cooperative's side of membership: the household applies in the chat, the cooperative's own
pengurus verify it and record simpanan pokok and wajib, and the household hears each step and
sees what it still owes in STATUS."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from storage import partners
from storage.models import Membership, ServiceRequest
from tests import factories
from tests.admin_world import PASSWORD, login, signed_in_officer
from tests.case_helpers import linked, menu_key, person_on, seed
from tests.conftest import T0
from tests.drivers import DRIVERS, Driver
from tests.harness import Harness

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _cooperatives(h: Harness) -> None:
    """Rawa Makmur's Kopdes (Rp100.000 once, Rp10.000 a month) and a cooperative elsewhere,
    each with a pengurus account."""
    async with await h.session() as s:
        kopdes = await factories.organisation(
            s, code="KOPDES-RM", name="Kopdes Merah Putih Rawa Makmur", kind="koperasi",
            region_code="6472011001",
        )  # fmt: skip
        kopdes.simpanan_pokok, kopdes.simpanan_wajib = 100_000, 10_000
        other = await factories.organisation(
            s, code="KOPDES-MG", name="Kopdes Merah Putih Manggar", kind="koperasi",
            region_code="6471011001",
        )  # fmt: skip
        for username, org in (("pengurus-rm", kopdes), ("pengurus-mg", other)):
            await partners.add_partner(
                s, username=username, password=PASSWORD, organisation_code=org.code, now=T0
            )


async def _pengurus(h: Harness, username: str) -> tuple[httpx.AsyncClient, str]:
    """A signed-in browser of the cooperative's pengurus, and its CSRF token."""
    app = h.client._transport.app  # type: ignore[attr-defined]
    app.state.clock = lambda: h.now
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sinergi.test"
    )
    assert (await login(client, username, PASSWORD)).status_code == 303
    page = await client.get("/admin/partner")
    token = CSRF.search(page.text)
    assert token, page.text[:300]
    return client, token.group(1)


async def _apply(person: Driver) -> list[str]:
    """The household asks to join from the menu and says yes; what it read on the way."""
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("koperasi"))
    terms = said[-1].text
    said = await person.press(said[-1].key_of("Ya, daftar"))
    return [terms, said[-1].text]


async def _membership(h: Harness) -> Membership:
    async with await h.session() as s:
        (row,) = list(await s.scalars(select(Membership)))
        return row


async def test_a_membership_from_the_chat_to_the_pengurus_and_back(person: Driver) -> None:
    """Applied with the amounts shown; verified, pokok and wajib recorded; each step heard."""
    h = person.h
    await seed(h)
    await _cooperatives(h)
    await linked(person)
    terms, filed = await _apply(person)
    assert "Kopdes Merah Putih Rawa Makmur" in terms
    assert "Simpanan pokok: Rp100.000, dibayar sekali." in terms
    assert "Simpanan wajib: Rp10.000 setiap bulan." in terms
    assert "Nomor: KP-2611-0001" in filed
    row = await _membership(h)
    assert row.state == "diajukan"

    pengurus, token = await _pengurus(h, "pengurus-rm")
    page = (await pengurus.get("/admin/partner")).text
    assert "Siti Aminah Rahayu" in page and "6472016503810001" not in page
    base = f"/admin/partner/memberships/{row.id}"
    assert (await pengurus.post(base + "/verify", data={"csrf_token": token})).status_code == 303
    news = "\n".join(s.text for s in await person.news())
    assert "Kopdes Merah Putih Rawa Makmur: Anda anggota sejak 23 November 2026." in news
    assert "Simpanan pokok: belum dibayar (Rp100.000)." in news
    assert "Simpanan wajib: 1 bulan belum dibayar, sejak November 2026 (Rp10.000)." in news
    async with await h.session() as s:
        request = await s.scalar(select(ServiceRequest))
        assert request is not None and request.state == "disetujui"

    await pengurus.post(base + "/pokok", data={"csrf_token": token, "paid_on": "2026-11-23"})
    await pengurus.post(base + "/wajib", data={"csrf_token": token, "through": "2026-11"})
    said = await person.text("STATUS")
    status = said[-1].text
    assert "Simpanan pokok: sudah dibayar." in status
    assert "Simpanan wajib: sudah dibayar sampai November 2026." in status
    # A month later the next wajib is owed, and STATUS says so.
    h.now = T0.replace(month=12, day=7)
    status = (await person.text("STATUS"))[-1].text
    assert "Simpanan wajib: 1 bulan belum dibayar, sejak Desember 2026 (Rp10.000)." in status


async def test_another_cooperative_cannot_see_or_touch_the_membership(harness: Harness) -> None:
    """Manggar's pengurus do not see Rawa Makmur's applicant and get 404 on its id."""
    person, row = await _applied_on_telegram(harness)
    other, token = await _pengurus(harness, "pengurus-mg")
    assert "Siti Aminah" not in (await other.get("/admin/partner")).text
    for action in ("verify", "refuse", "pokok", "wajib"):
        response = await other.post(
            f"/admin/partner/memberships/{row.id}/{action}",
            data={"csrf_token": token, "reason": "x", "through": "2026-11"},
        )
        assert response.status_code == 404, action
    assert (await _membership(harness)).state == "diajukan"


async def test_a_refusal_needs_a_reason_and_the_household_reads_it(harness: Harness) -> None:
    """No reason: nothing changes; with one, the household hears it and its request is refused."""
    person, row = await _applied_on_telegram(harness)
    pengurus, token = await _pengurus(harness, "pengurus-rm")
    url = f"/admin/partner/memberships/{row.id}/refuse"
    empty = await pengurus.post(url, data={"csrf_token": token, "reason": "  "})
    assert empty.headers["location"].endswith("error=refuse")
    assert (await _membership(harness)).state == "diajukan"
    no_csrf = await pengurus.post(url, data={"reason": "KTP luar desa"})
    assert no_csrf.status_code == 403
    await pengurus.post(url, data={"csrf_token": token, "reason": "KTP bukan dari desa ini"})
    news = "\n".join(s.text for s in await person.news())
    assert "tidak dapat menerima keanggotaan Anda: KTP bukan dari desa ini" in news
    async with await harness.session() as s:
        request = await s.scalar(select(ServiceRequest))
        assert request is not None and request.state == "ditolak"


async def _applied_on_telegram(h: Harness) -> tuple[Driver, Membership]:
    """The household, on Telegram (these tests need one channel), has applied to Rawa Makmur's Kopdes."""
    person = DRIVERS["telegram"](h)
    await seed(h)
    await _cooperatives(h)
    await linked(person)
    await _apply(person)
    return person, await _membership(h)


STORY_LINE = re.compile(
    r'<li class="story-membership">\s*<small><span class="kind">[^<]*</span> · ([^<]*?) · [^<]*</small>\s*(.*?)\s*</li>',
    re.S,
)


async def test_each_membership_step_is_its_own_dated_line_in_the_household_story(
    harness: Harness,
) -> None:
    """Verified, simpanan pokok and each simpanan wajib payment: a line each, on its own day,
    in the officer's story of the household (not only the application's line with today's state)."""
    _person, row = await _applied_on_telegram(harness)

    async def step(action: str, **form: str) -> None:
        """The pengurus sign in (a day later the last session has ended) and record one step."""
        pengurus, token = await _pengurus(harness, "pengurus-rm")
        done = await pengurus.post(
            f"/admin/partner/memberships/{row.id}/{action}", data={"csrf_token": token, **form}
        )
        assert done.headers["location"].endswith("done=membership"), done.headers["location"]

    harness.advance(days=1)
    await step("verify")
    harness.advance(days=2)
    await step("pokok", paid_on="2026-11-25")
    await step("wajib", through="2026-11")
    harness.advance(days=14)
    await step("wajib", through="2026-12")
    officer = await signed_in_officer(harness, "petugas-rm", "6472")
    page = await officer.get(f"/admin/households/{row.household_id}?kind=membership")
    lines = [(when, re.sub(r"\s+", " ", text)) for when, text in STORY_LINE.findall(page.text)]
    cooperative = "Kopdes Merah Putih Rawa Makmur"
    assert [text for _when, text in lines] == [
        f"Mendaftar ke {cooperative} · sekarang: anggota",
        f"Menjadi anggota {cooperative}",
        f"Simpanan pokok dibayar ke {cooperative} · 25 November 2026",
        f"Simpanan wajib dibayar ke {cooperative} · sampai Nov 2026",
        f"Simpanan wajib dibayar ke {cooperative} · sampai Des 2026",
    ], page.text[page.text.find('<ol class="story">') :][:3000]
    days = [when.rsplit(" ", 1)[0] for when, _text in lines]
    assert days[0] != days[1] != days[2] == days[3] != days[4], days
