"""Vulnerable households first: a shorter ladder, a shorter SLA, first in every queue, counted apart."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.commands.tick import run_tick
from handlers.labels import CATEGORY_NAMES
from storage import calendar, dashboard
from storage.models import Escalation, Household, LadderState, ServiceRequest
from storage.scope import Scope
from tests import factories
from tests import ladder_factories as lf
from tests.admin_world import World, world_fixture  # noqa: F401
from tests.conftest import T0
from tests.harness import Harness
from tests.test_ladder import MENTOR, press, write

USUAL, ELDERLY, POOREST = 201, 202, 203
RUSDI, SITI = ">Rusdi Difabel</a>", ">Siti Aminah Rahayu</a>"  # as the queues link them


async def _families(h: Harness) -> dict[int, int]:
    """Three families of one mentor, all in programs: a usual one, an elderly one, one of desil 1."""
    ids = {}
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        for n, user in enumerate((USUAL, ELDERLY, POOREST), start=1):
            hh = await lf.enrolled(
                s, h.rt.vault, n=n, name=f"Keluarga {n}", mentor_id=m.id, user_id=user
            )
            hh.categories = "lansia" if user == ELDERLY else ""
            hh.desil = 1 if user == POOREST else 4
            ids[user] = hh.id
    return ids


async def test_the_vulnerable_reach_the_mentor_at_d5_and_dinsos_at_d10(harness: Harness) -> None:
    """Nobody answers: the usual family climbs at D+7 and D+14, the vulnerable at D+5 and D+10."""
    h = harness
    ids = await _families(h)
    reached: dict[tuple[int, str], int] = {}
    for day in range(16):
        await run_tick(h.rt, T0 + timedelta(days=day))
        async with await h.session() as s:
            rungs = dict(
                (await s.execute(select(LadderState.household_id, LadderState.rung))).all()
            )
        for user, household_id in ids.items():
            reached.setdefault((user, rungs.get(household_id, "")), day)
    assert [reached[(USUAL, "mentor")], reached[(USUAL, "dinsos")]] == [7, 14]
    for user in (ELDERLY, POOREST):
        assert [reached[(user, "mentor")], reached[(user, "dinsos")]] == [5, 10], user
    async with await h.session() as s:
        opened = {e.household_id: e for e in await s.scalars(select(Escalation))}
    day10, day14 = (T0 + timedelta(days=10)).date(), (T0 + timedelta(days=14)).date()
    assert opened[ids[ELDERLY]].sla_due == calendar.add_working_days(day10, 3)
    assert opened[ids[ELDERLY]].vulnerable and opened[ids[POOREST]].vulnerable
    assert opened[ids[USUAL]].sla_due == calendar.add_working_days(day14, 5)
    assert not opened[ids[USUAL]].vulnerable


async def test_a_breached_vulnerable_escalation_gets_the_shorter_fresh_sla(
    harness: Harness,
) -> None:
    """Past its SLA, a vulnerable household's case goes to the supervisor due in 3 working days."""
    h = harness
    ids = await _families(h)
    for day in range(15):
        await run_tick(h.rt, T0 + timedelta(days=day))
    later = T0 + timedelta(days=23)  # Wednesday 16 December: both are past their day
    await run_tick(h.rt, later)
    async with await h.session() as s:
        opened = {e.household_id: e for e in await s.scalars(select(Escalation))}
    fresh = later.date()
    assert opened[ids[ELDERLY]].level == 2
    assert opened[ids[ELDERLY]].sla_due == calendar.add_working_days(fresh, 3)
    assert opened[ids[USUAL]].level == 2
    assert opened[ids[USUAL]].sla_due == calendar.add_working_days(fresh, 5)


