"""The coordinators' view: aggregates across kabupaten, small cells suppressed, no person anywhere."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.jobs import named, run_due
from storage import coordination
from storage.graduation_rules import RANK, STAGES
from storage.households import SILENT_RUNGS
from storage.models import (
    AuditEvent,
    CoordinationArea,
    CoordinationGraduation,
    CoordinationOffice,
    CoordinationStage,
    GraduationStage,
    Household,
    LadderState,
    Organisation,
    ProgramEnrollment,
    Referral,
    StageTransition,
)
from storage.scope import ScopeError, check_account
from storage.staff import add_staff
from tests import factories
from tests.admin_world import (  # noqa: F401
    PASSWORD,
    Levels,
    World,
    csrf_of,
    fill,
    levels_fixture,
    routes,
    world_fixture,
)
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
    household_id: int,
    from_stage: str | None,
    to_stage: str,
    direction: str,
    on: date,
    region: str = "6472011001",
) -> StageTransition:
    """One dated move along the path."""
    return StageTransition(
        household_id=household_id, region_code=region, from_stage=from_stage,
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
    tables = text[text.index("<table>") :]
    samarinda = tables[tables.index("Kota 6472") :]
    assert "<td>7 (70%)</td>" in samarinda
    targets = text[text.index('aria-label="Lulus tahun ini dibanding target"') :]
    assert "Kota 6472" in targets[: targets.index("</svg>")]
    assert "<td>200</td>" in samarinda
    assert "5 / 7 (71%)" in samarinda
    # Balikpapan has one household: its counts are "<5" or 0, no share is given.
    balikpapan = tables[tables.index("Kota 6471") : tables.index("Kota 6472")]
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


def test_a_lone_small_count_takes_the_next_smallest_of_its_row_and_column_with_it() -> None:
    """Primary "<5", then secondary suppression repeated until no line holds one hidden count."""
    grid = [[3, 10, 20], [7, 8, 30]]
    assert coordination.shown(grid, coordination.hide(grid)) == [
        ["<5", "*", "20"],
        ["*", "*", "30"],
    ]
    # Zeros stay zeros: the line adds up to its "<5", which is shown as "<5" wherever it is.
    assert coordination.shown([[2, 0, 0]], coordination.hide([[2, 0, 0]])) == [["<5", "0", "0"]]
    # A count hidden beside a "<5" is not left alone among zeros: one of them is hidden too.
    grid = [[3, 10], [0, 0]]
    assert coordination.shown(grid, coordination.hide(grid)) == [["<5", "*"], ["*", "*"]]
    # Columns only (the outcome tables): rows are not totals of anything.
    assert coordination.shown(
        [[3, 9], [9, 9]], coordination.hide([[3, 9], [9, 9]], rows=False)
    ) == [
        ["<5", "9"],
        ["*", "9"],
    ]
    for size in range(1, 6):
        grid = [[(i * 7 + j * 3) % 9 for j in range(size + 1)] for i in range(size)]
        hidden = coordination.hide(grid)
        lines = [list(row) for row in hidden] + [list(col) for col in zip(*hidden, strict=True)]
        for line, values in zip(lines, [*grid, *zip(*grid, strict=True)], strict=True):
            lone = [v for h, v in zip(line, values, strict=True) if h]
            # One hidden count in a line is only left when the rest are zeros and it is a "<5".
            assert len(lone) != 1 or (0 < lone[0] < 5 and sum(values) == lone[0]), (grid, line)


async def test_the_pages_read_the_summaries_as_the_job_last_counted_them(world: World) -> None:
    """Nothing before the first run; then the counts and "Data per" on the officer's clock; a new
    household shows only after the next run."""
    await _graduates(world)
    await _coordinator(world, "taskin", "64")
    client = await world.client("taskin")
    before = (await client.get("/admin/koordinasi")).text
    assert "Belum dihitung" in before and "Kota 6472" not in before
    await _count(world)
    page = (await client.get("/admin/koordinasi")).text
    assert "Data per 23 November 2026 10.00" in page  # T0 on the clock of Kalimantan Timur (WITA)
    assert "Kota 6472" in page
    bappenas = "bappenas-wib"
    await _coordinator(world, bappenas, "")
    country = (await (await world.client(bappenas)).get("/admin/koordinasi")).text
    assert "Data per 23 November 2026 09.00" in country  # the whole country reads WIB

    async with await world.h.session() as session:
        for i in range(4):
            await factories.household(
                session, world.h.rt.vault, nik=f"64710165039{i:05d}", no_kk=f"6471030303{i:06d}",
                name=f"Baru Balikpapan {i}", phone=None, region_code="6471011001",
            )  # fmt: skip
    later = T0 + timedelta(hours=1)
    csv_rows = await _export_rows(client)
    assert csv_rows["6471"][2] == "<5"  # still the last run's one household
    counts = await run_due(world.h.rt.sessions, later, jobs=named("coordination"), slots=False)
    assert counts["coordination"] > 0
    csv_rows = await _export_rows(client)
    assert csv_rows["6471"][2] == "5"
    assert "Data per 23 November 2026 11.00" in (await client.get("/admin/koordinasi")).text


async def test_the_job_is_due_once_an_hour_across_ticks(world: World) -> None:
    """The slot is claimed once per hour: a second tick within the hour does not recount."""
    sessions = world.h.rt.sessions
    assert "coordination" in await run_due(sessions, T0, jobs=named("coordination"))
    assert "coordination" not in await run_due(
        sessions, T0 + timedelta(minutes=30), jobs=named("coordination")
    )
    assert "coordination" in await run_due(
        sessions, T0 + timedelta(hours=1), jobs=named("coordination")
    )


async def _export_rows(client: object) -> dict[str, list[str]]:
    """The coordinator's CSV by region code."""
    response = await client.get("/admin/koordinasi/export")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return {row[0]: row for row in rows[1:]}


