"""Partner offices: organisations admins manage, partners who see only their referrals, a
referral's whole life across two sign-ins, and the overdue reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from bot.cli import app
from scheduler.jobs import named, run_due
from storage import organisations, partners
from storage.models import AuditEvent, ChatIdentity, OutboxMessage, Referral, ServiceRequest
from storage.requests import RequestError
from tests import factories
from tests.admin_world import PASSWORD, World, csrf_of, fill, linked_chat, routes, world_fixture  # noqa: F401
from tests.conftest import T0
from tests.test_organisations import OG, ORGS
from tests.test_roster import _cli, csv_bytes

FAMILY_CHAT, MENTOR_CHAT, PARTNER_CHAT = 730101, 730001, 730201
DPK_PHONE = "+6281255550001"
# What a partner must never read: the household's NIK (masked or not), its No. KK, its
# programs and what it wrote in the chat, nor anything of the other organisation's referral.
SECRETS = ("6472016503810001", "6472********0001", "6472010101000001", "Selamat datang", "Rahasia")


@dataclass
class Partners:
    """Samarinda's Disperindagkop (with a linked chat) and Balikpapan's Disnakertrans."""

    dpk: int
    naker: int
    foreign_referral: int


@pytest.fixture
async def offices(world: World) -> Partners:
    """Two organisations with a partner account each, chats for the family, mentor and office."""
    async with await world.h.session() as s:
        dpk = await factories.organisation(s, phone=DPK_PHONE)
        naker = await factories.organisation(
            s,
            code="NAKER-BPN",
            name="Disnakertrans Balikpapan",
            kind="disnakertrans",
            region_code="6471",
        )
        for username, org in (("mitra-smd", dpk), ("mitra-bpn", naker)):
            await partners.add_partner(
                s, username=username, password=PASSWORD, organisation_code=org.code, now=T0
            )
        await linked_chat(s, world.samarinda.household, FAMILY_CHAT)
        s.add_all(
            [
                ChatIdentity(
                    channel="telegram",
                    external_id=str(MENTOR_CHAT),
                    mentor_id=world.samarinda.mentor,
                    consent_at=T0,
                    created_at=T0,
                ),
                ChatIdentity(
                    channel="telegram",
                    external_id=str(PARTNER_CHAT),
                    phone=DPK_PHONE,
                    consent_at=T0,
                    created_at=T0,
                ),
            ]
        )
        foreign = Referral(
            household_id=world.balikpapan.household,
            region_code="6471011001",
            office="disnakertrans",
            organisation_id=naker.id,
            asked="Pelatihan Rahasia",
            state="dikirim",
            created_by="balikpapan",
            sent_at=T0,
            updated_at=T0,
        )
        s.add(foreign)
        await s.flush()
        return Partners(dpk.id, naker.id, foreign.id)


async def _refer(world: World, officer: httpx.AsyncClient, organisation: int, **source: str) -> str:
    """The officer sends a referral through the form; where the browser goes next."""
    token = await csrf_of(officer)
    sent = await officer.post(
        "/admin/referrals",
        data={
            "csrf_token": token,
            "organisation": str(organisation),
            "asked": "Pelatihan pengemasan",
            "why": "Usaha keripik sudah jalan 6 bulan",
            **source,
        },
    )
    assert sent.status_code == 303, sent.text[:300]
    await world.h.work()
    return sent.headers["location"]


def _last(world: World, chat: int) -> str:
    """The newest message the bot sent to a Telegram chat."""
    said = world.h.telegram_said(chat)
    assert said, f"chat {chat} heard nothing"
    return said[-1].text


async def _answer(
    partner: httpx.AsyncClient, referral: int, action: str, **form: str
) -> httpx.Response:
    """The partner presses one of the answer buttons."""
    token = await csrf_of(partner, f"/admin/partner/referrals/{referral}")
    return await partner.post(
        f"/admin/partner/referrals/{referral}/{action}", data={"csrf_token": token, **form}
    )


async def _only_referral(world: World) -> Referral:
    async with await world.h.session() as s:
        (row,) = (
            await s.scalars(
                select(Referral)
                .where(Referral.organisation_id.is_not(None))
                .where(Referral.region_code.startswith("6472"))
            )
        ).all()
        return row


async def test_a_referral_lives_from_the_officer_to_the_partner_and_the_household_hears_each_step(
    world: World, offices: Partners
) -> None:
    officer = await world.client("samarinda")
    form = await officer.get(f"/admin/referrals/new?request={world.samarinda.request}")
    assert form.status_code == 200
    assert (
        "Disperindagkop Kota Samarinda" in form.text and "Disnakertrans Balikpapan" not in form.text
    )
    back = await _refer(
        world,
        officer,
        offices.dpk,
        household=str(world.samarinda.household),
        request=str(world.samarinda.request),
    )
    assert back == f"/admin/requests/{world.samarinda.request}?done=referred"
    async with await world.h.session() as s:
        asked = await s.get(ServiceRequest, world.samarinda.request)
        assert asked is not None and asked.state == "dirujuk"
        assert asked.referred_to == "Disperindagkop Kota Samarinda"
    ref = await _only_referral(world)
    assert (ref.request_id, ref.state, ref.referred_by_id) == (
        world.samarinda.request,
        "dikirim",
        world.samarinda.staff,
    )
    assert _last(world, FAMILY_CHAT).startswith(
        "Dinsos sudah meneruskan permintaan Anda ke Disperindagkop Kota Samarinda: Pelatihan pengemasan."
    )
    assert "Rujukan Siti" in _last(world, MENTOR_CHAT) and "Disperindagkop Kota Samarinda" in _last(
        world, MENTOR_CHAT
    )
    partner_heard = _last(world, PARTNER_CHAT)
    assert (
        partner_heard.startswith("Rujukan baru dari Dinsos: Siti")
        and "Pelatihan pengemasan" in partner_heard
    )
    assert "Mohon dijawab paling lambat 30 November 2026" in partner_heard

    partner = await world.client("mitra-smd")
    queue = await partner.get("/admin/partner")
    assert queue.status_code == 200
    for shown in (
        "Siti Aminah Rahayu",
        "Desa",
        "+6281300000001",
        "Pelatihan pengemasan",
        "Usaha keripik",
        "samarinda",
    ):
        assert shown in queue.text, shown
    for secret in (*SECRETS, "Pelatihan Rahasia"):
        assert secret not in queue.text, secret
    assert queue.text.index("Siti Aminah Rahayu") < queue.text.index("</table>")

    nothing = await _answer(partner, ref.id, "accept", plan="", plan_date="")
    assert nothing.headers["location"].endswith("error=accept")
    accepted = await _answer(
        partner, ref.id, "accept", plan="Kelas di balai desa", plan_date="2026-12-07"
    )
    assert accepted.headers["location"] == "/admin/partner?done=accept"
    await world.h.work()
    told = _last(world, FAMILY_CHAT)
    assert told.startswith("Kabar baik! Disperindagkop Kota Samarinda menerima rujukan Anda")
    assert "Tanggal: 7 Desember 2026" in told and "Rencana: Kelas di balai desa" in told
    assert "diterima dinas" in _last(world, MENTOR_CHAT)

    closed = await _answer(partner, ref.id, "close", outcome="trained", note="Lulus kelas")
    assert closed.status_code == 303
    await world.h.work()
    told = _last(world, FAMILY_CHAT)
    assert told.startswith("Rujukan Anda ke Disperindagkop Kota Samarinda sudah selesai")
    assert "Hasil: sudah ikut pelatihan" in told

    page = await officer.get(f"/admin/households/{world.samarinda.household}")
    assert "Disperindagkop Kota Samarinda" in page.text and "mitra-smd" in page.text
    async with await world.h.session() as s:
        steps = await s.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.household_id == world.samarinda.household,
                AuditEvent.action.startswith("referral."),
            )
            .order_by(AuditEvent.id)
        )
        assert list(steps) == ["referral.create", "referral.accept", "referral.close"]


async def test_a_partner_declines_with_a_reason_and_the_mentor_is_told(
    world: World, offices: Partners
) -> None:
    officer = await world.client("samarinda")
    back = await _refer(world, officer, offices.dpk, escalation=str(world.samarinda.escalation))
    assert back == f"/admin/escalations/{world.samarinda.escalation}?done=referred"
    ref = await _only_referral(world)
    assert ref.escalation_id == world.samarinda.escalation
    partner = await world.client("mitra-smd")
    refused = await _answer(partner, ref.id, "decline", reason=" ")
    assert refused.headers["location"].endswith("error=decline")
    declined = await _answer(partner, ref.id, "decline", reason="Kuota kelas tahun ini penuh")
    assert declined.status_code == 303
    await world.h.work()
    told = _last(world, FAMILY_CHAT)
    assert told.startswith("Maaf, Disperindagkop Kota Samarinda tidak menerima rujukan Anda")
    assert "Alasan: Kuota kelas tahun ini penuh" in told
    assert "Kuota kelas tahun ini penuh" in _last(world, MENTOR_CHAT)
    again = await _answer(partner, ref.id, "close", outcome="trained")
    assert again.headers["location"].endswith("error=close")


async def test_a_partner_sees_only_its_own_referrals_and_no_other_page(
    world: World, offices: Partners
) -> None:
    officer = await world.client("samarinda")
    await _refer(world, officer, offices.dpk, household=str(world.samarinda.household))
    mine = await _only_referral(world)
    partner = await world.client("mitra-smd")
    token = await csrf_of(partner, "/admin/partner")
    own = (
        "/admin/partner",
        "/admin/password",
        "/admin/logout",
        "/admin/login",
        "/admin/lang/{code}",
    )
    checked = 0
    for method, path in routes(world.app):
        if path.startswith(own):
            continue
        for region in (world.samarinda, world.balikpapan):
            response = await partner.request(
                method,
                fill(path, region),
                data={"csrf_token": token, "text": "x", "action": "approve"}
                if method == "POST"
                else None,
            )
            assert response.status_code in (403, 404), (method, path, response.status_code)
            for secret in (*SECRETS, "Siti Aminah Rahayu"):
                assert secret not in response.text, (path, secret)
            checked += 1
    assert checked >= 60
    assert (await partner.get("/admin/password")).status_code == 200
    foreign = offices.foreign_referral
    assert (await partner.get(f"/admin/partner/referrals/{foreign}")).status_code == 404
    assert (await _answer(partner, mine.id, "accept", plan="Minggu depan")).status_code == 303
    stolen = await partner.post(
        f"/admin/partner/referrals/{foreign}/decline", data={"csrf_token": token, "reason": "x"}
    )
    assert stolen.status_code == 404
    other = await world.client("mitra-bpn")
    theirs = await other.get("/admin/partner")
    assert "Pelatihan Rahasia" in theirs.text and "Siti Aminah Rahayu" not in theirs.text
    assert (await other.get(f"/admin/partner/referrals/{mine.id}")).status_code == 404
    async with await world.h.session() as s:
        untouched = await s.get(Referral, foreign)
        assert untouched is not None and untouched.state == "dikirim"
    # Staff pages are not a partner's, and partner pages are not staff's.
    assert (await officer.get("/admin/partner")).status_code == 403


async def test_a_partner_signs_in_to_its_queue(world: World, offices: Partners) -> None:
    client = await world.client()
    form = await client.get("/admin/login")
    from tests.admin_world import CSRF

    match = CSRF.search(form.text)
    assert match
    signed = await client.post(
        "/admin/login",
        data={
            "username": "mitra-smd",
            "password": PASSWORD,
            "csrf_token": match.group(1),
            "next_path": "/admin",
        },
    )
    assert signed.headers["location"] == "/admin/partner"
    page = await client.get("/admin/partner")
    assert "Rujukan untuk kami" in page.text and "Disperindagkop Kota Samarinda" in page.text
    assert 'href="/admin/households"' not in page.text


async def test_an_unanswered_referral_is_overdue_after_five_working_days_and_reminded_once(
    world: World, offices: Partners
) -> None:
    officer = await world.client("samarinda")
    await _refer(world, officer, offices.dpk, household=str(world.samarinda.household))
    ref = await _only_referral(world)
    assert ref.answer_by is not None and ref.answer_by.isoformat() == "2026-11-30"
    sessions = world.h.rt.sessions
    job = named("referrals_overdue")

    async def reminders() -> int:
        async with await world.h.session() as s:
            return int(
                await s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.dedupe_key.startswith("referral-overdue:"))
                )
                or 0
            )

    on_the_day = T0 + timedelta(days=7)  # Monday 30 November, the last day to answer
    assert (await run_due(sessions, on_the_day, jobs=job, slots=False)) == {"referrals_overdue": 0}
    assert await reminders() == 0
    day_after = on_the_day + timedelta(days=1)
    assert (await run_due(sessions, day_after, jobs=job, slots=False)) == {"referrals_overdue": 1}
    assert (await run_due(sessions, day_after + timedelta(hours=1), jobs=job, slots=False)) == {
        "referrals_overdue": 0
    }
    assert await reminders() == 1
    world.h.now = day_after
    await world.h.work()
    reminded = _last(world, PARTNER_CHAT)
    assert reminded.startswith("Pengingat: rujukan Siti") and "23 November 2026" in reminded

    officer = await world.client("samarinda")  # a week on: the first session has ended
    dashboard = await officer.get("/admin")
    assert "Rujukan yang belum dijawab" in dashboard.text
    assert "Pelatihan pengemasan" in dashboard.text
    office_row = dashboard.text.split("Rujukan terlambat per kantor")[1]
    assert "<td>Disperindagkop Kota Samarinda</td><td>1</td>" in office_row
    other = await world.client("balikpapan")
    assert "Pelatihan pengemasan" not in (await other.get("/admin")).text


def test_staff_add_partner_takes_the_region_of_its_organisation(tmp_path: Path) -> None:
    """`sinergi staff add USER --role partner --org KODE`: known kode only, never with --region."""
    (tmp_path / "organisasi.csv").write_bytes(csv_bytes(OG, ORGS))
    assert _cli(tmp_path, "organisations", str(tmp_path / "organisasi.csv")).exit_code == 0

    def staff(*args: str) -> Any:
        env = {
            "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
            "SINERGI_DATA_DIR": str(tmp_path),
            "SINERGI_SECRET_KEY": "test-secret-key-for-the-command-line",
        }
        return CliRunner().invoke(app, ["staff", "add", *args], env=env, input="panjang-sekali-1\n")

    made = staff("mitra", "--role", "partner", "--org", "kopdes-rm")
    assert made.exit_code == 0, made.output
    assert "staff mitra (partner, organisation KOPDES-RM) added" in made.output
    assert staff("lain", "--role", "partner", "--org", "TIDAK-ADA").exit_code == 2
    assert staff("lain", "--role", "partner").exit_code == 2
    assert (
        staff("lain", "--role", "partner", "--org", "KOPDES-RM", "--region", "6472").exit_code == 2
    )
    assert staff("lain", "--role", "officer", "--org", "KOPDES-RM").exit_code == 2
    engine = sa.create_engine(f"sqlite:///{tmp_path}/cli.db")
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT s.role, s.region_code, o.code FROM staff_users s "
                "JOIN organisations o ON o.id = s.organisation_id"
            )
        ).one()
    engine.dispose()
    assert tuple(row) == ("partner", "647201", "KOPDES-RM")


async def test_admins_list_add_and_edit_organisations_and_officers_cannot(world: World) -> None:
    admin = await world.client("kaltim")
    token = await csrf_of(admin, "/admin/organisations")
    cells = {"kode": "pupr-kukar", "nama": "Dinas PUPR Kutai Kartanegara", "jenis": "pupr"}
    refused = await admin.post("/admin/organisations", data={**cells, "kode_wilayah": "64.02"})
    assert refused.status_code == 403
    added = await admin.post(
        "/admin/organisations", data={"csrf_token": token, **cells, "kode_wilayah": "64.02"}
    )
    assert added.headers["location"] == "/admin/organisations?done=saved"
    outside = await admin.post(
        "/admin/organisations",
        data={"csrf_token": token, **cells, "kode": "JATIM", "kode_wilayah": "35"},
    )
    assert outside.status_code == 400 and "Baris ini di luar wilayah Anda" in outside.text
    bad = await admin.post(
        "/admin/organisations",
        data={
            "csrf_token": token,
            **cells,
            "kode": "LAIN",
            "jenis": "bappeda",
            "kode_wilayah": "64",
        },
    )
    assert bad.status_code == 400 and "jenis bappeda bukan salah satu dari" in bad.text
    async with await world.h.session() as s:
        found = await organisations.by_code(s, "PUPR-KUKAR")
        assert found is not None and found.region_code == "6402"
    form = await admin.get(f"/admin/organisations/{found.id}")
    assert 'value="Dinas PUPR Kutai Kartanegara"' in form.text
    renamed = await admin.post(
        "/admin/organisations",
        data={
            "csrf_token": token,
            **cells,
            "organisation_id": str(found.id),
            "nama": "Dinas PUPR Kukar",
            "kode_wilayah": "64.02",
            "no_hp": "0812 5555 0009",
        },
    )
    assert renamed.status_code == 303
    listing = await admin.get("/admin/organisations")
    assert "Dinas PUPR Kukar" in listing.text and "+6281255550009" in listing.text
    assert "Kutai Kartanegara" not in listing.text
    officer = await world.client("samarinda")
    assert (await officer.get("/admin/organisations")).status_code == 403
    assert (await officer.get(f"/admin/organisations/{found.id}")).status_code == 403
    officer_token = await csrf_of(officer)
    sneaked = await officer.post(
        "/admin/organisations",
        data={"csrf_token": officer_token, **cells, "kode": "X", "kode_wilayah": "6472"},
    )
    assert sneaked.status_code == 403


async def test_the_command_line_refers_a_request_to_an_organisation_by_its_kode(
    world: World, offices: Partners
) -> None:
    from bot.commands import request as request_cmd

    line = await request_cmd.set_state(
        world.h.rt, "PL-2611-0001", "dirujuk", note="Lewat CLI", office="dpk-smd", now=world.h.now
    )
    assert line == "PL-2611-0001: dirujuk (DPK-SMD)"
    await world.h.work()
    ref = await _only_referral(world)
    assert (ref.request_id, ref.asked, ref.why) == (
        world.samarinda.request,
        "ingin belajar",
        "Lewat CLI",
    )
    assert _last(world, PARTNER_CHAT).startswith("Rujukan baru dari Dinsos: Siti")
    with pytest.raises(RequestError):
        await request_cmd.set_state(
            world.h.rt, "PL-2611-0002", "dirujuk", note=None, office="DPK-SMD", now=world.h.now
        )
    async with await world.h.session() as s:
        assert (
            await s.scalar(select(func.count()).select_from(Referral)) == 2
        )  # and the foreign one
