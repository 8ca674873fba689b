"""The graduation funnel at scale: `storage.graduation.funnel` next to a plain SQL count of the same set.

    python -m bench graduation                                  # SQLite
    SINERGI_BENCH_POSTGRES_URL=… python -m bench graduation     # and PostgreSQL
    SINERGI_BENCH_GRADUATION_HOUSEHOLDS=200000 python -m bench graduation

Generates the households (gen.populate, 8% with a business package), puts every household with
an empowerment program on the path with the real job (`advance_stages`), spreads them over the
six stages and a quarter of moves with two set-based statements, then times: the funnel for a
province admin and for a kabupaten officer, each beside the hand-written GROUP BY it must
match (its baseline), and one steady-state run of each graduation job (nothing left to move).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from bench import dbs, gen
from scheduler.graduation import advance_stages, watch_relapse
from storage import graduation
from storage.db import make_engine, make_sessions, unit_of_work
from storage.graduation_rules import RANK, STAGES
from storage.scope import Scope

HOUSEHOLDS = int(os.environ.get("SINERGI_BENCH_GRADUATION_HOUSEHOLDS", "1000000"))
SQLITE_HOUSEHOLDS = int(
    os.environ.get("SINERGI_BENCH_GRADUATION_SQLITE", str(min(HOUSEHOLDS, 200_000)))
)
REPEAT = 3
PROVINCE = Scope(prefix="64", role="admin", staff_id=1, username="bench")
KABUPATEN = Scope(prefix="6472", role="officer", staff_id=2, username="bench")


def run() -> list[dict[str, Any]]:
    """Each backend: populate, put households on the path, time the funnel and its baseline."""
    results: list[dict[str, Any]] = []
    for backend in dbs.backends():
        size = SQLITE_HOUSEHOLDS if backend == "sqlite" else HOUSEHOLDS
        with dbs.fresh(backend) as url:
            gen.populate(url, size, encrypt_each=False)
            results.extend(asyncio.run(_measure(backend, url, size)))
    return results


async def _measure(backend: str, url: str, size: int) -> list[dict[str, Any]]:
    """Seed with the job, spread stages, then time the queries."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        seeded, seed_s = await _timed_job(sessions, advance_stages)
        await _spread(sessions)
        on_path = await _count(sessions)
        rows = [
            _row(backend, size, "advance_stages: first run (joins the path)", seed_s, seeded, None)
        ]
        for scope, label in ((PROVINCE, "province"), (KABUPATEN, "kabupaten")):
            plain = await _best(lambda s, sc=scope: _plain_count(s, sc), sessions)
            funnel = await _best(lambda s, sc=scope: _funnel(s, sc), sessions)
            rows.append(
                _row(backend, size, f"baseline: plain GROUP BY ({label})", plain, on_path, plain)
            )
            rows.append(_row(backend, size, f"funnel ({label})", funnel, on_path, plain))
        moved, advance_s = await _timed_job(sessions, advance_stages)
        signals, watch_s = await _timed_job(sessions, watch_relapse)
        rows.append(_row(backend, size, "advance_stages: next tick", advance_s, moved, None))
        rows.append(_row(backend, size, "watch_relapse: next tick", watch_s, signals, None))
        return rows
    finally:
        await engine.dispose()


def _row(
    backend: str, size: int, case: str, seconds: float, rows: int, baseline: float | None
) -> dict[str, Any]:
    """One line of the report."""
    return {
        "bench": "graduation",
        "db": backend,
        "households": size,
        "case": case,
        "rows": rows,
        "seconds": round(seconds, 3),
        "ratio_to_baseline": round(seconds / baseline, 2) if baseline else "",
    }


async def _timed_job(sessions: Any, job: Any) -> tuple[int, float]:
    """One run of a job in one unit of work, timed."""
    start = time.perf_counter()
    async with unit_of_work(sessions) as session:
        count = await job(session, gen.NOW)
    return int(count), time.perf_counter() - start


async def _best(call: Any, sessions: Any) -> float:
    """The best of a few runs (the first warms the cache)."""
    times = []
    for _ in range(REPEAT):
        async with sessions() as session:
            start = time.perf_counter()
            await call(session)
            times.append(time.perf_counter() - start)
    return min(times)


async def _spread(sessions: Any) -> None:
    """Households over the six stages by id, and a quarter's moves forward and back (two statements)."""
    gs = sa.table(
        "graduation_stages", sa.column("household_id"), sa.column("stage"), sa.column("rank")
    )
    stage = sa.case({i: s for i, s in enumerate(STAGES)}, value=gs.c.household_id % len(STAGES))
    rank = sa.case(
        {i: RANK[s] for i, s in enumerate(STAGES)}, value=gs.c.household_id % len(STAGES)
    )
    day = date(2026, 10, 15)
    async with unit_of_work(sessions) as session:
        await session.execute(sa.update(gs).values(stage=stage, rank=rank))
        await session.execute(
            sa.text(
                "INSERT INTO stage_transitions (household_id, region_code, from_stage, to_stage, direction, at, "
                "on_date, evidence_kind, evidence_detail, confirmed_by) "
                "SELECT g.household_id, h.region_code, 'penerima_bansos', g.stage, "
                "CASE WHEN g.household_id % 7 = 0 THEN 'back' ELSE 'forward' END, :at, :day, 'bench', NULL, 'system' "
                "FROM graduation_stages g JOIN households h ON h.id = g.household_id "
                "WHERE g.household_id % 3 = 0 AND g.stage <> 'penerima_bansos'"
            ),
            {"at": gen.NOW - timedelta(days=30), "day": day},
        )


async def _count(sessions: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(sa.text("SELECT count(*) FROM graduation_stages")) or 0)


async def _funnel(session: Any, scope: Scope) -> int:
    """The funnel as the admin page reads it."""
    start, end = graduation.quarter_of(date(2026, 11, 23))
    rows = await graduation.funnel(session, scope, start, end)
    return graduation.totals(rows).total


async def _plain_count(session: Any, scope: Scope) -> int:
    """The same counts by hand: households per area and stage, and movers per area and direction."""
    width = graduation.area_digits(scope)
    hi = scope.prefix + ":"
    stages = await session.execute(
        sa.text(
            f"SELECT substr(h.region_code, 1, {width}) AS area, g.stage, count(*) FROM graduation_stages g "  # noqa: S608
            "JOIN households h ON h.id = g.household_id WHERE h.region_code >= :lo AND h.region_code < :hi "
            "GROUP BY area, g.stage"
        ),
        {"lo": scope.prefix, "hi": hi},
    )
    moves = await session.execute(
        sa.text(
            f"SELECT substr(region_code, 1, {width}) AS area, direction, count(DISTINCT household_id) "  # noqa: S608
            "FROM stage_transitions WHERE region_code >= :lo AND region_code < :hi AND on_date >= :a "
            "AND on_date < :b AND from_stage IS NOT NULL GROUP BY area, direction"
        ),
        {"lo": scope.prefix, "hi": hi, "a": date(2026, 10, 1), "b": date(2027, 1, 1)},
    )
    moves.all()
    return sum(n for _a, _s, n in stages.all())
