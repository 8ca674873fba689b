"""Referrals to other offices, what the household and mentor see in the chat, and the admin graduation pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers import notices
from scheduler.jobs import named, run_due
from storage import organisations, referrals
from storage.models import GraduationStage, StageTransition
from storage.scope import Scope
from tests import factories
from tests import ladder_factories as lf
from tests.admin_world import World, csrf_of, world_fixture  # noqa: F401
from tests.conftest import T0
from tests.harness import Harness

FAMILY_CHAT = 710101
MENTOR_CHAT = 710001
SAMARINDA = Scope(prefix="6472", role="officer", staff_id=1, username="samarinda")
BALIKPAPAN = Scope(prefix="6471", role="officer", staff_id=2, username="balikpapan")


async def _family(h: Harness, status: str = "disalurkan") -> int:
    async with await h.session() as s:
        await factories.organisation(s)
        await factories.organisation(
            s, code="NAKER-KT", name="Disnakertrans Kaltim", kind="disnakertrans", region_code="64"
        )
        mentor = await lf.mentor_on_chat(s, user_id=MENTOR_CHAT)
        hh = await lf.enrolled(
            s,
            h.rt.vault,
            n=1,
            name="Siti Aminah Rahayu",
            mentor_id=mentor.id,
            user_id=FAMILY_CHAT,
            status=status,
        )
        return hh.id


async def _say(
    h: Harness, chat: int, text: str | None = None, press: str | None = None
) -> list[str]:
    """One message or button press from a chat; the bot's answers."""
    seen = len(h.telegram_said(chat))
    update = h.telegram_callback(chat, press) if press else h.telegram_update(chat, text=text)
    assert (await h.post_telegram(update)).status_code == 200
    await h.work()
    return [s.text for s in h.telegram_said(chat, seen)]


async def test_a_referral_is_scoped_told_to_the_household_and_overdue_after_five_working_days(
    harness: Harness,
) -> None:
    h = harness
    hid = await _family(h)
    async with await h.session() as s:
        dpk = await organisations.by_code(s, "DPK-SMD")
        assert dpk is not None
        with pytest.raises(referrals.ReferralError):
            await referrals.create(
                s,
                BALIKPAPAN,
                household_id=hid,
                organisation_id=dpk.id,
                asked="modal",
                actor="balikpapan",
                now=T0,
                answer_days=5,
            )
        row = await referrals.create(
            s,
            SAMARINDA,
            household_id=hid,
            organisation_id=dpk.id,
            asked="Tambahan modal dan pemasaran",
            actor="samarinda",
            now=T0,
            answer_days=5,
        )
        await notices.referral_news(s, row, now=T0)
        ref_id = row.id
    await h.work()
    told = h.telegram_said(FAMILY_CHAT)[-1].text
    assert told.startswith(
        "Dinsos sudah meneruskan permintaan Anda ke Disperindagkop Kota Samarinda"
    )
    assert "Tambahan modal dan pemasaran" in told and "kalau dinas sudah menjawab" in told
    later = T0 + timedelta(days=15)
    async with await h.session() as s:
        # Sent on Monday 23 November: five working days end on Monday 30 November.
        assert [r.id for r, _hh in await referrals.overdue_referrals(s, SAMARINDA, later)] == [
            ref_id
        ]
        on_the_day = T0 + timedelta(days=7)
        assert await referrals.overdue_referrals(s, SAMARINDA, on_the_day) == []
        assert (
            len(await referrals.overdue_referrals(s, SAMARINDA, on_the_day + timedelta(days=1)))
            == 1
        )
        assert await referrals.overdue_referrals(s, BALIKPAPAN, later) == []
        assert await referrals.get(s, BALIKPAPAN, ref_id) is None
        with pytest.raises(referrals.ReferralError):
            await referrals.move(s, SAMARINDA, ref_id, "selesai", now=later)
        with pytest.raises(referrals.ReferralError):
            await referrals.move(s, BALIKPAPAN, ref_id, "diterima", now=later)
        moved = await referrals.move(
            s, SAMARINDA, ref_id, "diterima", now=later, note="Dijadwalkan Desember"
        )
        await notices.referral_news(s, moved, now=later)
    h.advance(days=15)  # the news is queued at `later`
    await h.work()
    told = h.telegram_said(FAMILY_CHAT)[-1].text
    assert told.startswith("Kabar baik! Disperindagkop Kota Samarinda menerima rujukan Anda")
    assert "Keterangan dari kantor: Dijadwalkan Desember" in told
    async with await h.session() as s:
        assert await referrals.overdue_referrals(s, SAMARINDA, later + timedelta(days=30)) == []
        assert (await referrals.open_referrals(s, SAMARINDA)).total == 1


