"""Authors' names are read through the reader's Scope: a staff member or mentor is named only
as far as they could have written on a record the reader may see (storage.staff.names_of)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import staff
from storage.models import Mentor, RequestEvent, StaffUser
from storage.scope import Scope, ScopeError
from tests.admin_world import World, world_fixture  # noqa: F401
from tests.conftest import T0

SAMARINDA = Scope(prefix="6472", role="officer", staff_id=0, username="reader")


async def _ids(world: World) -> dict[str, int]:
    """The staff ids by username, and both mentors."""
    async with await world.h.session() as s:
        rows = (await s.execute(select(StaffUser.username, StaffUser.id))).all()
    return {str(name): int(i) for name, i in rows}


async def test_names_need_a_scope_and_name_only_who_could_write_in_it(world: World) -> None:
    people = await _ids(world)
    mentors = {world.samarinda.mentor, world.balikpapan.mentor}
    everyone = {people["samarinda"], people["balikpapan"], people["kaltim"]}
    async with await world.h.session() as s:
        with pytest.raises(ScopeError):
            await staff.names_of(s, None, mentor_ids=mentors, staff_ids=everyone)  # type: ignore[arg-type]
        named_mentors, named_staff = await staff.names_of(
            s, SAMARINDA, mentor_ids=mentors, staff_ids=everyone
        )
        # Samarinda's officer and the provincial admin (whose region holds Samarinda) are
        # named; Balikpapan's officer and mentor never are, whatever id is asked for.
        assert set(named_staff.values()) == {"samarinda", "kaltim"}
        assert set(named_mentors) == {world.samarinda.mentor}
        # A mentor of another desa is named where they mentor one of the scope's families.
        desa = Scope(prefix="6472011001", role="officer", staff_id=0, username="desa")
        mentor = await s.get(Mentor, world.samarinda.mentor)
        assert mentor is not None
        mentor.region_code = "6472021002"
        await s.flush()
        named_mentors, _named = await staff.names_of(s, desa, mentor_ids=mentors, staff_ids=set())
        assert set(named_mentors) == {world.samarinda.mentor}


async def test_a_request_page_does_not_name_another_regions_officer(world: World) -> None:
    """An author id of another kabupaten on a record of ours reads as "an officer"."""
    people = await _ids(world)
    async with await world.h.session() as s:
        s.add(
            RequestEvent(
                request_id=world.samarinda.request,
                at=T0,
                actor=f"staff:{people['balikpapan']}",
                from_state="baru",
                to_state="diproses",
            )
        )
        s.add(
            RequestEvent(
                request_id=world.samarinda.request,
                at=T0,
                actor=f"staff:{people['kaltim']}",
                from_state="diproses",
                to_state="diproses",
            )
        )
        await s.commit()
    officer = await world.client("samarinda")
    page = await officer.get(f"/admin/requests/{world.samarinda.request}")
    assert page.status_code == 200
    assert "balikpapan" not in page.text
    assert "seorang petugas" in page.text
    assert "kaltim" in page.text
