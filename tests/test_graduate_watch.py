"""Graduation that lasts: a graduate stays watched for its year, asked every three months, even when
its programs have ended, and its silence can still set it back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.commands.tick import run_tick
from storage.models import GraduationStage, LadderState, RelapseSignal
from tests import ladder_factories as lf
from tests.conftest import T0
from tests.harness import Harness
from tests.test_ladder import CHECKIN, MENTOR

WATCHED, REPLIES, PAST_WATCH = 301, 302, 303


async def _graduates(h: Harness) -> dict[int, int]:
    """Three graduates whose business programs are finished: two in their watch year, one past it."""
    ids = {}
    today = T0.date()
    async with await h.session() as s:
        m = await lf.mentor_on_chat(s, user_id=MENTOR)
        for n, user in enumerate((WATCHED, REPLIES, PAST_WATCH), start=1):
            hh = await lf.enrolled(
                s, h.rt.vault, n=n, name=f"Lulusan {n}", mentor_id=m.id, user_id=user,
                status="selesai", at=T0 - timedelta(days=100),
            )  # fmt: skip
            graduated = today - timedelta(days=120 if user != PAST_WATCH else 400)
            s.add(
                GraduationStage(
                    household_id=hh.id,
                    stage="mandiri",
                    rank=5,
                    since=graduated,
                    since_at=T0 - timedelta(days=120),
                    watch_until=graduated + timedelta(days=365),
                    updated_at=T0,
                )  # fmt: skip
            )
            s.add(
                LadderState(
                    household_id=hh.id,
                    cycle_start=today - timedelta(days=100),
                    rung="waiting",
                    updated_at=T0,
                )  # fmt: skip
            )
            ids[user] = hh.id
    return ids


def checkins(h: Harness, user: int) -> int:
    """How many check-ins this chat has had."""
    return sum(1 for p in h.telegram.sent(user) if CHECKIN in p.get("text", ""))


async def test_a_graduate_whose_programs_ended_is_asked_every_three_months(
    harness: Harness,
) -> None:
    """Asked at once (its quarter is up), not again a month after answering, again after three."""
    h = harness
    await _graduates(h)
    await run_tick(h.rt, T0)
    assert checkins(h, WATCHED) == 1 and checkins(h, REPLIES) == 1
    assert checkins(h, PAST_WATCH) == 0  # its watch year is over: no more questions
    h.now = T0 + timedelta(hours=2)
    assert (
        await h.post_telegram(h.telegram_update(REPLIES, text="usaha lancar"))
    ).status_code == 200
    await run_tick(h.rt, h.now)
    await run_tick(h.rt, T0 + timedelta(days=35))
    assert checkins(h, REPLIES) == 1  # a month later: a household in a program would be asked
    await run_tick(h.rt, T0 + timedelta(days=91))
    assert checkins(h, REPLIES) == 2


async def test_a_silent_graduate_climbs_the_ladder_and_its_silence_sets_it_back(
    harness: Harness,
) -> None:
    """No answer: reminder, mentor, Dinsos, and the relapse watch records the silence (senyap)."""
    h = harness
    ids = await _graduates(h)
    for day in range(0, 16):
        await run_tick(h.rt, T0 + timedelta(days=day))
    async with await h.session() as s:
        rung = await s.scalar(
            select(LadderState.rung).where(LadderState.household_id == ids[WATCHED])
        )
        signals = list(
            await s.scalars(
                select(RelapseSignal.kind).where(RelapseSignal.household_id == ids[WATCHED])
            )
        )
        stage = await s.scalar(
            select(GraduationStage.stage).where(GraduationStage.household_id == ids[WATCHED])
        )
    assert rung == "dinsos"
    assert "senyap" in signals
    assert stage != "mandiri"
