"""Helpers of the admin tests: two regions with records, staff of each, signed-in HTTP clients."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from storage import escalations, outbox
from storage.media import MediaStore
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Escalation,
    LadderState,
    ProgressReport,
    Proposal,
    Referral,
    Region,
    ServiceRequest,
    StaffUser,
)
from storage.staff import add_staff, hash_password
from tests import factories
from tests.conftest import T0
from tests.harness import Harness

PASSWORD = "kata-sandi-yang-panjang"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Region_:
    """The records of one region that a test looks for."""

    code: str
    household: int
    mentor: int
    escalation: int
    request: int
    report: int
    staff: int
    names: list[str] = field(default_factory=list)
    proposal: int = 0
    voice_note: int = 0
    referral: int = 0
    organisation: int = 0
    no_kk: str = ""


@dataclass
class World:
    """Samarinda (6472) and Balikpapan (6471), each with a household, mentor, escalation, request."""

    h: Harness
    app: Any
    samarinda: Region_
    balikpapan: Region_

    async def client(
        self, username: str | None = None, password: str = PASSWORD
    ) -> httpx.AsyncClient:
        """A browser of its own, signed in as `username` (anonymous when None)."""
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://sinergi.test"
        )
        if username is not None:
            response = await login(client, username, password)
            assert response.status_code == 303, response.text[:500]
        return client


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """Fill in the login form as a browser would."""
    form = await client.get("/admin/login")
    token = CSRF.search(form.text)
    assert token, form.text[:300]
    return await client.post(
        "/admin/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token.group(1),
            "next_path": "/admin",
        },
    )


async def csrf_of(client: httpx.AsyncClient, path: str = "/admin") -> str:
    """The CSRF token a signed-in page carries."""
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found, page.text[:300]
    return found.group(1)


async def signed_in_officer(h: Harness, username: str, region: str) -> httpx.AsyncClient:
    """A signed-in Dinsos officer of `region`, on the harness's app and clock."""
    async with await h.session() as s:
        await add_staff(
            s, username=username, password=PASSWORD, role="officer", region_code=region, now=T0
        )
    app = h.client._transport.app  # type: ignore[attr-defined]
    app.state.clock = lambda: h.now
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sinergi.test"
    )
    assert (await login(client, username, PASSWORD)).status_code == 303
    return client


async def _region(
    session: AsyncSession,
    h: Harness,
    *,
    code: str,
    kecamatan: str,
    name: str,
    kk: str,
    nik: str,
    phone: str,
    mentor_phone: str,
    staff: str,
    reference: str,
) -> Region_:
    """One kabupaten's records (in its desa 01.1001) and its officer."""
    desa = code + "011001"
    session.add_all(
        [
            Region(code=code, name=f"Kota {code}", level=2),
            Region(code=code + "01", name=kecamatan, level=3),
            Region(code=desa, name=f"Desa {name}", level=4),
        ]
    )
    records = await _records(
        session,
        h,
        desa=desa,
        kecamatan=kecamatan,
        name=name,
        kk=kk,
        nik=nik,
        phone=phone,
        mentor_phone=mentor_phone,
        reference=reference,
    )
    user = await add_staff(
        session, username=staff, password=PASSWORD, role="officer", region_code=code, now=T0
    )
    records.code, records.staff = code, user.id
    return records


