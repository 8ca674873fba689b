"""The coordinators' view at two sizes: the hourly summaries job and the page's reads at 100k and 1M households.

    python -m bench coordination                                   # SQLite, 100,000 and 1,000,000
    SINERGI_BENCH_COORDINATION_SIZES=20000,200000 python -m bench coordination
    SINERGI_BENCH_POSTGRES_URL=… python -m bench coordination       # and PostgreSQL

For each size: the households (gen.populate, no programs), every one of them on the path
spread over the six stages, every other one with a dated history (a start, and for the mandiri ones
the graduation, a seventh of those stepping back within the year), a tenth silent on the
ladder, one in fifty referred, and the ones with a history enrolled in PKH. Then the
`coordination` job once (`storage.coordination.refresh`: it grows with the register, but runs
hourly), and the best of a few runs of what the coordinator page reads (the summaries and
their suppression) for a province and for the whole country. The `ratio_to_small` column is
each time over the same case's time at the smallest size: the issue's bar is 2× for the
pages at ten times the households. Nothing is asserted here.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from bench import dbs, gen
from storage import coordination
from storage.db import make_engine, make_sessions, unit_of_work
from storage.graduation_rules import RANK, STAGES
from storage.scope import Scope

SIZES = [
    int(n) for n in os.environ.get("SINERGI_BENCH_COORDINATION_SIZES", "100000,1000000").split(",")
]
REPEAT = 3
PROVINCE = Scope(prefix="64", role="coordinator", staff_id=1, username="bench")
COUNTRY = Scope(prefix="", role="coordinator", staff_id=1, username="bench")


def run() -> list[dict[str, Any]]:
    """Each backend and size: populate, spread the path, time the two queries; ratios to the smallest."""
    results: list[dict[str, Any]] = []
    for backend in dbs.backends():
        first: dict[str, float] = {}
        for size in SIZES:
            with dbs.fresh(backend) as url:
                gen.populate(url, size, encrypt_each=False, programs=False)
                timings = asyncio.run(_measure(url))
            for case, seconds in timings.items():
                first.setdefault(case, seconds)
                results.append(
                    {
                        "bench": "coordination",
                        "db": backend,
                        "households": size,
                        "case": case,
                        "seconds": round(seconds, 3),
                        "ratio_to_small": round(seconds / first[case], 2),
                    }
                )
    return results


async def _measure(url: str) -> dict[str, float]:
    """Fill the path, the ladder and referrals, then time what the page reads."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        async with unit_of_work(sessions) as session:
            await _fill(session)
        async with unit_of_work(sessions) as session:
            start = time.perf_counter()
            await coordination.refresh(session, gen.NOW)
        job = time.perf_counter() - start
        return {
            "job coordination": job,
            "page (province)": await _best(sessions, PROVINCE),
            "page (country)": await _best(sessions, COUNTRY),
        }
    finally:
        await engine.dispose()


async def _best(sessions: Any, scope: Scope) -> float:
    """The best of a few runs of the page's reads and suppression (the first warms the cache)."""
    times = []
    for _ in range(REPEAT):
        async with sessions() as session:
            start = time.perf_counter()
            coordination.tables(await coordination.summary(session, scope, gen.NOW.year))
            times.append(time.perf_counter() - start)
    return min(times)


async def _fill(session: Any) -> None:
    """Stages by id, every other one with history, a tenth silent, one in fifty referred (set-based)."""
    n = len(STAGES)
    stage = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STAGES))
    rank = " ".join(f"WHEN {i} THEN {RANK[s]}" for i, s in enumerate(STAGES))
    at = gen.NOW - timedelta(days=30)
    await session.execute(
        sa.text(
            "INSERT INTO graduation_stages (household_id, stage, rank, since, since_at, updated_at) "  # noqa: S608
            f"SELECT id, CASE id % {n} {stage} END, CASE id % {n} {rank} END, :day, :at, :at "
            "FROM households"
        ),
        {"day": date(2026, 10, 1), "at": at},
    )
    history = (
        "INSERT INTO stage_transitions (household_id, region_code, from_stage, to_stage, direction, at, "
        "on_date, evidence_kind, evidence_detail, confirmed_by) "
        "SELECT h.id, h.region_code, {src}, {dst}, {dir}, :at, "
        "CASE h.id % 4 WHEN 0 THEN :d0 WHEN 1 THEN :d1 WHEN 2 THEN :d2 ELSE :d3 END, 'bench', NULL, 'system' "
        "FROM households h JOIN graduation_stages g ON g.household_id = h.id WHERE h.id % 2 = 1 {extra}"
    )
    starts = {
        "d0": date(2024, 1, 10),
        "d1": date(2024, 6, 3),
        "d2": date(2025, 2, 17),
        "d3": date(2025, 5, 5),
    }
    graduated = {
        "d0": date(2025, 3, 1),
        "d1": date(2025, 11, 20),
        "d2": date(2026, 2, 9),
        "d3": date(2026, 8, 30),
    }
    fallen = {
        "d0": date(2025, 9, 1),
        "d1": date(2027, 1, 1),
        "d2": date(2026, 6, 1),
        "d3": date(2026, 10, 30),
    }
    steps = [
        ("NULL", "'penerima_bansos'", "'forward'", "", starts, 0),
        ("'pendampingan'", "'mandiri'", "'forward'", "AND g.stage = 'mandiri'", graduated, 1),
        (
            "'mandiri'",
            "'pendampingan'",
            "'back'",
            "AND g.stage = 'mandiri' AND h.id % 7 = 0",
            fallen,
            2,
        ),
    ]
    for src, dst, way, extra, days, shift in steps:
        await session.execute(
            sa.text(history.format(src=src, dst=dst, dir=way, extra=extra)),
            {"at": at + timedelta(seconds=shift)} | days,
        )
    await session.execute(
        sa.text(
            "INSERT INTO program_enrollments (household_id, program, status, period, as_of, source, "
            "updated_at) SELECT id, 'PKH', 'disalurkan', 'Tahap 1 2024', :day, 'bench', :at "
            "FROM households WHERE id % 2 = 1"
        ),
        {"day": date(2023, 12, 1), "at": at},
    )
    await session.execute(
        sa.text(
            "INSERT INTO ladder_states (household_id, cycle_start, rung, updated_at) "
            "SELECT id, :day, CASE WHEN id % 10 = 0 THEN 'reminder' ELSE 'waiting' END, :at "
            "FROM households"
        ),
        {"day": date(2026, 11, 2), "at": at},
    )
    await session.execute(
        sa.text(
            "INSERT INTO referrals (household_id, region_code, office, asked, state, created_by, sent_at, "
            "updated_at, answer_by) "
            "SELECT id, region_code, CASE id % 3 WHEN 0 THEN 'disperindagkop' WHEN 1 THEN 'pupr' "
            "ELSE 'koperasi' END, 'pelatihan', CASE id % 4 WHEN 0 THEN 'diterima' WHEN 1 THEN 'selesai' "
            "ELSE 'dikirim' END, 'bench', :at, :at, :day FROM households WHERE id % 50 = 0"
        ),
        {"at": at, "day": date(2026, 11, 1)},
    )
