"""Scope at four levels, by enumeration: provinsi, kota, kecamatan and desa officers each see all
of what lies under their code and nothing beside it, on every route the app has.

The world (tests/admin_world.py `levels`) has a household in each of sixteen desa under two
provinsi; its escalations are the mentors' handoffs written by storage, so the region code
they carry is the one production writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import Escalation, EscalationNote, Referral, ServiceRequest
from tests.admin_world import (  # noqa: F401
    LEVEL_CODES,
    Levels,
    Region_,
    csrf_of,
    fill,
    levels_fixture,
    routes,
)

NOT_SCOPED = {
    "/admin/login",
    "/admin/lang/{code}",
    "/admin/logout",
    "/admin/password",
    # A big import's page belongs to its uploader, not to a region (tests/test_admin_import.py).
    "/admin/import/jobs/{job_id}",
}
# Scoped another way and enumerated in their own tests: an organisation's edit page (admins
# only, tests/test_partners.py) and the partner's seat (its organisation's records only).
OTHER_SEATS = ("/admin/organisations/", "/admin/partner/")
# Every POST with an id, in an order that lets each succeed on one household, with its form.
ACTIONS: dict[str, Callable[[Region_], dict[str, str | list[str]]]] = {
    "/admin/escalations/{escalation_id}/note": lambda r: {"text": "dicek"},
    "/admin/escalations/{escalation_id}/assign": lambda r: {"assignee": "me"},
    "/admin/escalations/{escalation_id}/message": lambda r: {"text": "Halo"},
    "/admin/escalations/{escalation_id}/resolve": lambda r: {"outcome": "sudah dikunjungi"},
    "/admin/requests/{request_id}/move": lambda r: {"action": "process"},
    "/admin/requests/{request_id}/outcome": lambda r: {"outcome": "corrected", "note": "x"},
    "/admin/proposals/{proposal_id}/move": lambda r: {"action": "visit"},
    "/admin/graduation/households/{household_id}/mandiri": lambda r: {"note": "x"},
    "/admin/graduation/households/{household_id}/clear": lambda r: {},
    "/admin/graduation/households/{household_id}/referral": lambda r: {
        "referral_id": str(r.referral),
        "state": "diterima",
    },
    "/admin/mentors/{mentor_id}/reassign": lambda r: {
        "ids": [str(r.household)],
        "to": str(r.mentor),
    },
    "/admin/staff/{staff_id}/active": lambda r: {"active": "0"},
}
# Lists that show every record of the scope, and which of a desa's names each shows.
COMPLETE = {
    "/admin/households": 0,
    "/admin/households?q=Warga": 0,
    "/admin/households?q=Wa": 0,
    "/admin/households/export?format=csv": 0,
    "/admin/escalations": 0,
    "/admin/mentors": 1,
    "/admin/requests": 2,
    "/admin/proposals": 3,
}
HOUSEHOLDS_CARD = re.compile(r"<span>[^<]*</span><b>(\d+)</b>")


def _pages(levels: Levels) -> list[str]:
    """Every GET route without an id."""
    found = [
        p
        for m, p in routes(levels.world.app)
        if m == "GET" and "{" not in p and p not in NOT_SCOPED
    ]
    assert len(found) >= 12
    return found


def _queries(levels: Levels, code: str) -> list[str]:
    """Query strings that try each list at, and beside, the scope (filters, search, drill-down)."""
    out = ["", "?state=resolved&silent=1", "?q=Warga", "?q=Wa"]
    for other in levels.beside(code):
        word = other.names[0].split()[1]
        out.append(
            f"?q={word}&kecamatan={other.code[:6]}&desa={other.code}&region={other.code}"
            f"&no_kk={other.no_kk}"
        )
    return out


async def _officer(levels: Levels, level: str) -> httpx.AsyncClient:
    """The signed-in officer of `level` (kaltim, the admin of 64, for "admin")."""
    return await levels.world.client("kaltim" if level == "admin" else level)


LEVELS = ["provinsi", "kabupaten", "kecamatan", "desa"]


@pytest.mark.parametrize("level", LEVELS)
async def test_every_list_export_and_search_shows_all_of_the_scope_and_nothing_beside(
    levels: Levels, level: str
) -> None:
    """Each GET page and export, with every filter, names no record outside; full lists name all inside."""
    code = LEVEL_CODES[level]
    officer = await _officer(levels, level)
    for path in _pages(levels):
        for query in _queries(levels, code):
            response = await officer.get(path + query)
            assert response.status_code in (200, 303, 307, 403, 404), (path, query)
            assert other_household_not_linked(levels, code, response), (path, query)
            text = response.content.decode("utf-8", "replace")
            for other in levels.outside(code):
                for secret in other.names:
                    assert secret not in text, (level, path, query, secret)
    for path, which in COMPLETE.items():
        text = (await officer.get(path)).content.decode("utf-8-sig")
        for mine in levels.inside(code):
            assert mine.names[which] in text, (level, path, mine.names[which])


def other_household_not_linked(levels: Levels, code: str, response: httpx.Response) -> bool:
    """A redirect never leads to a household beside the code (the No. KK finder's answer)."""
    target = response.headers.get("location", "")
    return not any(target.endswith(f"/{r.household}") for r in levels.outside(code))


@pytest.mark.parametrize("level", LEVELS)
async def test_every_record_page_opens_inside_and_is_404_beside(levels: Levels, level: str) -> None:
    """Each GET route with an id: 200 for every desa under the code, 404 for each one beside it."""
    code = LEVEL_CODES[level]
    officer = await _officer(levels, level)
    pages = [p for m, p in routes(levels.world.app) if m == "GET" and "{" in p]
    pages = [p for p in pages if p not in NOT_SCOPED and not p.startswith(OTHER_SEATS)]
    assert len(pages) >= 6
    for mine in levels.inside(code):
        found = await officer.get(f"/admin/graduation/find?no_kk={mine.no_kk}")
        assert found.headers["location"].endswith(f"/{mine.household}")
    for path in pages:
        for mine in levels.inside(code):
            response = await officer.get(fill(path, mine))
            assert response.status_code == 200, (level, path, mine.code, response.status_code)
        for other in levels.beside(code):
            response = await officer.get(fill(path, other))
            assert response.status_code == 404, (level, path, other.code, response.status_code)
            assert not any(s in response.text for s in other.names)


@pytest.mark.parametrize("level", [*LEVELS, "admin"])
async def test_every_action_works_inside_and_is_404_beside(levels: Levels, level: str) -> None:
    """Each POST with an id (CSRF given) is a 404 for a desa beside the code and changes nothing
    there; for a desa under it, it is done (303). The admin of 64 also covers staff accounts."""
    code = LEVEL_CODES.get(level, "64")
    officer = await _officer(levels, level)
    token = await csrf_of(officer)
    posts = [
        p
        for m, p in routes(levels.world.app)
        if m == "POST" and "{" in p and not p.startswith(OTHER_SEATS)
    ]
    assert set(posts) == set(ACTIONS), "a new action needs its form here"
    for path, form in ACTIONS.items():
        if path.startswith("/admin/staff") and level != "admin":
            continue
        for other in levels.beside(code):
            data = {"csrf_token": token, **form(other)}
            response = await officer.post(fill(path, other), data=data)
            assert response.status_code == 404, (level, path, other.code, response.status_code)
        mine = levels.inside(code)[-1]
        response = await officer.post(fill(path, mine), data={"csrf_token": token, **form(mine)})
        assert response.status_code == 303, (level, path, mine.code, response.status_code)
        # Confirming mandiri is refused by the stage rules (the world's households are new) and
        # a correction's outcome by the request's kind (the world's are training requests),
        # after the record was found in the scope; every other action is done.
        if not path.endswith(("/mandiri", "/outcome")):
            assert "error" not in response.headers["location"], (path, response.headers["location"])
    await _unchanged(levels, code)


async def _unchanged(levels: Levels, code: str) -> None:
    """Beside the code, escalations are open with only the mentor's note, requests and referrals as sent."""
    ids = [r.household for r in levels.outside(code)]
    async with await levels.world.h.session() as session:
        states = set(
            await session.scalars(select(Escalation.state).where(Escalation.household_id.in_(ids)))
        )
        notes = await session.scalar(
            select(func.count())
            .select_from(EscalationNote)
            .join(Escalation, Escalation.id == EscalationNote.escalation_id)
            .where(Escalation.household_id.in_(ids))
        )
        requests = set(
            await session.scalars(
                select(ServiceRequest.state).where(ServiceRequest.household_id.in_(ids))
            )
        )
        referrals = await session.scalar(
            select(func.count()).select_from(Referral).where(Referral.household_id.in_(ids))
        )
    assert states == {"open"} and notes == len(ids)
    assert requests == {"diajukan"} and referrals == len(ids)


@pytest.mark.parametrize("level", LEVELS)
async def test_bulk_assign_takes_the_scope_and_refuses_one_beside(
    levels: Levels, level: str
) -> None:
    """Assigning all of mine at once works; adding one escalation beside the code is a 404."""
    code = LEVEL_CODES[level]
    officer = await _officer(levels, level)
    token = await csrf_of(officer)
    mine = [str(r.escalation) for r in levels.inside(code)]
    for other in levels.beside(code):
        data = {"csrf_token": token, "assignee": "me", "ids": [*mine, str(other.escalation)]}
        refused = await officer.post("/admin/escalations/bulk-assign", data=data)
        assert refused.status_code == 404
    done = await officer.post(
        "/admin/escalations/bulk-assign", data={"csrf_token": token, "assignee": "me", "ids": mine}
    )
    assert done.status_code == 303
    queue = (await officer.get("/admin/escalations?assignee=me")).text
    assert all(r.names[0] in queue for r in levels.inside(code))


async def test_staff_accounts_of_the_admin_are_those_under_64(levels: Levels) -> None:
    """The admin of 64 lists Kalimantan Timur's desa officers, not Kalimantan Selatan's."""
    admin = await _officer(levels, "admin")
    page = (await admin.get("/admin/staff")).text
    assert all(r.names[-1] in page for r in levels.inside("64"))
    assert not any(r.names[-1] in page for r in levels.outside("64"))


# Dashboard drill-down ---------------------------------------------------------------------------


def _households_card(text: str) -> int:
    """The number on the dashboard's first card (households)."""
    found = HOUSEHOLDS_CARD.search(text)
    assert found, text[:500]
    return int(found.group(1))


def _drill_links(text: str) -> list[str]:
    """The region codes the drill-down table links to."""
    table = text.split('<table class="regions">', 1)
    return (
        re.findall(r'href="/admin\?region=(\d+)"', table[1].split("</table>")[0])
        if len(table) > 1
        else []
    )


@pytest.mark.parametrize("level", LEVELS)
async def test_the_dashboard_drills_down_to_each_desa_of_the_scope(
    levels: Levels, level: str
) -> None:
    """From the officer's level each row links one level down, with its name and its own counts,
    down to the desa; every desa of the scope is reached, and the counts are the records'."""
    code = LEVEL_CODES[level]
    officer = await _officer(levels, level)
    reached: list[str] = []
    todo = [code]
    while todo:
        at = todo.pop()
        page = (await officer.get(f"/admin?region={at}" if at != code else "/admin")).text
        assert _households_card(page) == len(levels.inside(at)), at
        assert levels.region_names[at] in page
        below = _drill_links(page)
        for child in below:
            assert child.startswith(at) and len(child) > len(at)
            assert levels.region_names[child] in page
        if not below:
            reached.append(at)
        todo += below
    assert sorted(reached) == sorted(r.code for r in levels.inside(code))


@pytest.mark.parametrize("level", ["kabupaten", "kecamatan", "desa"])
async def test_the_dashboard_does_not_climb_above_the_scope(levels: Levels, level: str) -> None:
    """`?region=` above or beside the officer's code shows their own scope, and no name of another."""
    code = LEVEL_CODES[level]
    officer = await _officer(levels, level)
    own = (await officer.get("/admin")).text
    for wider in ["", "6", "64", "6472", "647201", "6371", "6472021001"]:
        if code.startswith(wider) and wider != code or not wider.startswith(code):
            page = (await officer.get(f"/admin?region={wider}")).text
            assert _households_card(page) == _households_card(own) == len(levels.inside(code))
            assert _drill_links(page) == _drill_links(own)
            for other in levels.outside(code):
                assert levels.region_names[other.code] not in page
