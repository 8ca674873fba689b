"""Incremental sweeps: new enrollments and contact are read since the job's last run, less a margin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from scheduler import ladder
from storage.models import ChatIdentity, Household, LadderState, ProgramEnrollment
from tests import ladder_factories as lf
from tests.conftest import T0
from tests.harness import Harness
from tests.test_ladder import DAY0

INDONESIAN = 202


async def test_a_family_enrolled_after_the_first_run_gets_a_ladder(harness: Harness) -> None:
    h = harness
    async with await h.session() as s:
        await lf.enrolled(s, h.rt.vault, n=1, name="Siti Aminah", mentor_id=None, user_id=None)
    async with await h.session() as s:
        assert await ladder.enroll(s, T0) == 1  # the first run reads every enrollment
    async with await h.session() as s:
        assert await ladder.enroll(s, T0 + timedelta(minutes=1)) == 0
    # The next roster import enrolls Dewi, stamped with the import's time.
    async with await h.session() as s:
        dewi = await lf.enrolled(
            s, h.rt.vault, n=2, name="Dewi Lestari", mentor_id=None, user_id=None
        )
        enrollment = await s.scalar(
            select(ProgramEnrollment).where(ProgramEnrollment.household_id == dewi.id)
        )
        assert enrollment is not None
        enrollment.updated_at = T0 + timedelta(hours=2)
    async with await h.session() as s:
        assert await ladder.enroll(s, T0 + timedelta(hours=3)) == 1
    async with await h.session() as s:
        state = await s.get(LadderState, dewi.id)
    assert state is not None and state.rung == "waiting"


async def test_the_first_set_up_of_many_households_places_each_exactly_once(
    harness: Harness,
) -> None:
    h = harness
    # 12,000 families in an empowerment program (some in two, the earlier date is their
    # start), interleaved with families in PKH alone or in a program that ended, and a few
    # that already have a ladder: batches of 1,000 must page through them all.
    token = h.rt.vault.encrypt("6472010101800001")
    households, enrollments, ladders, expected = [], [], [], {}
    for i in range(15_000):
        hid = 1_000 + i
        households.append(
            {
                "id": hid,
                "no_kk": f"64720101{hid:08d}",
                "nik_hash": f"{hid:064d}",
                "nik_encrypted": token,
                "nik_masked": "6472********0001",
                "name": f"Keluarga {hid}",
                "region_code": "6472011001",
                "categories": "",
                "created_at": T0,
                "updated_at": T0,
            }
        )
        kind = i % 5
        program, status = {
            0: ("PKH", "aktif"),
            1: ("BANTUAN_USAHA", "aktif"),
            2: ("PELATIHAN", "dalam_proses"),
            3: ("KOPERASI", "disalurkan"),
            4: ("BANTUAN_USAHA", "aktif"),
        }[kind]
        start = DAY0 - timedelta(days=40 + i % 7)
        row = {"household_id": hid, "program": program, "status": status, "as_of": start}
        enrollments.append(row | {"period": "2026", "source": "roster", "updated_at": T0})
        if kind == 4:  # in a second program too, which began earlier
            earlier = {"program": "PELATIHAN", "as_of": start - timedelta(days=20)}
            enrollments.append(row | earlier | {"period": "2025", "source": "roster"})
            enrollments[-1]["updated_at"] = T0
        if kind == 0 and i % 10 == 0:  # PKH and a program that has ended
            ended = {"program": "KOPERASI", "status": "selesai", "period": "2025"}
            enrollments.append(row | ended | {"source": "roster", "updated_at": T0})
        if kind != 0:
            expected[hid] = start - timedelta(days=20) if kind == 4 else start
        if kind == 1 and i % 100 == 1:  # already on the ladder: left as it is
            ladders.append({"household_id": hid, "cycle_start": DAY0, "rung": "checkin"})
    assert len(expected) == 12_000
    async with await h.session() as s:
        await s.execute(insert(Household), households)
        await s.execute(insert(ProgramEnrollment), enrollments)
        await s.execute(insert(LadderState), [row | {"updated_at": T0} for row in ladders])
    async with await h.session() as s:
        added = await ladder.enroll(s, T0, ladder.Plan(batch=100))
    assert added == 12_000 - len(ladders)
    async with await h.session() as s:
        rows = (await s.execute(select(LadderState.household_id, LadderState.cycle_start))).all()
        fresh = await s.scalar(
            select(func.count()).select_from(LadderState).where(LadderState.rung == "waiting")
        )
    assert len(rows) == len({hid for hid, _ in rows}) == 12_000
    kept = {row["household_id"] for row in ladders}
    assert {hid: start for hid, start in rows if hid not in kept} == {
        hid: start for hid, start in expected.items() if hid not in kept
    }
    assert fresh == 12_000 - len(ladders)
    async with await h.session() as s:  # and the next run finds nothing more to do
        assert await ladder.enroll(s, T0 + timedelta(minutes=1), ladder.Plan(batch=100)) == 0


async def test_a_contact_just_before_the_last_sweep_still_resets_the_ladder(
    harness: Harness,
) -> None:
    h = harness
    async with await h.session() as s:
        hh = await lf.enrolled(
            s, h.rt.vault, n=1, name="Siti Aminah", mentor_id=None, user_id=INDONESIAN
        )
        s.add(
            LadderState(
                household_id=hh.id,
                cycle_start=DAY0 - timedelta(days=2),
                rung="checkin",
                checkin_at=T0 - timedelta(days=2),
                reason="silent",
                updated_at=T0,
            )
        )
    async with await h.session() as s:
        assert await ladder.reset(s, T0) == 0  # the first run reads every running ladder
    # A message stamped an hour before that run, by a transaction that committed after it.
    async with await h.session() as s:
        chat = await s.scalar(select(ChatIdentity))
        assert chat is not None
        chat.last_inbound_at = T0 - timedelta(hours=1)
    async with await h.session() as s:
        assert await ladder.reset(s, T0 + timedelta(minutes=1)) == 1
    async with await h.session() as s:
        state = await s.get(LadderState, hh.id)
    assert state is not None and state.rung == "waiting"
