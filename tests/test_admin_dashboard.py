"""Numbers that are right: every dashboard card and chart against a count made directly.

A seeded world of households in two kecamatan of Samarinda and in Balikpapan, with ladders,
chats, reports, escalations and requests drawn at random; the expected numbers are counted in
Python from what was written, by each reader's region, and each card's drill-down list must
say the same number as the card.
"""

from __future__ import annotations

import random
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from bot.web.admin.charts import _short_money
from handlers.labels import REQUEST_STATE_NAMES
from storage import escalations
from storage.dashboard import last_months
from storage.models import ChatIdentity, Escalation, LadderState, ProgressReport, ServiceRequest
from tests import factories
from tests.admin_world import World, world_fixture  # noqa: F401
from tests.conftest import T0

RUNGS = ("waiting", "checkin", "reminder", "mentor", "dinsos", None)
SILENT = ("reminder", "mentor", "dinsos")
CARD = re.compile(r"<span>([^<]+)</span><b>(\d+)</b>")
TOTAL = re.compile(r"\((\d+) in all\)|>(\d+) in all<")
SVG_TEXT = re.compile(r"<text [^>]*>([^<]*)</text>")


@dataclass
class Truth:
    """What was written, kept to count by region afterwards."""

    households: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    linked: set[int] = field(default_factory=set)
    escalations: list[tuple[str, str, date]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    reports: list[tuple[str, str, int | None, bool]] = field(default_factory=list)  # region…

    def region(self, hid: int) -> str:
        """A household's region code."""
        return next(code for h, code, _k, _r in self.households if h == hid)


async def _seed(world: World, seed: int = 13) -> Truth:
    """About sixty households with everything the dashboard counts, drawn from `seed`."""
    rnd, truth = random.Random(seed), Truth()
    places = [
        ("6472011001", "Palaran"),
        ("6472021001", "Sungai Kunjang"),
        ("6471011001", "Balikpapan Selatan"),
    ]
    months = last_months(T0)
    async with await world.h.session() as session:
        for n in range(60):
            code, kecamatan = rnd.choice(places)
            hh = await factories.household(
                session,
                world.h.rt.vault,
                nik=f"64720165038{n + 500:05d}",
                no_kk=f"64720101010{n + 500:05d}",
                name=f"Keluarga Hitung {n}",
                phone=f"+62813000{n + 500:05d}",
                region_code=code,
            )
            hh.kecamatan = kecamatan
            rung = rnd.choice(RUNGS)
            if rung:
                session.add(
                    LadderState(
                        household_id=hh.id, cycle_start=date(2026, 11, 1), rung=rung, updated_at=T0
                    )
                )
            truth.households.append((hh.id, code, kecamatan, rung))
            if rnd.random() < 0.5:
                session.add(
                    ChatIdentity(
                        channel="telegram",
                        external_id=f"hitung-{n}",
                        household_id=hh.id,
                        created_at=T0,
                    )
                )
                truth.linked.add(hh.id)
            for month in rnd.sample(months, rnd.randint(0, 3)):
                submitted = rnd.random() < 0.8
                omzet = rnd.choice([None, rnd.randint(1, 40) * 100_000])
                session.add(
                    ProgressReport(
                        household_id=hh.id,
                        period=month,
                        omzet=omzet,
                        status="complete" if submitted else "draft",
                        started_at=T0,
                        submitted_at=T0 if submitted else None,
                    )
                )
                truth.reports.append((code, month, omzet, submitted))
            if rnd.random() < 0.3:
                state, due = (
                    rnd.choice(["open", "assigned", "resolved"]),
                    T0.date() + timedelta(days=rnd.randint(-3, 4)),
                )
                session.add(
                    Escalation(
                        household_id=hh.id,
                        region_code=code,
                        reason="silent",
                        state=state,
                        sla_due=due,
                        created_at=T0,
                    )
                )
                truth.escalations.append((code, state, due))
            if rnd.random() < 0.4:
                state = rnd.choice(list(REQUEST_STATE_NAMES))
                session.add(
                    ServiceRequest(
                        reference=f"PL-2611-{n + 500:04d}",
                        household_id=hh.id,
                        kind="koperasi",
                        state=state,
                        region_code=code,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                truth.requests.append((code, state))
        await session.commit()
    return truth


def _expected(truth: Truth, world: World, prefix: str) -> dict[str, object]:
    """The dashboard's numbers counted directly from what was written, for one region prefix."""
    mine = [h for h in truth.households if h[1].startswith(prefix)]
    # The world's own households: one per kota, waiting ("mentor" rung), linked to nothing.
    base = [r for r in (world.samarinda, world.balikpapan) if r.code.startswith(prefix)]
    sla: dict[str, int] = {}
    for code, state, due in truth.escalations:
        if code.startswith(prefix) and state != "resolved":
            key = escalations.sla_status(due, T0)
            sla[key] = sla.get(key, 0) + 1
    for _region in base:  # the world's escalation: open, due 30 November
        key = escalations.sla_status(date(2026, 11, 30), T0)
        sla[key] = sla.get(key, 0) + 1
    states: dict[str, int] = {}
    for code, state in truth.requests:
        if code.startswith(prefix):
            states[state] = states.get(state, 0) + 1
    states["diajukan"] = states.get("diajukan", 0) + len(base)
    reports = [r for r in truth.reports if r[0].startswith(prefix)]
    submitted = {
        m: sum(1 for _c, month, _o, s in reports if s and month == m) for m in last_months(T0)
    }
    submitted["2026-11"] += len(base)  # the world's November report
    omzet = {}
    for m in last_months(T0):
        values = [o for _c, month, o, _s in reports if month == m and o is not None]
        values += [1_500_000] * len(base) if m == "2026-11" else []
        omzet[m] = int(statistics.median(values)) if values else None
    return {
        "Households": len(mine) + len(base),
        "Linked chats": len([h for h in mine if h[0] in truth.linked]),
        "Silent households": len([h for h in mine if h[3] in SILENT]) + len(base),
        "Escalations on track": sla.get("on_track", 0),
        "Escalations at risk": sla.get("at_risk", 0),
        "Escalations breached": sla.get("breached", 0),
        "Reports this month": submitted["2026-11"],
        "requests": {
            state: states.get(state, 0) for state in REQUEST_STATE_NAMES if state != "dibatalkan"
        },
        "reports": [str(submitted[m]) for m in last_months(T0)],
        "omzet": [_short_money(omzet[m]) if omzet[m] else "0" for m in last_months(T0)],
    }


def _charts(html: str) -> list[list[str]]:
    """The texts of each chart, in order (silent, reports, omzet)."""
    return [SVG_TEXT.findall(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]


async def _total(client, path: str) -> int:  # type: ignore[no-untyped-def]
    """The "N in all" of a list page."""
    found = TOTAL.search((await client.get(path)).text)
    assert found, path
    return int(found.group(1) or found.group(2))


@pytest.mark.parametrize("who, prefix", [("samarinda", "6472"), ("kaltim", "64")])
async def test_every_card_and_chart_matches_a_direct_count(
    world: World, who: str, prefix: str
) -> None:
    """Cards, the request cards, and the reports and omzet charts equal counts made directly."""
    truth = await _seed(world)
    want = _expected(truth, world, prefix)
    reader = await world.client(who)
    reader.cookies.set("sinergi_lang", "en")
    html = (await reader.get("/admin")).text
    cards = dict(CARD.findall(html))
    for label in (
        "Households",
        "Linked chats",
        "Silent households",
        "Escalations on track",
        "Escalations at risk",
        "Escalations breached",
        "Reports this month",
    ):
        assert int(cards[label]) == want[label], label
    for state, count in want["requests"].items():  # type: ignore[attr-defined]
        assert int(cards[REQUEST_STATE_NAMES[state]]) == count, state
    silent, reports, omzet = _charts(html)
    assert reports[0::2] == want["reports"]
    assert omzet[0::2] == want["omzet"]
    # Each card's list says the same number as the card.
    assert await _total(reader, "/admin/households") == want["Households"]
    assert await _total(reader, "/admin/households?silent=1") == want["Silent households"]
    for sla in ("on_track", "at_risk", "breached"):
        label = {
            "on_track": "Escalations on track",
            "at_risk": "Escalations at risk",
            "breached": "Escalations breached",
        }[sla]
        assert await _total(reader, f"/admin/escalations?sla={sla}") == want[label], sla
    for state, count in want["requests"].items():  # type: ignore[attr-defined]
        assert await _total(reader, f"/admin/requests?state={state}") == count, state


async def test_the_silent_chart_shares_match_a_direct_count(world: World) -> None:
    """Each kecamatan's bar is its silent households over its households."""
    truth = await _seed(world)
    reader = await world.client("samarinda")
    texts = _charts((await reader.get("/admin")).text)[0]
    shown = dict(zip(texts[0::2], texts[1::2], strict=True))
    for kecamatan in ("Palaran", "Sungai Kunjang"):
        mine = [h for h in truth.households if h[2] == kecamatan]
        extra = 1 if kecamatan == "Palaran" else 0  # the world's household, on the mentor rung
        share = (len([h for h in mine if h[3] in SILENT]) + extra) / (len(mine) + extra)
        assert shown[kecamatan] == f"{share:.0%}", kecamatan