async def test_the_summaries_equal_direct_counts_at_every_level(levels: Levels) -> None:
    """Households, silent, stages, graduations per year, relapse, median days (from the first
    PKH/BPNT/BLT enrollment) and referrals per office: the job's rows are the register's counts."""
    h = levels.world.h
    async with await h.session() as session:
        await _varied_register(session, h, list(levels.leaves))
    await run_due(h.rt.sessions, T0, jobs=named("coordination"), slots=False)
    async with await h.session() as session:
        expected = await _direct_counts(session)
        got = await _summary_rows(session)
    assert got == expected
    assert {level for level, _code in got["areas"]} == {4, 6, 10}
    assert any(row[4] is not None for row in got["areas"].values())  # some medians counted
    assert any(row[3] for row in got["areas"].values())  # and some relapses


async def _varied_register(session: AsyncSession, h: Any, desas: list[str]) -> None:
    """Households at every stage across the desa, some silent, graduates with and without an
    enrollment, some set back within the year and some after it, referrals in every state."""
    today = T0.date()
    for i, desa in enumerate(desas):
        for k in range(i % 5 + 3):
            n = i * 10 + k
            hh = await factories.household(
                session, h.rt.vault, nik=f"{desa[:6]}7701{n:06d}", no_kk=f"{desa[:6]}8801{n:06d}",
                name=f"Keluarga Uji {n}", phone=None, region_code=desa,
            )  # fmt: skip
            stage = STAGES[n % len(STAGES)]
            session.add(
                GraduationStage(
                    household_id=hh.id,
                    stage=stage,
                    rank=RANK[stage],
                    since=today,
                    since_at=T0,
                    updated_at=T0,
                )  # fmt: skip
            )
            session.add(
                LadderState(
                    household_id=hh.id,
                    cycle_start=today,
                    rung=("reminder", "waiting", "mentor", "waiting", "dinsos")[n % 5],
                    updated_at=T0,
                )  # fmt: skip
            )
            if stage == "mandiri":
                graduated = today - timedelta(days=40 * (n % 13) + 5)
                start = graduated - timedelta(days=100 + 17 * (n % 7))
                moves = [(None, "penerima_bansos", "forward", start)]
                moves.append(("anggota_koperasi", "mandiri", "forward", graduated))
                if n % 8 < 4:  # set back n × 4 days later: within 12 months up to n = 83
                    moves.append(
                        ("mandiri", "anggota_koperasi", "back", graduated + timedelta(n * 4))
                    )
                for src, dst, way, on in moves:
                    session.add(_move(hh.id, src, dst, way, on, region=desa))
                if n % 2 == 0:  # enrolled in PKH before the first recorded stage
                    await factories.program(
                        session, hh.id, code="PKH", as_of=start - timedelta(days=30 + n)
                    )
                    await factories.program(
                        session, hh.id, code="BANTUAN_USAHA", as_of=start - timedelta(days=400)
                    )
            session.add(
                Referral(
                    household_id=hh.id,
                    region_code=desa,
                    office=("pupr", "koperasi")[n % 2],
                    asked="x",
                    state=("dikirim", "diterima", "selesai", "ditolak")[n % 4],
                    created_by="kaltim",
                    sent_at=T0,
                    updated_at=T0,
                    answer_by=today - timedelta(days=n % 3 - 1),
                )  # fmt: skip
            )
    await session.flush()