async def test_a_mentor_hand_up_of_a_vulnerable_family_is_due_in_three_working_days(
    harness: Harness,
) -> None:
    """The mentor's own hand-up follows the same shorter SLA."""
    h = harness
    await _families(h)
    h.now = T0
    await write(h, MENTOR, "MENU")
    await press(h, MENTOR, "handoff")
    await write(h, MENTOR, "Keluarga 2")
    said = await write(h, MENTOR, "Lansia sakit, usaha berhenti")
    # Monday 23 November + 3 working days.
    assert "paling lambat 26 November 2026" in said[-1]


async def _vulnerable_case(world: World) -> int:
    """A household with a disability in Samarinda, its escalation due later than the other one."""
    async with await world.h.session() as s:
        hh = await factories.household(
            s, world.h.rt.vault, nik="6472015507900003", no_kk="6472010101000003",
            name="Rusdi Difabel", phone="+6281300000003", region_code="6472011001",
        )  # fmt: skip
        hh.categories = "disabilitas"
        s.add(
            Escalation(
                household_id=hh.id,
                region_code="6472011001",
                reason="silent",
                level=1,
                state="open",
                sla_due=date(2026, 12, 9),
                vulnerable=True,
                created_at=T0,
            )  # fmt: skip
        )
        s.add(
            ServiceRequest(
                reference="PL-2611-0003",
                household_id=hh.id,
                kind="pelatihan",
                topic="menjahit",
                details="ingin kursus",
                state="diajukan",
                region_code="6472011001",
                created_at=T0 + timedelta(hours=1),
                updated_at=T0,
            )  # fmt: skip
        )
    return hh.id


async def test_the_vulnerable_come_first_in_the_queues_and_filter_by_category(world: World) -> None:
    """Escalations and requests list the household with a disability first; the filters find it."""
    await _vulnerable_case(world)
    officer = await world.client("samarinda")
    for page in ("/admin/escalations", "/admin/requests"):
        text = (await officer.get(page)).text
        assert text.index(RUSDI) < text.index(SITI), page
        only = (await officer.get(page + "?category=disabilitas")).text
        assert RUSDI in only and SITI not in only, page
    listing = (await officer.get("/admin/households?category=disabilitas")).text
    assert RUSDI in listing and SITI not in listing
    # An unknown category is ignored, not an error.
    assert (await officer.get("/admin/households?category=%27%3B--")).status_code == 200


async def test_the_dashboard_counts_each_category_as_a_direct_count_does(world: World) -> None:
    """Every row of the category table equals counting households and escalations one by one."""
    await _vulnerable_case(world)
    async with await world.h.session() as s:
        ladder = await s.get(LadderState, world.samarinda.household)
        assert ladder is not None
        ladder.rung = "mentor"  # the world's household went silent
        hh = await s.get(Household, world.samarinda.household)
        assert hh is not None
        hh.categories, hh.desil = "perempuan_kepala_keluarga;lansia", 1
    scope = Scope(
        prefix="6472", role="officer", staff_id=world.samarinda.staff, username="samarinda"
    )
    async with await world.h.session() as s:
        table = await dashboard.by_category(s, scope, list(CATEGORY_NAMES))
        people = list(
            await s.scalars(select(Household).where(Household.region_code.startswith("6472")))
        )
        silent = set(
            await s.scalars(select(LadderState.household_id).where(LadderState.rung == "mentor"))
        )
        open_cases = list(
            await s.scalars(select(Escalation.household_id).where(Escalation.state == "open"))
        )
    expected = []
    for code in CATEGORY_NAMES:
        members = {
            h.id for h in people
            if (h.desil == 1 if code == "desil1" else code in (h.categories or "").split(";"))
        }  # fmt: skip
        expected.append(
            (code, len(members), len(members & silent), sum(1 for i in open_cases if i in members))
        )
    assert table == expected
    assert expected[0][1] == 1 and expected[1][1] == 1 and expected[3][2] == 1  # not all zero
    officer = await world.client("samarinda")
    page = (await officer.get("/admin")).text
    assert "/admin/escalations?category=disabilitas" in page and "Penyandang disabilitas" in page
