"""The graduation path: households move along it with the tick and back on relapse signals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select

from bot.commands.tick import run_tick
from scheduler.graduation import advance_stages, months_back, watch_relapse
from scheduler.jobs import named, run_due
from storage import graduation, reports, requests
from storage.graduation_rules import STAGES, Rules
from storage.models import (
    Escalation,
    GraduationStage,
    Household,
    OutboxMessage,
    ProgramEnrollment,
    RelapseSignal,
    StageTransition,
)
from storage.roster import import_roster
from tests import ladder_factories as lf
from tests.conftest import T0
from tests.harness import Harness

MENTOR_CHAT = 700001
FAMILY_CHAT = 700101


async def _family(h: Harness, *, program: str = "BANTUAN_USAHA", status: str = "aktif") -> int:
    """One household with a business package on the way, its chat, and its mentor on chat."""
    async with await h.session() as s:
        mentor = await lf.mentor_on_chat(s, user_id=MENTOR_CHAT)
        hh = await lf.enrolled(
            s,
            h.rt.vault,
            n=1,
            name="Siti Aminah Rahayu",
            mentor_id=mentor.id,
            user_id=FAMILY_CHAT,
            program=program,
            status=status,
        )
        return hh.id


async def _jobs(h: Harness, when: datetime) -> dict[str, int]:
    """Both graduation jobs at `when`, then the outbox."""
    counts = await run_due(h.rt.sessions, when, jobs=named("graduation", "relapse"), slots=False)
    while await h.rt.sender.deliver(when):
        pass
    return counts


async def _stage(h: Harness, household_id: int) -> GraduationStage:
    async with await h.session() as s:
        row = await s.get(GraduationStage, household_id)
        assert row is not None
        return row


async def _moves(h: Harness, household_id: int) -> list[tuple[str | None, str, str, str]]:
    async with await h.session() as s:
        rows = await s.scalars(
            select(StageTransition)
            .where(StageTransition.household_id == household_id)
            .order_by(StageTransition.id)
        )
        return [(r.from_stage, r.to_stage, r.direction, r.evidence_kind) for r in rows]


async def _request(h: Harness, household_id: int, kind: str, to: str, when: datetime) -> str:
    """A request filed by the household and moved by staff of the kabupaten."""
    async with await h.session() as s:
        hh = await s.get(Household, household_id)
        assert hh is not None
        row, _new = await requests.file_request(
            s,
            household=hh,
            kind=kind,
            topic="pengolahan_pangan" if kind == "pelatihan" else None,
            details=None,
            actor="household",
            now=when,
        )
        await requests.transition(s, row.id, to, actor="staff:1", note=None, now=when, scope="6472")
        return row.reference


async def _report(
    h: Harness, household_id: int, when: datetime, state: str = "berjalan", omzet: int = 1_500_000
) -> None:
    async with await h.session() as s:
        await reports.submit(
            s,
            household_id=household_id,
            period=reports.period_of(when),
            answers={"state": state, "omzet": omzet, "problem": "tidak_ada"},
            now=when,
        )


async def _import(h: Harness, kind: str, csv: str, when: datetime) -> None:
    async with await h.session() as s:
        result = await import_roster(
            s, kind, csv.encode(), f"{kind}.csv", vault=h.rt.vault, now=when
        )
        assert result.rejected == 0, result.problems


PROGRAMS = "no_kk,program,status,periode,nominal,tanggal_data,sumber\n"
KK = "6472010101000001"


def month(n: int) -> datetime:
    """The 10th of the n-th month after November 2026, 10:00 WITA."""
    year, m = 2026 + (10 + n) // 12, (10 + n) % 12 + 1
    return datetime(year, m, 10, 2, 0, tzinfo=T0.tzinfo)


async def _to_business_running(h: Harness) -> int:
    """A household taken from aid to a running business: training, package, three reports."""
    hid = await _family(h)
    await _jobs(h, T0)
    await _request(h, hid, "pelatihan", "disetujui", T0 + timedelta(hours=1))
    await _import(
        h,
        "programs",
        PROGRAMS + f"{KK},BANTUAN_USAHA,disalurkan,2026,5000000,2026-11-20,Dinsos Kaltim\n",
        T0 + timedelta(hours=2),
    )
    await _jobs(h, T0 + timedelta(hours=3))
    for n in (1, 2, 3):
        await _report(h, hid, month(n))
        await _jobs(h, month(n) + timedelta(hours=1))
    return hid


async def test_a_household_walks_the_whole_path_and_each_step_has_its_evidence(
    harness: Harness,
) -> None:
    h = harness
    hid = await _family(h)
    await _jobs(h, T0)
    assert (await _stage(h, hid)).stage == "penerima_bansos"
    reference = await _request(h, hid, "pelatihan", "disetujui", T0 + timedelta(hours=1))
    await _jobs(h, T0 + timedelta(hours=2))
    assert (await _stage(h, hid)).stage == "pelatihan"
    await _import(
        h,
        "programs",
        PROGRAMS + f"{KK},BANTUAN_USAHA,disalurkan,2026,5000000,2026-11-20,Dinsos Kaltim\n",
        T0 + timedelta(days=1),
    )
    await _jobs(h, T0 + timedelta(days=1, hours=1))
    assert (await _stage(h, hid)).stage == "usaha_rintisan"
    for n in (1, 2):
        await _report(h, hid, month(n))
        await _jobs(h, month(n) + timedelta(hours=1))
        assert (await _stage(h, hid)).stage == "usaha_rintisan", n  # not yet three in a row
    await _report(h, hid, month(3))
    await _jobs(h, month(3) + timedelta(hours=1))
    assert (await _stage(h, hid)).stage == "usaha_berjalan"
    await _request(h, hid, "koperasi", "disetujui", month(3) + timedelta(days=2))
    await _jobs(h, month(3) + timedelta(days=3))
    assert (await _stage(h, hid)).stage == "anggota_koperasi"
    async with await h.session() as s:
        hh = await s.get(Household, hid)
        assert hh is not None
        row = await graduation.confirm_mandiri(s, hh, by="staff:7", now=month(4))
        assert row.watch_until == date(2028, 3, 10)
    assert await _moves(h, hid) == [
        ("penerima_bansos", "pelatihan", "forward", "request"),
        ("pelatihan", "usaha_rintisan", "forward", "program"),
        ("usaha_rintisan", "usaha_berjalan", "forward", "reports"),
        ("usaha_berjalan", "anggota_koperasi", "forward", "request"),
        ("anggota_koperasi", "mandiri", "forward", "confirm"),
    ]
    async with await h.session() as s:
        first = await s.scalar(select(StageTransition).order_by(StageTransition.id).limit(1))
        assert first is not None and first.evidence_detail == f"{reference} disetujui"
        last = await s.scalar(select(StageTransition).order_by(StageTransition.id.desc()).limit(1))
        assert last is not None and last.confirmed_by == "staff:7"


async def test_the_tick_runs_the_path_and_a_repeated_tick_changes_nothing(harness: Harness) -> None:
    h = harness
    hid = await _family(h, status="disalurkan")
    first = await run_tick(h.rt, T0)
    assert first["graduation"] == 2  # joined the path, then the package moved it on
    assert (await _stage(h, hid)).stage == "usaha_rintisan"
    again = await run_tick(h.rt, T0)
    assert "graduation" not in again  # within the hour: the sweep is not run again
    assert len(await _moves(h, hid)) == 1
    later = await run_tick(h.rt, T0 + timedelta(hours=1))
    assert later["graduation"] == 0  # an hour later it runs, and finds nothing new
    assert len(await _moves(h, hid)) == 1


async def test_a_stopped_business_sets_the_household_back_and_tells_the_mentor_once(
    harness: Harness,
) -> None:
    h = harness
    hid = await _to_business_running(h)
    assert (await _stage(h, hid)).stage == "usaha_berjalan"
    before = len(h.telegram_said(MENTOR_CHAT))
    await _report(h, hid, month(4), state="tutup", omzet=0)
    await _jobs(h, month(4) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_reason) == ("usaha_rintisan", "usaha_berhenti")
    assert (await _moves(h, hid))[-1] == ("usaha_berjalan", "usaha_rintisan", "back", "signal")
    told = [
        s.text
        for s in h.telegram_said(MENTOR_CHAT, before)
        if "bantuan lagi" in s.text or "help again" in s.text
    ]
    assert len(told) == 1
    assert "usaha berhenti atau tutup" in told[0] and "Tahap sekarang: Usaha rintisan" in told[0]
    await _jobs(h, month(4) + timedelta(hours=2))
    await _jobs(h, month(4) + timedelta(days=1))
    assert (
        len(
            [
                s
                for s in h.telegram_said(MENTOR_CHAT, before)
                if "bantuan lagi" in s.text or "help again" in s.text
            ]
        )
        == 1
    )
    assert (
        await _stage(h, hid)
    ).stage == "usaha_rintisan"  # the old running reports do not lift it again
    async with await h.session() as s:
        page = await graduation.at_risk(s, _scope("6472"), 1)
        assert [hh.id for _stage_row, hh in page.rows] == [hid]
        assert (await graduation.at_risk(s, _scope("6471"), 1)).total == 0


async def test_three_new_running_reports_after_a_setback_lift_the_household_and_clear_the_warning(
    harness: Harness,
) -> None:
    h = harness
    hid = await _to_business_running(h)
    await _report(h, hid, month(4), state="berhenti", omzet=0)
    await _jobs(h, month(4) + timedelta(hours=1))
    for n in (5, 6, 7):
        await _report(h, hid, month(n))
        await _jobs(h, month(n) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_since) == ("usaha_berjalan", None)
    assert [m[2] for m in await _moves(h, hid)][-2:] == ["back", "forward"]


async def test_omzet_falling_twice_goes_one_stage_back(harness: Harness) -> None:
    h = harness
    hid = await _to_business_running(h)
    await _report(h, hid, month(4), omzet=1_200_000)
    await _jobs(h, month(4) + timedelta(hours=1))
    assert (await _stage(h, hid)).stage == "usaha_berjalan"  # one fall is not a signal
    await _report(h, hid, month(5), omzet=900_000)
    await _jobs(h, month(5) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_reason) == ("usaha_rintisan", "omzet_turun")


async def _mandiri(h: Harness) -> int:
    hid = await _to_business_running(h)
    await _request(
        h, hid, "koperasi", "selesai" if False else "disetujui", month(3) + timedelta(days=2)
    )
    await _jobs(h, month(3) + timedelta(days=3))
    async with await h.session() as s:
        hh = await s.get(Household, hid)
        assert hh is not None
        await graduation.confirm_mandiri(s, hh, by="mentor:1", now=month(4))
    return hid


async def test_a_worse_desil_at_the_import_sets_a_graduate_back(harness: Harness) -> None:
    h = harness
    hid = await _mandiri(h)
    before = len(h.telegram_said(MENTOR_CHAT))
    await _jobs(h, month(4) + timedelta(hours=1))
    assert (await _stage(h, hid)).stage == "mandiri"
    roster = (
        "no_kk,nik,nama,tanggal_lahir,jenis_kelamin,no_hp,alamat,kode_wilayah,desa,kecamatan,kabupaten,"
        "provinsi,desil\n"
        f"{KK},6472016503800001,Siti Aminah Rahayu,1981-03-25,P,081300000001,Jl. Mawar,64.72.01.1001,"
        "Rawa Makmur,Palaran,Kota Samarinda,Kalimantan Timur,{desil}\n"
    )
    await _import(
        h, "households", roster.format(desil=3), month(5)
    )  # better: remembered, no signal
    await _jobs(h, month(5) + timedelta(hours=1))
    assert (await _stage(h, hid)).stage == "mandiri"
    await _import(h, "households", roster.format(desil=2), month(8))
    await _jobs(h, month(8) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_reason) == ("anggota_koperasi", "desil_turun")
    told = [
        s.text
        for s in h.telegram_said(MENTOR_CHAT, before)
        if "bantuan lagi" in s.text or "help again" in s.text
    ]
    assert len(told) == 1 and "desil" in told[0]
    async with await h.session() as s:
        signal = await s.scalar(select(RelapseSignal))
        assert signal is not None and signal.detail == "3 → 2"


async def test_a_graduate_back_in_pkh_or_silent_through_the_ladder_is_set_back(
    harness: Harness,
) -> None:
    h = harness
    hid = await _mandiri(h)
    await _import(
        h,
        "programs",
        PROGRAMS + f"{KK},PKH,disalurkan,Tahap 2 2027,750000,2027-04-01,DTSEN Kemensos\n",
        month(5),
    )
    await _jobs(h, month(5) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_reason) == ("anggota_koperasi", "kembali_bansos")
    async with await h.session() as s:  # confirmed again; then silent through the ladder
        hh = await s.get(Household, hid)
        assert hh is not None
        await graduation.confirm_mandiri(s, hh, by="mentor:1", now=month(6))
        s.add(
            Escalation(
                household_id=hid,
                region_code="6472",
                reason="silent",
                level=1,
                state="open",
                sla_due=month(7).date(),
                at_risk=False,
                created_at=month(7),
            )
        )
    await _jobs(h, month(7) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_reason) == ("anggota_koperasi", "senyap")


async def test_a_lapsed_cooperative_membership_is_a_signal(harness: Harness) -> None:
    h = harness
    hid = await _to_business_running(h)
    await _import(
        h,
        "programs",
        PROGRAMS + f"{KK},KOPERASI,aktif,2027,,2027-02-15,Kopdes Merah Putih\n",
        month(3) + timedelta(days=5),
    )
    await _jobs(h, month(3) + timedelta(days=5, hours=1))
    assert (await _stage(h, hid)).stage == "anggota_koperasi"
    await _import(
        h,
        "programs",
        PROGRAMS + f"{KK},KOPERASI,tidak_aktif,2027,,2027-05-01,Kopdes Merah Putih\n",
        month(6),
    )
    await _jobs(h, month(6) + timedelta(hours=1))
    row = await _stage(h, hid)
    assert (row.stage, row.risk_reason) == ("usaha_berjalan", "koperasi_lepas")


async def test_mandiri_needs_a_running_business_first(harness: Harness) -> None:
    h = harness
    hid = await _family(h)
    await _jobs(h, T0)
    async with await h.session() as s:
        hh = await s.get(Household, hid)
        assert hh is not None
        try:
            await graduation.confirm_mandiri(s, hh, by="mentor:1", now=T0)
        except graduation.StageError:
            pass
        else:
            raise AssertionError("confirmed from penerima_bansos")


def test_report_windows_cross_the_year() -> None:
    assert months_back("2027-02", 4) == ["2027-02", "2027-01", "2026-12", "2026-11"]


def test_rules_come_from_settings() -> None:
    class S:
        graduation_reports_running = 4
        graduation_watch_months = 6
        referral_days = 7

    rules = Rules.from_settings(S())
    assert (rules.reports_running, rules.watch_months, rules.referral_days) == (4, 6, 7)


# The funnel on generated data ---------------------------------------------------------------


def _scope(prefix: str, role: str = "officer") -> Any:
    from storage.scope import Scope

    return Scope(prefix=prefix, role=role, staff_id=1, username="t")


async def test_funnel_matches_a_direct_count_on_generated_data(harness: Harness) -> None:
    h = harness
    kecamatan = ["6472010", "6472020", "6471010"]
    async with await h.session() as s:
        for n in range(60):
            code = kecamatan[n % 3][:6] + f"{1001 + n % 2:04d}"
            hh = await lf.enrolled(
                s,
                h.rt.vault,
                n=100 + n,
                name=f"Keluarga {n}",
                mentor_id=None,
                user_id=None,
                region_code=code,
                status="disalurkan" if n % 4 else "aktif",
            )
            if n % 5 == 0:
                s.add(
                    ProgramEnrollment(
                        household_id=hh.id,
                        program="PELATIHAN",
                        status="aktif",
                        period="2026",
                        as_of=date(2026, 11, 1),
                        source="x",
                        updated_at=T0,
                    )
                )
    await advance_stages_at(h, T0)
    async with await h.session() as s:
        for n in range(60):
            if n % 7 == 0:  # some households report a closed business: set back to usaha_rintisan
                hid = await s.scalar(select(Household.id).where(Household.name == f"Keluarga {n}"))
                assert hid is not None
                row = await s.get(GraduationStage, hid)
                assert row is not None
                row.stage, row.rank = "usaha_berjalan", 3
    async with await h.session() as s:
        for n in range(0, 60, 7):
            hid = await s.scalar(select(Household.id).where(Household.name == f"Keluarga {n}"))
            assert hid is not None
            await reports.submit(
                s,
                household_id=hid,
                period="2026-11",
                answers={"state": "tutup", "omzet": 0},
                now=T0 + timedelta(hours=1),
            )
    async with await h.session() as s:
        await watch_relapse(s, T0 + timedelta(hours=2))
    start, end = graduation.quarter_of(T0.date())
    async with await h.session() as s:
        rows = await graduation.funnel(s, _scope("6472"), start, end)
        direct = await s.execute(
            select(
                func.substr(Household.region_code, literal_column("1"), literal_column("6")),
                GraduationStage.stage,
                func.count(),
            )
            .join(GraduationStage, GraduationStage.household_id == Household.id)
            .where(Household.region_code.like("6472%"))
            .group_by(
                func.substr(Household.region_code, literal_column("1"), literal_column("6")),
                GraduationStage.stage,
            )
        )
        expected: dict[tuple[str, str], int] = {(a, st): n for a, st, n in direct}
        got = {(r.area, st): n for r in rows for st, n in r.stages.items() if n}
        assert got == expected
        assert {r.area for r in rows} == {"647201", "647202"}
        back = await s.scalar(
            select(func.count(func.distinct(StageTransition.household_id))).where(
                StageTransition.direction == "back", StageTransition.region_code.like("6472%")
            )
        )
        assert sum(r.back for r in rows) == back and back > 0
        forward = await s.scalar(
            select(func.count(func.distinct(StageTransition.household_id))).where(
                StageTransition.direction == "forward", StageTransition.region_code.like("6472%")
            )
        )
        assert sum(r.forward for r in rows) == forward and forward > 0
        whole = await graduation.funnel(s, _scope("64", "admin"), start, end)
        assert {r.area for r in whole} == {"6471", "6472"}
        assert graduation.totals(whole).total == await s.scalar(
            select(func.count()).select_from(GraduationStage)
        )
        assert set(STAGES) == set(whole[0].stages)


async def advance_stages_at(h: Harness, when: datetime) -> None:
    async with await h.session() as s:
        await advance_stages(s, when)


async def test_outbox_rows_for_signals_have_one_key_each(harness: Harness) -> None:
    h = harness
    hid = await _to_business_running(h)
    await _report(h, hid, month(4), state="tutup", omzet=0)
    async with await h.session() as s:
        await watch_relapse(s, month(4) + timedelta(hours=1))
    async with await h.session() as s:  # the same moment twice (two clocks): still one message
        await watch_relapse(s, month(4) + timedelta(hours=1))
    async with await h.session() as s:
        keys = list(
            await s.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.like("graduation:%")
                )
            )
        )
        assert len(keys) == 1