async def _records(
    session: AsyncSession,
    h: Harness,
    *,
    desa: str,
    kecamatan: str,
    name: str,
    kk: str,
    nik: str,
    phone: str,
    mentor_phone: str,
    reference: str,
    handed_up: bool = False,
) -> Region_:
    """A desa's household with its mentor, escalation, request, report and ladder, and a proposal.

    `handed_up`: the escalation is the mentor's handoff through storage (its region code is
    what storage writes), not a row written here.
    """
    mentor = await factories.mentor(
        session, name=f"Mentor {name}", phone=mentor_phone, region_code=desa
    )
    hh = await factories.household(
        session,
        h.rt.vault,
        nik=nik,
        no_kk=kk,
        name=name,
        phone=phone,
        region_code=desa,
        mentor_id=mentor.id,
    )
    hh.kecamatan = kecamatan
    if handed_up:
        esc = await escalations.hand_up(
            session,
            household=hh,
            mentor_id=mentor.id,
            note="tidak bisa dihubungi",
            now=T0,
            sla_due=date(2026, 11, 30),
        )
    else:
        esc = Escalation(
            household_id=hh.id,
            region_code=desa,
            reason="silent",
            level=1,
            state="open",
            sla_due=date(2026, 11, 30),
            created_at=T0,
        )
    req = ServiceRequest(
        reference=reference,
        household_id=hh.id,
        kind="pelatihan",
        topic="pengemasan",
        details="ingin belajar",
        state="diajukan",
        region_code=desa,
        created_at=T0,
        updated_at=T0,
    )
    rep = ProgressReport(
        household_id=hh.id,
        period="2026-11",
        business_state="berjalan",
        omzet=1_500_000,
        status="complete",
        started_at=T0,
        submitted_at=T0,
    )
    session.add_all(
        [
            esc,
            req,
            rep,
            LadderState(
                household_id=hh.id,
                cycle_start=date(2026, 11, 1),
                rung="mentor",
                updated_at=T0 - timedelta(days=10),
            ),
        ]
    )
    proposer = ChatIdentity(channel="local", external_id=f"usul-{desa}", created_at=T0)
    session.add(proposer)
    await session.flush()
    proposal = Proposal(
        reference=f"US-2611-{desa}",
        identity_id=proposer.id,
        name=f"Usulan {name}",
        region_code=desa,
        state="diajukan",
        created_at=T0,
        updated_at=T0,
    )
    voice = AuditEvent(  # a voice note as the chat keeps it, its file in the media store
        at=T0,
        actor="chat:0",
        action="voice_note",
        household_id=hh.id,
        region_code=desa,
        detail={
            "media": MediaStore(h.rt.settings.media_path).save(f"OggS {name}".encode()),
            "mime_type": "audio/ogg",
        },
    )
    session.add_all([proposal, voice])
    await session.flush()
    names = [name, f"Mentor {name}", reference, f"Usulan {name}"]
    return Region_(
        desa,
        hh.id,
        mentor.id,
        esc.id,
        req.id,
        rep.id,
        0,
        names,
        proposal=proposal.id,
        voice_note=voice.id,
        no_kk=kk,
    )


async def linked_chat(session: AsyncSession, household_id: int, chat_id: int) -> ChatIdentity:
    """A consented Telegram chat linked to the household, with one message already sent to it."""
    identity = ChatIdentity(
        channel="telegram",
        external_id=str(chat_id),
        household_id=household_id,
        locale="id",
        consent_at=T0,
        opted_out=False,
        created_at=T0,
        last_inbound_at=T0,
    )
    session.add(identity)
    await session.flush()
    outbox.enqueue(session, identity, Reply("Selamat datang").to_payload(), now=T0)
    return identity


