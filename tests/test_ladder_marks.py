"""Incremental sweeps: new enrollments and contact are read since the job's last run, less a margin."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler import ladder
from storage.models import ChatIdentity, LadderState, ProgramEnrollment
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
