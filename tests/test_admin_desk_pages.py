"""The officer's desk, page by page: who filed a request, conversations in the officer's time
zone, and the region's official name next to every region code the pages show."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from locales import i18n
from storage import calendar, requests
from storage.models import Household, Region
from tests import factories
from tests.admin_world import World, linked_chat, world_fixture  # noqa: F401
from tests.conftest import T0

WITA_T0 = i18n.long_moment(calendar.local(T0, "WITA"))  # 23 November 2026 10.00
WIB_T0 = i18n.long_moment(calendar.local(T0, "WIB"))


def _visible(html: str) -> str:
    """The page's text without tags, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_conversation_is_dated_by_the_officers_clock_on_every_page(world: World) -> None:
    """Samarinda keeps WITA: the escalation's thread, its polled fragment and the household's
    timeline give the bot's first message one time, 10.00, not WIB's 09.00."""
    async with await world.h.session() as session:
        await linked_chat(session, world.samarinda.household, 7001)
    client = await world.client("samarinda")
    esc = world.samarinda.escalation
    pages = [
        f"/admin/escalations/{esc}",
        f"/admin/escalations/{esc}/thread",
        f"/admin/households/{world.samarinda.household}?kind=message",
    ]
    for path in pages:
        answer = await client.get(path)
        assert answer.status_code == 200, path
        text = _visible(answer.text)
        assert f"{WITA_T0} · Sinergi" in text, (path, text[-800:])
        assert WIB_T0 not in text, path


async def _file(world: World, actor: str) -> tuple[int, str]:
    """A request filed for Samarinda's household by `actor`; its id and reference."""
    async with await world.h.session() as session:
        hh = await session.get(Household, world.samarinda.household)
        assert hh is not None
        row, created = await requests.file_request(
            session,
            household=hh,
            kind="sanggah",
            topic="data_salah",
            details="Nama salah ketik",
            actor=actor,
            now=T0 + timedelta(hours=1),
        )
        assert created
        return row.id, row.reference


@pytest.mark.parametrize(
    ("actor", "shown"),
    [("mentor", "Mentor Siti Aminah Rahayu"), ("staff", "samarinda"), ("chat", "Keluarga")],
)
async def test_a_request_says_who_filed_it(world: World, actor: str, shown: str) -> None:
    """Filed by the mentor, by an officer or by the family: the timeline and the request page
    say so, by name, and only the family's own request reads "Keluarga"."""
    who = {
        "mentor": f"mentor:{world.samarinda.mentor}",
        "staff": f"staff:{world.samarinda.staff}",
        "chat": "chat:1",
    }[actor]
    request_id, reference = await _file(world, who)
    client = await world.client("samarinda")
    story = await client.get(f"/admin/households/{world.samarinda.household}?kind=request")
    entry = next(
        li
        for li in re.findall(r"<li class=\"story-request.*?</li>", story.text, re.S)
        if reference in li
    )
    assert f"· {shown}" in _visible(entry), _visible(entry)
    if actor != "chat":
        assert "Keluarga" not in _visible(entry)
    page = await client.get(f"/admin/requests/{request_id}")
    filed = re.search(r"<dt>Diajukan oleh</dt><dd>(.*?)</dd>", page.text, re.S)
    assert filed is not None, _visible(page.text)[:1500]
    assert _visible(filed.group(1)).strip() == shown


async def test_an_old_request_without_its_filer_reads_as_the_familys(world: World) -> None:
    """Requests filed before Sinergi kept the filer were all the family's own (the chat)."""
    client = await world.client("samarinda")
    story = await client.get(f"/admin/households/{world.samarinda.household}?kind=request")
    entry = next(
        li
        for li in re.findall(r"<li class=\"story-request.*?</li>", story.text, re.S)
        if "PL-2611-0001" in li
    )
    assert "· Keluarga" in _visible(entry)


async def _official_names(world: World) -> None:
    """The official names of Samarinda's regions, as `sinergi regions load` writes them."""
    async with await world.h.session() as session:
        for code, name, level in [
            ("6472", "Kota Samarinda", 2),
            ("647201", "Palaran", 3),
            ("6472011001", "Rawa Makmur", 4),
        ]:
            if await session.get(Region, code) is None:
                session.add(Region(code=code, name=name, level=level))
            else:
                (await session.get(Region, code)).name = name  # type: ignore[union-attr]


def _code_with_name(text: str, code: str, name: str) -> bool:
    """Whether the region's name stands right next to its code."""
    return f"{name} {code}" in text or f"{code} {name}" in text or f"{name} ({code})" in text


async def test_region_codes_come_with_their_names(world: World) -> None:
    """Wherever a page shows a region code, the official name stands next to it."""
    await _official_names(world)
    async with await world.h.session() as session:
        await factories.mentor(
            session, name="Mentor Kabupaten", phone="+6281299990001", region_code="6472"
        )
    client = await world.client("samarinda")
    sam = world.samarinda
    pages = {
        "/admin/households": ("6472011001", "Rawa Makmur"),
        f"/admin/households/{sam.household}": ("6472011001", "Rawa Makmur"),
        "/admin/escalations": ("6472011001", "Rawa Makmur"),
        f"/admin/escalations/{sam.escalation}": ("6472011001", "Rawa Makmur"),
        "/admin/requests": ("6472011001", "Rawa Makmur"),
        f"/admin/requests/{sam.request}": ("6472011001", "Rawa Makmur"),
        "/admin/mentors": ("6472", "Kota Samarinda"),
        f"/admin/mentors/{sam.mentor}": ("6472011001", "Rawa Makmur"),
        "/admin/proposals": ("6472011001", "Rawa Makmur"),
        f"/admin/graduation/households/{sam.household}": ("6472011001", "Rawa Makmur"),
    }
    for path, (code, name) in pages.items():
        answer = await client.get(path)
        assert answer.status_code == 200, path
        text = _visible(answer.text)
        assert _code_with_name(text, code, name), (path, text[:3000])
        # The header names the officer's own region too.
        assert _code_with_name(text, "6472", "Kota Samarinda"), path
    admin = await world.client("kaltim")
    for path, (code, name) in {
        "/admin/audit": ("6472011001", "Rawa Makmur"),
        "/admin/staff": ("6472", "Kota Samarinda"),
    }.items():
        answer = await admin.get(path)
        assert answer.status_code == 200, path
        assert _code_with_name(_visible(answer.text), code, name), path


async def test_a_code_the_official_list_lacks_is_shown_alone(world: World) -> None:
    """No name is made up: a code the loaded list lacks shows the roster's own name, or the
    code alone when the roster had none."""
    async with await world.h.session() as session:
        for n, desa in [(1, "Kampung Roster"), (2, None)]:
            hh = await factories.household(
                session,
                world.h.rt.vault,
                nik=f"647201650381{n:04d}",
                no_kk=f"647201010299{n:04d}",
                name=f"Tanpa Nama Resmi {n}",
                region_code=f"647201109{n}",
            )
            hh.desa = desa
    client = await world.client("samarinda")
    text = _visible((await client.get("/admin/households?q=Tanpa+Nama")).text)
    assert "Kampung Roster 6472011091" in text
    assert re.search(r"Tanpa Nama Resmi 2 \S+ 6472011092 ", text), text[-600:]