@pytest.fixture(name="world")
async def world_fixture(harness: Harness) -> World:
    """Two regions with records and an officer each, plus a provincial admin of Kalimantan Timur."""
    app = harness.client._transport.app  # type: ignore[attr-defined]
    app.state.clock = lambda: harness.now
    async with await harness.session() as session:
        samarinda = await _region(
            session,
            harness,
            code="6472",
            kecamatan="Palaran",
            name="Siti Aminah Rahayu",
            kk="6472010101000001",
            nik="6472016503810001",
            phone="+6281300000001",
            mentor_phone="+6281200000001",
            staff="samarinda",
            reference="PL-2611-0001",
        )
        balikpapan = await _region(
            session,
            harness,
            code="6471",
            kecamatan="Balikpapan Selatan",
            name="Rahasia Balikpapan",
            kk="6471010101000002",
            nik="6471014404790002",
            phone="+6281300000002",
            mentor_phone="+6281200000002",
            staff="balikpapan",
            reference="PL-2611-0002",
        )
        await add_staff(
            session, username="kaltim", password=PASSWORD, role="admin", region_code="64", now=T0
        )
    return World(harness, app, samarinda, balikpapan)


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every staff route of the app, included routers unfolded."""

    def walk(items: list[Any]) -> Iterator[Any]:
        for item in items:
            inner = getattr(item, "original_router", None)
            yield from walk(inner.routes) if inner is not None else [item]

    for route in walk(app.routes):
        path = getattr(route, "path", "")
        if path.startswith(("/admin", "/simulator")):
            for method in sorted(getattr(route, "methods", None) or []):
                if method != "HEAD":
                    yield method, path


def fill(path: str, region: Any) -> str:
    """The path with the ids of one region's records."""
    ids = {
        "escalation_id": region.escalation,
        "household_id": region.household,
        "request_id": region.request,
        "mentor_id": region.mentor,
        "report_id": region.report,
        "staff_id": region.staff,
        "proposal_id": region.proposal,
        "event_id": region.voice_note,
        "referral_id": region.referral or 1,
        "organisation_id": region.organisation or 1,
        "action": "accept",
        "membership_id": 1,
        "job_id": "0",  # no import job has this id (test_admin_labels makes one)
        "code": "en",
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


# Four levels ------------------------------------------------------------------------------------

# Two provinsi × two kabupaten/kota × two kecamatan × two desa: one household in each desa.
PROVINSI = {"64": "Kalimantan Timur", "63": "Kalimantan Selatan"}
KABUPATEN = {
    "6472": "Kota Samarinda",
    "6471": "Kota Balikpapan",
    "6371": "Kota Banjarmasin",
    "6372": "Kota Banjarbaru",
}
WORDS = [
    "Anggrek",
    "Bakung",
    "Cempaka",
    "Dahlia",
    "Edelweis",
    "Flamboyan",
    "Gardenia",
    "Kamboja",
    "Kenanga",
    "Lavender",
    "Melati",
    "Nusa Indah",
    "Seruni",
    "Tulip",
    "Teratai",
    "Wijaya Kusuma",
]
LEAVES = [k + kec + desa for k in KABUPATEN for kec in ("01", "02") for desa in ("1001", "1002")]
# The officer of each level sits above the first desa: 64 ⊃ 6472 ⊃ 647201 ⊃ 6472011001.
LEVEL_CODES = {"provinsi": "64", "kabupaten": "6472", "kecamatan": "647201", "desa": "6472011001"}
BESIDE = ["6472011002", "6472021001", "6471011001", "6371011001"]
LEVELS_OF = {2: 1, 4: 2, 6: 3, 10: 4}  # Region.level of a code's length


@dataclass
class Levels:
    """The sixteen desa's records by code, an officer per level (named by the level) and `kaltim`."""

    world: World
    leaves: dict[str, Region_]
    region_names: dict[str, str]

    def inside(self, code: str) -> list[Region_]:
        """The records under `code`."""
        return [r for c, r in self.leaves.items() if c.startswith(code)]

    def outside(self, code: str) -> list[Region_]:
        """The records beside `code` (not under it)."""
        return [r for c, r in self.leaves.items() if not c.startswith(code)]

    def beside(self, code: str) -> list[Region_]:
        """One desa just outside `code` at each level: its sibling desa, kecamatan, kota, provinsi."""
        return [self.leaves[c] for c in BESIDE if not c.startswith(code)]


def _region_names() -> dict[str, str]:
    """A name for every code of the four levels (none contains another's name)."""
    names = dict(PROVINSI) | dict(KABUPATEN)
    for i, leaf in enumerate(LEAVES):
        names[leaf[:6]] = f"Kecamatan {KABUPATEN[leaf[:4]].split()[-1]} {leaf[4:6]}"
        names[leaf] = f"Kelurahan {WORDS[i]}"
    return names


async def _leaf(session: AsyncSession, h: Harness, i: int, desa: str) -> Region_:
    """The records of the i-th desa, escalated by its mentor, with a photo and a referral."""
    records = await _records(
        session,
        h,
        desa=desa,
        kecamatan=f"Kecamatan {desa[4:6]}",
        name=f"Warga {WORDS[i]}",
        kk=f"{desa[:6]}01010000{i:02d}",
        nik=f"{desa[:6]}650381{i:04d}",
        phone=f"+62813100000{i:02d}",
        mentor_phone=f"+62812100000{i:02d}",
        reference=f"PL-2611-{1001 + i}",
        handed_up=True,
    )
    report = await session.get(ProgressReport, records.report)
    assert report is not None
    report.photo_path = MediaStore(h.rt.settings.media_path).save(
        b"\xff\xd8\xff jpeg", mime_type="image/jpeg"
    )
    referral = Referral(
        household_id=records.household,
        region_code=desa,
        office="pupr",
        asked="bedah rumah",
        state="dikirim",
        created_by="kaltim",
        sent_at=T0,
        updated_at=T0,
    )
    session.add(referral)
    user = _account(session, f"petugas-{desa}", "officer", desa)
    await session.flush()
    records.staff, records.referral = user.id, referral.id
    records.names.append(f"petugas-{desa}")
    return records


@functools.cache
def _password_hash() -> str:
    """One Argon2id hash of PASSWORD for every account of the world (each costs a second)."""
    return hash_password(PASSWORD)


def _account(session: AsyncSession, username: str, role: str, region_code: str) -> StaffUser:
    """An active staff account signing in with PASSWORD."""
    user = StaffUser(
        username=username,
        password_hash=_password_hash(),
        role=role,
        region_code=region_code,
        active=True,
        failed_logins=0,
        created_at=T0,
    )
    session.add(user)
    return user


@pytest.fixture(name="levels")
async def levels_fixture(harness: Harness) -> Levels:
    """Sixteen desa under two provinsi, an officer at each level of the first desa, an admin of 64."""
    app = harness.client._transport.app  # type: ignore[attr-defined]
    app.state.clock = lambda: harness.now
    names = _region_names()
    async with await harness.session() as session:
        session.add_all([Region(code=c, name=n, level=LEVELS_OF[len(c)]) for c, n in names.items()])
        leaves = {desa: await _leaf(session, harness, i, desa) for i, desa in enumerate(LEAVES)}
        for level, code in LEVEL_CODES.items():
            _account(session, level, "officer", code)
        _account(session, "kaltim", "admin", "64")
    empty = Region_("", 0, 0, 0, 0, 0, 0)
    return Levels(World(harness, app, empty, empty), leaves, names)
