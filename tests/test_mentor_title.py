"""Mentors are named as people read them: "Ibu Rina" to the household, "Bu Rina" to herself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Mentor
from tests.case_helpers import linked, mentor_on, person_on, seed, welcomed_mentor
from tests.drivers import DRIVERS, Driver
from tests.harness import Harness
from tests.test_roster import MT, Sessions, csv_bytes, load, reasons
from tests.test_roster import db as db  # noqa: F401 - the roster tests' database fixture


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _rina_is_a_woman(h: Harness) -> None:
    async with await h.session() as s:
        mentor = await s.scalar(select(Mentor))
        assert mentor is not None
        mentor.gender = "P"


async def test_the_household_reads_ibu_rina_in_help_and_status(person: Driver) -> None:
    """BANTUAN and the mentor's card name her "Ibu Rina", with her number."""
    await seed(person.h)
    await _rina_is_a_woman(person.h)
    await linked(person)
    said = await person.text("BANTUAN")
    assert "Pendamping Anda: Ibu Rina, +6281200000001." in said[-1].text


@pytest.mark.parametrize("channel", sorted(DRIVERS))
async def test_the_mentor_is_greeted_bu_rina(harness: Harness, channel: str) -> None:
    """A mentor whose roster row says P is greeted as an Indonesian elder is: "Bu Rina"."""
    await seed(harness)
    await _rina_is_a_woman(harness)
    said = await welcomed_mentor(mentor_on(harness, channel))
    assert "Terima kasih, Bu Rina. Anda terdaftar sebagai pendamping." in said[-1].text


async def test_the_mentors_roster_takes_jenis_kelamin(db: Sessions) -> None:  # noqa: F811
    """L or P is kept; anything else is refused by line."""
    rows = [
        {"nama": "Rina Marlina", "no_hp": "081200000001", "kode_wilayah": "64.72.01", "jenis_kelamin": "P"},
        {"nama": "Budi", "no_hp": "081200000002", "kode_wilayah": "64.72.01", "jenis_kelamin": "X"},
    ]  # fmt: skip
    report = await load(db, "mentors", csv_bytes([*MT, "jenis_kelamin"], rows))
    assert (report.created, report.rejected) == (1, 1)
    assert reasons(report)[3] == ["baris 3: jenis_kelamin harus L atau P"]
    async with db() as s:
        assert [(m.name, m.gender) for m in await s.scalars(select(Mentor))] == [
            ("Rina Marlina", "P")
        ]
