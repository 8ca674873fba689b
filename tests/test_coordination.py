"""The coordinators' view: aggregates across kabupaten, small cells suppressed, no person anywhere."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from scheduler.jobs import named, run_due
from storage.models import AuditEvent, GraduationStage, StageTransition
from storage.scope import ScopeError, check_account
from storage.staff import add_staff
from tests import factories
from tests.admin_world import PASSWORD, World, csrf_of, fill, routes, world_fixture  # noqa: F401
from tests.conftest import T0

COORDINATION = ("/admin/koordinasi", "/admin/koordinasi/export")
# Days from each graduate's first recorded stage to independence, and when a setback came after.
GRADUATES = [(100, 30), (100, 60), (100, 90), (200, 120), (200, 300), (200, 400), (300, None)]


async def _coordinator(world: World, username: str, region: str) -> None:
    """A coordinator account of `region` ('' for the whole country)."""
    async with await world.h.session() as session:
        await add_staff(
            session, username=username, password=PASSWORD, role="coordinator",
            region_code=region, now=T0,
        )  # fmt: skip


async def _graduates(world: World) -> None:
    """Seven graduates in Samarinda this year, five of them set back within 12 months."""
    today = T0.date()
    async with await world.h.session() as session:
        for i, (days, back_after) in enumerate(GRADUATES):
            hh = await factories.household(
                session, world.h.rt.vault, nik=f"64720165038{i:05d}", no_kk=f"6472020202{i:06d}",
                name=f"Lulus Mandiri {i}", phone=f"+62813555000{i:02d}", region_code="6472011001",
            )  # fmt: skip
            graduated = today - timedelta(days=10 + i)
            moves = [
                (None, "penerima_bansos", "forward", graduated - timedelta(days=days)),
                ("anggota_koperasi", "mandiri", "forward", graduated),
            ]
            if back_after is not None:
                moves.append(
                    ("mandiri", "anggota_koperasi", "back", graduated + timedelta(back_after))
                )
            for from_stage, to_stage, direction, on in moves:
                session.add(_move(hh.id, from_stage, to_stage, direction, on))
            session.add(
                GraduationStage(
                    household_id=hh.id,
                    stage="mandiri",
                    rank=5,
                    since=graduated,
                    since_at=T0,
                    updated_at=T0,
                )  # fmt: skip
            )


def _move(
    household_id: int, from_stage: str | None, to_stage: str, direction: str, on: date
) -> StageTransition:
    """One dated move along the path."""
    return StageTransition(
        household_id=household_id, region_code="6472011001", from_stage=from_stage,
        to_stage=to_stage, direction=direction, at=T0, on_date=on, evidence_kind="staff",
        confirmed_by="system",
    )  # fmt: skip


async def _count(world: World) -> None:
    """The hourly job: the summaries the pages read, counted as of the world's moment."""
    counts = await run_due(world.h.rt.sessions, T0, jobs=named("coordination"), slots=False)
    assert counts["coordination"] > 0, counts


def _personal(world: World) -> list[str]:
    """Every name, NIK, No. KK and phone of the world's people, as they could appear in a page."""
    found = []
    for region in (world.samarinda, world.balikpapan):
        found += region.names
    found += ["6472016503810001", "6471014404790002", "6472010101000001", "6471010101000002"]
    found += ["81300000001", "81300000002", "81200000001", "81200000002", "Lulus Mandiri"]
    return found


def test_a_coordinator_covers_the_country_a_province_or_a_kabupaten() -> None:
    """Scopes of 0, 2 and 4 digits are accepted; a kecamatan coordinator is refused."""
    for prefix in ("", "64", "6472"):
        assert not check_account("coordinator", prefix).sees_people
    for prefix in ("647201", "6472011001"):
        with pytest.raises(ScopeError):
            check_account("coordinator", prefix)


async def test_the_view_counts_per_kabupaten_with_small_cells_suppressed(world: World) -> None:
    """Provincial coordinator: both kabupaten, graduations, median days, relapse in 12 months."""
    await _graduates(world)
    await _coordinator(world, "taskin", "64")
    admin = await world.client("kaltim")
    token = await csrf_of(admin)
    posted = await admin.post(
        "/admin/koordinasi/target",
        data={"csrf_token": token, "region": "64.72", "year": "2026", "graduations": "10"},
    )
    assert posted.status_code == 303 and "error" not in posted.headers["location"]
    await _count(world)

    client = await world.client("taskin")
    page = await client.get("/admin/koordinasi")
    assert page.status_code == 200
    text = page.text
    assert "Kota 6472" in text and "Kota 6471" in text
    # Samarinda: 8 households (7 graduates + the world's one), 7 graduated this year of a target
    # of 10, median 200 days, 5 of 7 set back within 12 months (the 400-day setback is not).
    samarinda = text[text.index("Kota 6472") :]
    assert "<td>7 (70%)</td>" in samarinda
    assert "<td>200</td>" in samarinda
    assert "5 / 7 (71%)" in samarinda
    # Balikpapan has one household: its counts are "<5" or 0, no share is given.
    balikpapan = text[text.index("Kota 6471") : text.index("Kota 6472")]
    assert "&lt;5" in balikpapan and "%" not in balikpapan


