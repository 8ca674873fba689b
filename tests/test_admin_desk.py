"""The officer's desk: the queue in the order an officer acts, and the dashboard's list for today.

A world of escalations in every state (breached, at risk, on track; nobody's or assigned; put
first by the programs or not; resolved), each household named after its state so the expected
order reads as a list.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from storage.models import Escalation, Household, Mentor, Referral, ServiceRequest
from tests import factories
from tests.admin_world import World, world_fixture  # noqa: F401
from tests.conftest import T0

TODAY = date(2026, 11, 23)  # T0's office day
DUE = {
    "breached": TODAY - timedelta(days=3),
    "at_risk": TODAY,
    "on_track": TODAY + timedelta(days=5),
}
QUEUE_NAME = re.compile(r'<a href="/admin/escalations/\d+">([^<]+)</a>')


async def _escalation(
    world: World,
    name: str,
    *,
    due: date,
    assigned: bool = False,
    vulnerable: bool = False,
    state: str = "",
    n: int,
) -> int:
    """A household of Samarinda's desa with one escalation in the state asked for; its id."""
    async with await world.h.session() as session:
        hh = await factories.household(
            session,
            world.h.rt.vault,
            nik=f"647201650381{n:04d}",
            no_kk=f"647201010200{n:04d}",
            name=name,
            phone=f"+62813555{n:05d}",
            region_code="6472011001",
            mentor_id=world.samarinda.mentor,
            categories="disabilitas" if vulnerable else "",
        )
        esc = Escalation(
            household_id=hh.id,
            region_code="6472011001",
            reason="silent",
            level=1,
            state=state or ("assigned" if assigned else "open"),
            assignee_id=world.samarinda.staff if assigned else None,
            sla_due=due,
            vulnerable=vulnerable,
            created_at=T0 - timedelta(days=10),
        )
        session.add(esc)
        await session.flush()
        return esc.id


async def _every_state(world: World) -> None:
    """Twelve open escalations (three SLA states × assigned or not × vulnerable or not), and more."""
    n = 0
    for sla, due in DUE.items():
        for assigned in (False, True):
            for vulnerable in (False, True):
                n += 1
                who = "mine" if assigned else "none"
                kind = "vuln" if vulnerable else "plain"
                await _escalation(
                    world,
                    f"{sla} {who} {kind}",
                    due=due,
                    assigned=assigned,
                    vulnerable=vulnerable,
                    n=n,
                )
    # The nearest SLA day first within one kind: a week late comes before three days late.
    await _escalation(world, "breached none plain older", due=TODAY - timedelta(days=7), n=90)
    await _escalation(world, "resolved", due=TODAY - timedelta(days=9), state="resolved", n=91)


async def test_the_queue_puts_what_needs_action_first(world: World) -> None:
    """Breached before at risk before on track; nobody's before assigned; the programs' first first."""
    await _every_state(world)
    officer = await world.client("samarinda")
    page = await officer.get("/admin/escalations")
    shown = QUEUE_NAME.findall(page.text)
    assert shown == [
        "breached none vuln",
        "breached none plain older",
        "breached none plain",
        "breached mine vuln",
        "breached mine plain",
        "at_risk none vuln",
        "at_risk none plain",
        "at_risk mine vuln",
        "at_risk mine plain",
        "on_track none vuln",
        "on_track none plain",
        "Siti Aminah Rahayu",  # the world's own: on track, nobody's, due two days later
        "on_track mine vuln",
        "on_track mine plain",
    ]
    never = next(r for r in page.text.split("<tr") if ">breached none vuln</a>" in r)
    assert "belum pernah ada kabar" in never  # no message, report or visit ever
    breached = QUEUE_NAME.findall((await officer.get("/admin/escalations?sla=breached")).text)
    assert breached == shown[:5]


async def test_each_queue_row_shows_phone_mentor_and_silent_since(world: World) -> None:
    """The row says how to reach the family, who its mentor is and since when it has been quiet."""
    async with await world.h.session() as session:
        mentor = await session.get(Mentor, world.samarinda.mentor)
        hh = await session.get(Household, world.samarinda.household)
        assert mentor and hh
        mentor_name, phone = mentor.name, hh.phone
    page = (await (await world.client("samarinda")).get("/admin/escalations")).text
    row = next(r for r in page.split("<tr") if ">Siti Aminah Rahayu</a>" in r)
    # The world's household reported at T0 (23 Nov 2026): its last contact.
    assert phone and phone in row and mentor_name in row and "23 November 2026" in row, row


TODAY_TABLE = re.compile(r'<table class="actions-list" data-today="(\w+)">(.*?)</table>', re.S)
TODAY_COUNT = re.compile(r"<h3>[^<]+<span class=\"count\">\((\d+)\)</span></h3>")