async def test_the_household_sees_its_journey_and_open_referrals_in_the_chat(
    harness: Harness,
) -> None:
    h = harness
    hid = await _family(h)
    await run_due(h.rt.sessions, T0, jobs=named("graduation", "relapse"), slots=False)
    async with await h.session() as s:
        naker = await organisations.by_code(s, "NAKER-KT")
        assert naker is not None
        await referrals.create(
            s,
            SAMARINDA,
            household_id=hid,
            organisation_id=naker.id,
            asked="Pelatihan kemasan",
            actor="samarinda",
            now=T0,
            answer_days=5,
        )
    menu = await _say(h, FAMILY_CHAT, "MENU")
    assert menu
    said = await _say(h, FAMILY_CHAT, press="journey")
    text = said[-1]
    assert "Tahap usaha Anda: Usaha rintisan (sejak 23 November 2026)." in text
    assert "kirim laporan usaha setiap bulan" in text and "3 bulan berturut-turut" in text
    assert "Disnakertrans Kaltim: Pelatihan kemasan. Status: dikirim, menunggu dinas" in text
    typed = await _say(h, FAMILY_CHAT, "perjalanan usaha")
    assert "Tahap usaha Anda" in typed[-1]


async def test_a_household_off_the_path_is_told_whom_to_ask(harness: Harness) -> None:
    h = harness
    await _family(h)  # not seeded: the graduation job has not run
    said = await _say(h, FAMILY_CHAT, "perjalanan usaha")
    assert "belum ikut program usaha" in said[-1]


async def test_a_mentor_sees_stages_with_warnings_and_confirms_mandiri(harness: Harness) -> None:
    h = harness
    hid = await _family(h)
    await run_due(h.rt.sessions, T0, jobs=named("graduation", "relapse"), slots=False)
    async with await h.session() as s:  # as if three running reports had come in
        row = await s.get(GraduationStage, hid)
        assert row is not None
        row.stage, row.rank, row.risk_since, row.risk_reason = (
            "usaha_berjalan",
            3,
            T0,
            "omzet_turun",
        )
    await _say(h, MENTOR_CHAT, "MENU")
    listing = await _say(h, MENTOR_CHAT, press="stages")
    assert "Keluarga dampingan Anda di jalur usaha (1):" in listing[-1]
    assert "Usaha berjalan ⚠ omzet turun dua laporan berturut-turut" in listing[-1]
    family = await _say(h, MENTOR_CHAT, press=f"mj:hh:{hid}")
    assert "Tahap: Usaha berjalan" in family[-1]
    ask = await _say(h, MENTOR_CHAT, press=f"mj:confirm:{hid}")
    assert "sekarang sudah mandiri" in ask[-1]
    done = await _say(h, MENTOR_CHAT, press=f"mj:yes:{hid}")
    assert "sekarang dihitung mandiri" in done[0]
    async with await h.session() as s:
        stage = await s.get(GraduationStage, hid)
        assert stage is not None and stage.stage == "mandiri" and stage.risk_since is None
        move = await s.scalar(select(StageTransition).where(StageTransition.to_stage == "mandiri"))
        assert move is not None and move.confirmed_by.startswith("mentor:")


async def test_a_mentor_cannot_confirm_someone_elses_family(harness: Harness) -> None:
    h = harness
    hid = await _family(h)
    await run_due(h.rt.sessions, T0, jobs=named("graduation", "relapse"), slots=False)
    async with await h.session() as s:
        await lf.mentor_on_chat(s, user_id=MENTOR_CHAT + 1, name="Lain", phone="+6281200000099")
        row = await s.get(GraduationStage, hid)
        assert row is not None
        row.stage, row.rank = "anggota_koperasi", 4
    await _say(h, MENTOR_CHAT + 1, "MENU")
    said = await _say(h, MENTOR_CHAT + 1, press=f"mj:yes:{hid}")
    assert all("dihitung mandiri" not in t for t in said)
    async with await h.session() as s:
        stage = await s.get(GraduationStage, hid)
        assert stage is not None and stage.stage == "anggota_koperasi"