async def _direct_counts(session: AsyncSession) -> dict[str, dict[tuple[Any, ...], Any]]:
    """The summaries as Python counts them from the raw rows, at every level."""
    homes = {hh.id: hh.region_code for hh in await session.scalars(select(Household))}
    rungs = {s.household_id: s.rung for s in await session.scalars(select(LadderState))}
    stages = list(await session.scalars(select(GraduationStage)))
    moves = list(await session.scalars(select(StageTransition)))
    aid: dict[int, date] = {}
    for e in await session.scalars(select(ProgramEnrollment)):
        if e.program in ("PKH", "BPNT", "BLT"):
            aid[e.household_id] = min(e.as_of, aid.get(e.household_id, e.as_of))
    first: dict[int, date] = {}
    for m in moves:
        first[m.household_id] = min(m.on_date, first.get(m.household_id, m.on_date))
    names = {o.id: o.name for o in await session.scalars(select(Organisation))}
    referrals = list(await session.scalars(select(Referral)))
    today = T0.date()
    out: dict[str, dict[tuple[Any, ...], Any]] = {
        k: {} for k in ("areas", "stages", "years", "offices")
    }
    for level in (4, 6, 10):
        people: Counter[str] = Counter(code[:level] for code in homes.values())
        silent = Counter(homes[i][:level] for i, rung in rungs.items() if rung in SILENT_RUNGS)
        days: dict[str, list[int]] = defaultdict(list)
        relapsed: Counter[str] = Counter()
        for m in moves:
            if m.to_stage != "mandiri" or m.direction != "forward":
                continue
            area = m.region_code[:level]
            days[area].append((m.on_date - aid.get(m.household_id, first[m.household_id])).days)
            relapsed[area] += any(
                b.household_id == m.household_id and b.from_stage == "mandiri"
                and b.direction == "back" and m.on_date <= b.on_date <= m.on_date + timedelta(365)
                for b in moves
            )  # fmt: skip
            year = (level, area, m.on_date.year)
            out["years"][year] = out["years"].get(year, 0) + 1
        for area in set(people) | set(days):
            median = int(statistics.median(days[area])) if days[area] else None
            out["areas"][(level, area)] = (
                people[area], silent[area], len(days[area]), relapsed[area], median
            )  # fmt: skip
        for s in stages:
            key = (level, homes[s.household_id][:level], s.stage)
            out["stages"][key] = out["stages"].get(key, 0) + 1
        for r in referrals:
            key = (level, r.region_code[:level], names.get(r.organisation_id or 0, r.office))
            late = r.state == "dikirim" and r.answer_by is not None and r.answer_by < today
            sums = out["offices"].get(key, (0, 0, 0, 0, 0))
            out["offices"][key] = tuple(
                a + b for a, b in zip(sums, (
                    1, r.state == "diterima", r.state == "selesai", r.state == "ditolak", late
                ), strict=True)
            )  # fmt: skip
    return out


async def _summary_rows(session: AsyncSession) -> dict[str, dict[tuple[Any, ...], Any]]:
    """The job's summary rows, keyed as `_direct_counts` keys them."""
    return {
        "areas": {
            (a.level, a.code): (a.households, a.silent, a.graduates, a.relapsed, a.median_days)
            for a in await session.scalars(select(CoordinationArea))
        },
        "stages": {
            (s.level, s.code, s.stage): s.households
            for s in await session.scalars(select(CoordinationStage))
        },
        "years": {
            (g.level, g.code, g.year): g.graduated
            for g in await session.scalars(select(CoordinationGraduation))
        },
        "offices": {
            (o.level, o.code, o.office): (o.sent, o.accepted, o.completed, o.declined, o.overdue)
            for o in await session.scalars(select(CoordinationOffice))
        },
    }


async def test_a_province_coordinator_sees_its_own_kabupaten_only(levels: Levels) -> None:
    """Kalimantan Timur's coordinator reads Samarinda and Balikpapan, nothing of Kalimantan
    Selatan, in the page and the CSV; a kabupaten's reads its kecamatan."""
    h = levels.world.h
    async with await h.session() as session:
        await add_staff(
            session, username="kaltim-coord", password=PASSWORD, role="coordinator",
            region_code="64", now=T0,
        )  # fmt: skip
        await add_staff(
            session, username="smd-coord", password=PASSWORD, role="coordinator",
            region_code="6472", now=T0,
        )  # fmt: skip
    await run_due(h.rt.sessions, T0, jobs=named("coordination"), slots=False)
    client = await levels.world.client("kaltim-coord")
    page = (await client.get("/admin/koordinasi")).text
    assert "Kota Samarinda" in page and "Kota Balikpapan" in page
    assert "Banjarmasin" not in page and "Banjarbaru" not in page
    assert set(await _export_rows(client)) == {"6471", "6472"}
    kabupaten = await levels.world.client("smd-coord")
    assert set(await _export_rows(kabupaten)) == {"647201", "647202"}