async def test_no_page_or_export_shows_a_coordinator_a_person(world: World) -> None:
    """Every staff route as a coordinator: people's pages send them away, nothing personal is in any answer."""
    await _graduates(world)
    await _coordinator(world, "bappenas", "")
    await _count(world)
    client = await world.client("bappenas")
    token = await csrf_of(client, "/admin/koordinasi")
    personal = _personal(world)
    checked = 0
    for method, path in routes(world.app):
        if path in ("/admin/login", "/admin/lang/{code}", "/admin/logout"):
            continue
        data = {"csrf_token": token, "text": "x", "ids": str(world.samarinda.household)}
        response = await client.request(
            method, fill(path, world.samarinda), data=data if method == "POST" else None
        )
        body = response.text
        leaked = [p for p in personal if p in body]
        assert not leaked, (method, path, leaked)
        if path in COORDINATION:
            assert response.status_code == 200, path
        elif path == "/admin/password":  # their own account: allowed, the empty form refused
            assert response.status_code in (200, 400), (method, path, response.status_code)
        elif path == "/admin/koordinasi/target":  # admins only
            assert response.status_code == 403, (method, path, response.status_code)
        elif method == "GET" and not path.startswith("/admin/partner"):
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"] == "/admin/koordinasi", path
        elif method == "GET":  # a partner's seat: refused to anyone else
            assert response.status_code == 403, (path, response.status_code)
        else:
            assert response.status_code == 403, (method, path, response.status_code)
        checked += 1
    assert checked >= 30


async def test_the_export_is_suppressed_and_audited(world: World) -> None:
    """The CSV has the same suppressed counts, and the export is an audit event."""
    await _graduates(world)
    await _coordinator(world, "kemenkop", "64")
    await _count(world)
    client = await world.client("kemenkop")
    response = await client.get("/admin/koordinasi/export")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {"6471", "6472"}
    assert by_code["6471"][2] == "<5"  # one household
    # Samarinda's 8 would give Balikpapan's "<5" away beside the province's total: hidden too.
    assert by_code["6472"][2] == "*"
    assert by_code["6472"][-1] == rows[1][-1] and "2026" in by_code["6472"][-1]
    async with await world.h.session() as session:
        events = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
        )
    assert [(e.actor, e.detail["what"], e.detail["rows"]) for e in events] == [
        ("kemenkop", "coordination", 2)
    ]


async def test_a_kabupaten_coordinator_sees_its_kecamatan_only(world: World) -> None:
    """Samarinda's coordinator reads Palaran's row and nothing of Balikpapan."""
    await _coordinator(world, "bappeda-smd", "6472")
    await _count(world)
    client = await world.client("bappeda-smd")
    text = (await client.get("/admin/koordinasi")).text
    assert "Palaran" in text
    assert "Balikpapan" not in text and "6471" not in text
    export = (await client.get("/admin/koordinasi/export")).content.decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(export))][1:] == ["647201"]


async def test_only_an_admin_sets_a_target_and_only_inside_its_scope(world: World) -> None:
    """An officer is refused, a region outside the admin's province is 404, bad numbers say why."""
    officer = await world.client("samarinda")
    token = await csrf_of(officer)
    form = {"csrf_token": token, "region": "6472", "year": "2026", "graduations": "5"}
    assert (await officer.post("/admin/koordinasi/target", data=form)).status_code == 403
    admin = await world.client("kaltim")
    form["csrf_token"] = await csrf_of(admin)
    outside = await admin.post("/admin/koordinasi/target", data={**form, "region": "6371"})
    assert outside.status_code == 404
    bad = await admin.post("/admin/koordinasi/target", data={**form, "graduations": "sepuluh"})
    assert bad.status_code == 303 and "error=" in bad.headers["location"]
    no_csrf = await admin.post("/admin/koordinasi/target", data={**form, "csrf_token": "x"})
    assert no_csrf.status_code == 403
