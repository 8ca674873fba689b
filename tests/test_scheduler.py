"""The clock: concurrent ticks act once, one process leads on PostgreSQL, `sinergi tick --at`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import build_runtime
from scheduler.clock import Clock, Leader
from scheduler.jobs import run_due
from storage.db import make_engine
from storage.models import Escalation, LadderAction, OutboxMessage
from tests.conftest import T0
from tests.harness import Harness
from tests.test_ladder import CHECKIN, DEWI, SITI, WATI, seed


async def test_concurrent_ticks_on_two_processes_send_one_checkin(harness: Harness) -> None:
    h = harness
    await seed(h)
    other = build_runtime(h.rt.settings, clients=h.rt.clients)  # a second process's engine
    try:
        for _round in range(3):
            first, second = await asyncio.gather(
                run_due(h.rt.sessions, T0), run_due(other.sessions, T0)
            )
            assert min(first.values()) >= 0 and min(second.values()) >= 0
            assert first["checkins"] + second["checkins"] in (0, 3)
    finally:
        await other.engine.dispose()
    while await h.rt.sender.deliver(T0):
        pass
    for chat_id in (SITI, DEWI, WATI):
        assert [p for p in h.telegram.sent(chat_id) if CHECKIN in p["text"]] != []
        assert len([p for p in h.telegram.sent(chat_id) if CHECKIN in p["text"]]) == 1
    async with await h.session() as s:
        steps = await s.scalar(select(func.count()).select_from(LadderAction))
        rows = await s.scalar(select(func.count()).select_from(OutboxMessage))
    assert steps == 4 and rows == 3 + 1  # 3 check-ins, the weekly list (it stands for the digest)


async def test_concurrent_escalations_open_one_each(harness: Harness) -> None:
    h = harness
    await seed(h)
    await run_due(h.rt.sessions, T0)
    later = datetime(2026, 12, 8, 1, 30, tzinfo=T0.tzinfo)
    other = build_runtime(h.rt.settings, clients=h.rt.clients)
    try:
        await asyncio.gather(*(run_due(rt.sessions, later) for rt in (h.rt, other, h.rt, other)))
    finally:
        await other.engine.dispose()
    async with await h.session() as s:
        per_household = (
            await s.execute(
                select(Escalation.household_id, func.count()).group_by(Escalation.household_id)
            )
        ).all()
    assert len(per_household) == 4 and all(n == 1 for _hh, n in per_household)


async def test_only_one_process_runs_the_clock(database_url: str) -> None:
    engines = [make_engine(database_url), make_engine(database_url)]
    first, second = Leader(engines[0]), Leader(engines[1])
    try:
        assert await first.acquire()
        if engines[0].dialect.name == "postgresql":
            assert not await second.acquire()  # the advisory lock is held
            assert await first.acquire()  # still the leader on the next beat
            await first.release()
        assert await second.acquire()
    finally:
        await first.release()
        await second.release()
        for engine in engines:
            await engine.dispose()


async def test_the_clock_beats_the_tick(database_url: str) -> None:
    engine = make_engine(database_url)
    seen: list[datetime] = []

    async def tick(now: datetime) -> None:
        seen.append(now)

    clock = Clock(tick, engine)
    try:
        assert await clock.beat(T0)
    finally:
        await clock.stop()
        await engine.dispose()
    assert seen == [T0]


def test_tick_at_runs_the_jobs_and_prints_one_line(tmp_path: Path) -> None:
    env = {
        "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SINERGI_DATA_DIR": str(tmp_path),
        "SINERGI_SECRET_KEY": "cli-test-secret-key-of-32-characters",
    }
    result = CliRunner().invoke(app, ["tick", "--at", "2026-11-23T10:00:00+08:00"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("tick 2026-11-23T10:00:00+08:00: answered=0")
    assert "checkins=0" in lines[-1] and "sent=0" in lines[-1]


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01"])
def test_tick_refuses_a_bad_moment(tmp_path: Path, bad: str) -> None:
    env = {
        "SINERGI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SINERGI_DATA_DIR": str(tmp_path),
        "SINERGI_SECRET_KEY": "cli-test-secret-key-of-32-characters",
    }
    result = CliRunner().invoke(app, ["tick", "--at", bad], env=env)
    assert result.exit_code != 0 and "ISO-8601" in result.output