def _today_rows(page: str) -> dict[str, list[str]]:
    """The dashboard's action list: each kind's linked rows, by kind."""
    return {
        kind: re.findall(r'<a href="(/admin/[^"]+)">', body)
        for kind, body in TODAY_TABLE.findall(page)
    }


async def _direct_counts(world: World, prefix: str, officer: int) -> dict[str, int]:
    """What needs action in the region, counted straight from the tables."""
    async with await world.h.session() as session:
        open_cases = (
            select(func.count())
            .select_from(Escalation)
            .where(
                Escalation.state.in_(("open", "assigned")),
                Escalation.region_code.startswith(prefix),
            )
        )
        new = select(func.count()).where(
            ServiceRequest.state == "diajukan", ServiceRequest.region_code.startswith(prefix)
        )
        unanswered = select(func.count()).where(
            Referral.state == "dikirim",
            Referral.answer_by < TODAY,
            Referral.region_code.startswith(prefix),
            Referral.referred_by_id == officer,
        )
        return {
            "breached": int(
                await session.scalar(open_cases.where(Escalation.sla_due < TODAY)) or 0
            ),
            "at_risk": int(
                await session.scalar(
                    open_cases.where(Escalation.sla_due.between(TODAY, TODAY + timedelta(days=1)))
                )
                or 0
            ),
            "new_requests": int(await session.scalar(new) or 0),
            "referrals": int(await session.scalar(unanswered) or 0),
        }


async def test_the_dashboard_lists_what_needs_action_today(world: World) -> None:
    """Breaches, at-risk cases, new requests and unanswered referrals, each as counted directly."""
    await _every_state(world)
    await _overdue_referral(world)
    page = (await (await world.client("samarinda")).get("/admin")).text
    rows = _today_rows(page)
    expected = await _direct_counts(world, "6472", world.samarinda.staff)
    assert {kind: len(links) for kind, links in rows.items()} == expected
    assert [int(n) for n in TODAY_COUNT.findall(page)] == list(expected.values())
    assert expected == {"breached": 5, "at_risk": 4, "new_requests": 1, "referrals": 1}
    # Every row is a link to the case, the request or the household; nothing of Balikpapan.
    assert rows["new_requests"] == [f"/admin/requests/{world.samarinda.request}"]
    assert all(link.startswith("/admin/escalations/") for link in rows["breached"])
    assert "Rahasia Balikpapan" not in page
    # Balikpapan's officer sees only Balikpapan's: its one request, no case of Samarinda.
    theirs = _today_rows((await (await world.client("balikpapan")).get("/admin")).text)
    assert theirs == {"new_requests": [f"/admin/requests/{world.balikpapan.request}"]}


async def test_the_action_list_shows_twenty_and_links_to_the_rest(world: World) -> None:
    """More breaches than the list holds: the first twenty, most overdue first, and "see all"."""
    for n in range(23):
        await _escalation(world, f"late {n:02d}", due=TODAY - timedelta(days=30 - n), n=100 + n)
    officer = await world.client("samarinda")
    page = (await officer.get("/admin")).text
    breached = _today_rows(page)["breached"]
    queue = (await officer.get("/admin/escalations?sla=breached")).text
    assert (
        len(breached) == 20
        and breached == re.findall(r'href="(/admin/escalations/\d+)"', queue)[:20]
    )
    assert 'href="/admin/escalations?sla=breached"' in page and "Lihat semua 23" in page
    # Zoomed in on the desa, the link keeps the desa.
    desa = (await officer.get("/admin?region=6472011001")).text
    assert 'href="/admin/escalations?sla=breached&amp;desa=6472011001"' in desa


async def _overdue_referral(world: World) -> None:
    """Samarinda's household referred four times: overdue by its officer, overdue by the
    province, not yet due, and answered; only the first is the officer's to chase."""
    kinds = [
        ("dikirim", TODAY - timedelta(days=2), world.samarinda.staff),
        ("dikirim", TODAY - timedelta(days=2), None),
        ("dikirim", TODAY + timedelta(days=2), world.samarinda.staff),
        ("diterima", TODAY - timedelta(days=2), world.samarinda.staff),
    ]
    async with await world.h.session() as session:
        for state, answer_by, by in kinds:
            session.add(
                Referral(
                    household_id=world.samarinda.household,
                    region_code="6472011001",
                    office="pupr",
                    asked="bedah rumah",
                    state=state,
                    created_by="samarinda",
                    sent_at=T0 - timedelta(days=9),
                    updated_at=T0,
                    referred_by_id=by,
                    answer_by=answer_by,
                )
            )
