"""The name index keyed by desa code: what an officer finds after a desa move, a re-import and an
erasure, what a scope at each level sees, and the count's cap of 1,000 (in both languages)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from sqlalchemy import select, update

from storage import erasure
from storage.db import unit_of_work
from storage.models import Household
from storage.models.search import FTS_TABLE, key_of
from storage.roster import import_roster
from storage.roster.rules import HOUSEHOLD_COLUMNS
from tests import factories
from tests.admin_world import (  # noqa: F401
    BESIDE,
    LEVEL_CODES,
    Levels,
    World,
    levels_fixture,
    signed_in_officer,
    world_fixture,
)
from tests.test_roster import csv_bytes
from tests.test_roster import household as roster_row

ROW = re.compile(r'<a href="/admin/households/\d+">([^<]+)</a>')
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def _found(client: httpx.AsyncClient, query: str) -> list[str]:
    """The names this staff member sees when searching `query`."""
    page = await client.get("/admin/households", params={"q": query})
    assert page.status_code == 200, page.text[:300]
    return ROW.findall(page.text)


async def _keys(world: World, household_id: int) -> list[int]:
    """The household's rows in the name index (their keys)."""
    key = "rowid" if world.h.rt.engine.dialect.name == "sqlite" else "key"
    async with await world.h.session() as session:
        rows = await session.execute(
            sa.text(f"SELECT {key} FROM {FTS_TABLE} WHERE {key} % 100000000 = :id"),  # noqa: S608
            {"id": household_id},
        )
        return [row[0] for row in rows]


async def test_a_household_that_moves_desa_is_found_in_its_new_region_only(world: World) -> None:
    """Moved to Balikpapan, Siti is under Balikpapan's key range: its officer finds her, ours not."""
    samarinda = await world.client("samarinda")
    balikpapan = await world.client("balikpapan")
    assert await _found(samarinda, "Aminah") == ["Siti Aminah Rahayu"]
    async with await world.h.session() as session:
        await session.execute(
            update(Household)
            .where(Household.id == world.samarinda.household)
            .values(region_code="6471011001")
        )
    assert await _found(samarinda, "Aminah") == []
    assert await _found(balikpapan, "Aminah") == ["Siti Aminah Rahayu"]
    assert await _keys(world, world.samarinda.household) == [
        key_of("6471011001", world.samarinda.household)
    ]


async def test_a_re_import_moves_and_renames_in_the_index(world: World) -> None:
    """The roster's second version of a family (new desa, new name) replaces its index row."""
    header = list(HOUSEHOLD_COLUMNS)
    first = roster_row(7, nama="Wahyuni Lestari", kode_wilayah="64.72.01.1001")
    second = roster_row(7, nama="Wahyuni Kartika", kode_wilayah="64.72.02.1001")
    for row in (first, second, second):  # the same file twice changes nothing more
        async with unit_of_work(world.h.rt.sessions) as session:
            report = await import_roster(
                session,
                "households",
                csv_bytes(header, [row]),
                "kpm.csv",
                vault=world.h.rt.vault,
                now=NOW,
            )
            assert not report.problems, report.problems
    samarinda = await world.client("samarinda")
    assert await _found(samarinda, "Wahyuni") == ["Wahyuni Kartika"]
    assert await _found(samarinda, "Lestari") == []
    async with await world.h.session() as session:
        moved = await session.scalar(
            select(Household.id).where(Household.name == "Wahyuni Kartika")
        )
    assert moved is not None
    assert await _keys(world, moved) == [key_of("6472021001", moved)]


async def test_an_erasure_removes_the_household_from_the_index(world: World) -> None:
    """After an erasure the family's name is nowhere in the index: no search finds it by name."""
    household = world.samarinda.household
    assert len(await _keys(world, household)) == 1
    async with unit_of_work(world.h.rt.sessions) as session:
        await erasure.erase_household(
            session,
            household_id=household,
            media_root=None,
            actor="admin",
            reference="PDP-1",
            now=NOW,
        )
    assert await _keys(world, household) == []
    assert await _found(await world.client("samarinda"), "Aminah") == []


async def test_each_scope_is_its_key_range_and_sees_nothing_beside_it(levels: Levels) -> None:
    """Desa, kecamatan and kabupaten officers find the desa's family and none of the family's
    namesakes in the desa, kecamatan, kabupaten and provinsi just beside theirs."""
    world = levels.world
    async with await world.h.session() as session:
        for i, code in enumerate([LEVEL_CODES["desa"], *BESIDE]):
            await factories.household(
                session,
                world.h.rt.vault,
                nik=f"64720165038{i:05d}",
                no_kk=f"64720101099{i:05d}",
                name=f"Kurniasih Lebak {code}",
                phone=None,
                region_code=code,
            )
    for level in ("desa", "kecamatan", "kabupaten"):
        officer = await world.client(level)
        found = await _found(officer, "Kurniasih Lebak")
        inside = [c for c in [LEVEL_CODES["desa"], *BESIDE] if c.startswith(LEVEL_CODES[level])]
        assert found == [f"Kurniasih Lebak {c}" for c in inside], level
        assert await _found(officer, "Lebak 6371") == [], level  # another provinsi's


async def _many(world: World, count: int) -> None:
    """`count` households named Dewi Sartika in Samarinda's desa, written in one statement."""
    async with await world.h.session() as session:
        await session.execute(
            sa.insert(Household),
            [
                {
                    "no_kk": f"6472019{i:09d}",
                    "nik_hash": f"many-{i}",
                    "nik_encrypted": "-",
                    "nik_masked": "-",
                    "name": "Dewi Sartika",
                    "region_code": "6472011001",
                    "categories": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(count)
            ],
        )
        await session.commit()


async def test_the_count_stops_at_a_thousand_in_either_language(world: World) -> None:
    """1,001 namesakes: the page says 'more than 1,000' (in Indonesian 'lebih dari 1.000'),
    shows its 50, and the pager ends where the count stopped."""
    await _many(world, 1001)
    officer = await world.client("samarinda")
    page = await officer.get("/admin/households", params={"q": "Sartika"})
    assert "lebih dari 1.000" in page.text
    assert "Halaman 1 dari 20" in page.text, page.text[-1500:]
    assert len(ROW.findall(page.text)) == 50
    last = await officer.get("/admin/households", params={"q": "Sartika", "page": "99"})
    assert len(ROW.findall(last.text)) == 50 and "lebih dari 1.000" in last.text
    await officer.get("/admin/lang/en?back=/admin")
    english = await officer.get("/admin/households", params={"q": "Sartika"})
    assert "more than 1,000" in english.text


async def test_a_thousand_is_counted_exactly(world: World) -> None:
    """Exactly 1,000 matches are 1,000, not 'more than'."""
    await _many(world, 1000)
    page = await (await world.client("samarinda")).get("/admin/households", params={"q": "Sartika"})
    assert "1000" in page.text and "lebih dari" not in page.text


async def test_an_exact_no_kk_or_phone_comes_before_names(world: World) -> None:
    """A No. KK that is also inside a name: the household with that card first, then the name."""
    async with await world.h.session() as session:
        await factories.household(
            session,
            world.h.rt.vault,
            nik="6472016503810099",
            no_kk="6472010101000099",
            name="Ana 6472010101000001",  # a name that holds another family's No. KK
            phone=None,
            region_code="6472011001",
        )
    found = await _found(await world.client("samarinda"), "6472010101000001")
    assert found == ["Siti Aminah Rahayu", "Ana 6472010101000001"]