# The admin pages -----------------------------------------------------------------------------


async def _on_path(world: World, stage: str = "usaha_berjalan") -> None:
    await run_due(world.h.rt.sessions, T0, jobs=named("graduation", "relapse"), slots=False)
    async with await world.h.session() as s:
        for region in (world.samarinda, world.balikpapan):
            row = await s.get(GraduationStage, region.household)
            assert row is not None, "the report puts each household on the path"
            row.stage, row.rank, row.risk_since, row.risk_reason = stage, 3, T0, "usaha_berhenti"


async def test_the_graduation_page_shows_my_region_only_and_exports_it(world: World) -> None:
    await _on_path(world)
    officer = await world.client("samarinda")
    page = await officer.get("/admin/graduation")
    assert page.status_code == 200
    assert "Jalur graduasi" in page.text and "Siti Aminah Rahayu" in page.text
    assert "usaha berhenti atau tutup" in page.text
    assert "Rahasia" not in page.text
    funnel = await officer.get("/admin/graduation/export?what=funnel")
    lines = funnel.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("kode_wilayah,wilayah,penerima_bansos")
    assert len(lines) == 2 and lines[1].startswith("647201,")
    risky = (await officer.get("/admin/graduation/export?what=at_risk")).content.decode("utf-8-sig")
    assert "Siti Aminah Rahayu" in risky and "Rahasia" not in risky
    assert (
        await officer.get(f"/admin/graduation/households/{world.balikpapan.household}")
    ).status_code == 404
    assert (await officer.get("/admin/graduation/export?what=nik")).status_code == 400


async def test_staff_refer_confirm_and_clear_through_the_forms(world: World) -> None:
    await _on_path(world)
    officer = await world.client("samarinda")
    hid = world.samarinda.household
    async with await world.h.session() as s:
        pupr = await factories.organisation(
            s, code="PUPR-SMD", name="Dinas PUPR Kota Samarinda", kind="pupr", region_code="6472"
        )
    token = await csrf_of(officer, f"/admin/graduation/households/{hid}")
    form = {"household": str(hid), "organisation": str(pupr.id), "asked": "Air bersih"}
    refused = await officer.post("/admin/referrals", data=form)
    assert refused.status_code == 403
    sent = await officer.post("/admin/referrals", data={"csrf_token": token, **form})
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=referred")
    bad = await officer.post(
        "/admin/referrals", data={"csrf_token": token, **form, "organisation": "999"}
    )
    assert bad.headers["location"].endswith("error=missing")
    async with await world.h.session() as s:
        (ref,) = await referrals.of_household(s, hid)
    moved = await officer.post(
        f"/admin/graduation/households/{hid}/referral",
        data={"csrf_token": token, "referral_id": str(ref.id), "state": "diterima"},
    )
    assert moved.headers["location"].endswith("done=moved")
    confirmed = await officer.post(
        f"/admin/graduation/households/{hid}/mandiri",
        data={"csrf_token": token, "note": "Omzet stabil, anggota koperasi"},
    )
    assert confirmed.headers["location"].endswith("done=mandiri")
    page = await officer.get(f"/admin/graduation/households/{hid}")
    assert "Mandiri (lulus)" in page.text and "PUPR (rumah, air bersih)" in page.text
    assert "diterima dinas" in page.text
    async with await world.h.session() as s:
        stage = await s.get(GraduationStage, hid)
        assert stage is not None and stage.stage == "mandiri"
        move = await s.scalar(select(StageTransition).where(StageTransition.to_stage == "mandiri"))
        assert move is not None and move.confirmed_by == f"staff:{world.samarinda.staff}"
    other = await officer.post(
        f"/admin/graduation/households/{world.balikpapan.household}/clear",
        data={"csrf_token": token},
    )
    assert other.status_code == 404
    async with await world.h.session() as s:
        theirs = await s.get(GraduationStage, world.balikpapan.household)
        assert theirs is not None and theirs.risk_since is not None
