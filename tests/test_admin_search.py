"""Household search through the database's name index (FTS5 trigram, pg_trgm): what an officer finds."""

from __future__ import annotations

import re

from sqlalchemy import delete, update

from storage.models import Household
from tests import factories
from tests.admin_world import World, world_fixture  # noqa: F401

ROW = re.compile(r'<a href="/admin/households/\d+">([^<]+)</a>')


async def _found(world: World, query: str) -> list[str]:
    """The names Samarinda's officer sees when searching `query`."""
    officer = await world.client("samarinda")
    page = await officer.get("/admin/households", params={"q": query})
    assert page.status_code == 200, page.text[:300]
    return ROW.findall(page.text)


async def test_a_part_of_a_name_finds_it_in_any_case(world: World) -> None:
    """Three letters or more from anywhere in the name, any case, find the household."""
    for query in ("Aminah", "aminah", "MINAH RAH", "ahayu"):
        assert await _found(world, query) == ["Siti Aminah Rahayu"], query
    assert await _found(world, "Rahasia") == []  # Balikpapan's, outside the officer's region


async def test_the_index_follows_every_write(world: World) -> None:
    """A renamed, added or removed household is found by its new name at once (triggers on SQLite)."""
    async with await world.h.session() as session:
        await session.execute(
            update(Household)
            .where(Household.id == world.samarinda.household)
            .values(name="Nur Halimah")
        )
        added = await factories.household(
            session,
            world.h.rt.vault,
            nik="6472014404790003",
            no_kk="6472010101000003",
            name="Dewi Kartika",
            phone="+6281300000003",
        )
    assert await _found(world, "Halimah") == ["Nur Halimah"]
    assert await _found(world, "Aminah") == []
    assert await _found(world, "kartika") == ["Dewi Kartika"]
    async with await world.h.session() as session:
        await session.execute(delete(Household).where(Household.id == added.id))
    assert await _found(world, "kartika") == []


async def test_short_terms_match_the_start_of_a_name(world: World) -> None:
    """One or two letters (shorter than a trigram) find names that begin with them."""
    assert await _found(world, "si") == ["Siti Aminah Rahayu"]
    assert await _found(world, "S") == ["Siti Aminah Rahayu"]
    assert await _found(world, "am") == []  # inside the name, not at its start


async def test_search_syntax_and_wildcards_are_taken_literally(world: World) -> None:
    """Quotes, FTS operators and LIKE wildcards are letters to look for, never a query or 'all'."""
    for query in ('"', 'Siti" OR "x', "%", "_", "%%%", "Sit%", "a_i", "NEAR(Siti)", "Siti*"):
        assert await _found(world, query) == [], query


async def test_no_kk_and_phone_still_find_their_household(world: World) -> None:
    """The search box also takes a No. KK or a phone number, exactly."""
    assert await _found(world, "6472010101000001") == ["Siti Aminah Rahayu"]
    assert await _found(world, "+6281300000001") == ["Siti Aminah Rahayu"]
    assert await _found(world, "6471010101000002") == []  # Balikpapan's
