"""The ladder's daily sweep at scale, next to a plain SQL count of the same due set.

    python -m bench ladder                                   # SQLite, 100k and 1M households
    SINERGI_BENCH_LADDER_SIZES=100000,300000 python -m bench ladder
    SINERGI_BENCH_POSTGRES_URL=… python -m bench ladder      # and PostgreSQL

Generates households with gen.populate (8% in a business package, a mentor per desa), gives
every empowerment household a consented chat and every mentor one, enrolls them with the real
job, then spreads them over a 30-day cycle with two set-based statements: day d of the cycle
is the household id modulo 30, and two thirds stay silent (check-in, reminder, mentor, Dinsos
as the days pass) while one third answered. Each day 1/30 is due for each rung.

Times one daily sweep (every job, messages rendered and written) beside a hand-written
count of the same due households, then the next day's sweep under tracemalloc for the peak
memory of the sweep alone.
"""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench import dbs, gen
from scheduler import jobs
from scheduler.ladder import Plan
from storage.db import make_engine, make_sessions

SIZES = [int(n) for n in os.environ.get("SINERGI_BENCH_LADDER_SIZES", "100000,1000000").split(",")]
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Kalimantan Timur (WITA)
EMPOWERMENT = "('BANTUAN_USAHA','PELATIHAN','KOPERASI')"


def run() -> list[dict[str, Any]]:
    """One row per backend and size."""
    rows = []
    for backend in dbs.backends():
        for size in SIZES:
            with dbs.fresh(backend) as url:
                rows.append(asyncio.run(_measure(backend, url, size)))
    return rows


async def _measure(backend: str, url: str, size: int) -> dict[str, Any]:
    """Generate, shape the cycle, then time the sweep and the plain count."""
    started = time.perf_counter()
    gen.populate(url, size, encrypt_each=False)
    engine = sa.create_engine(gen.sync_url(url))
    with engine.begin() as conn:
        _chats(conn, backend)
    sessions_engine = make_engine(url)
    sessions = make_sessions(sessions_engine)
    await jobs.run_due(sessions, NOW - timedelta(days=1, hours=12), Plan())  # night: enroll only
    with engine.begin() as conn:
        _spread(conn, backend)
        in_ladder = conn.scalar(sa.text("SELECT count(*) FROM ladder_states"))
    prepared = time.perf_counter() - started

    with engine.connect() as conn:
        t = time.perf_counter()
        due = conn.scalar(sa.text(_due_count_sql(backend)), _due_params(NOW))
        count_s = time.perf_counter() - t
    t = time.perf_counter()
    counts = await jobs.run_due(sessions, NOW, Plan())
    sweep_s = time.perf_counter() - t
    acted = sum(counts[k] for k in ("checkins", "reminders", "mentor_tasks", "escalations"))

    tracemalloc.start()
    next_day = await jobs.run_due(sessions, NOW + timedelta(days=1), Plan())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    await sessions_engine.dispose()
    engine.dispose()
    return {
        "case": f"{backend} {size:,} households",
        "in_ladder": in_ladder,
        "due": due,
        "acted": acted,
        "messages": counts["checkins"] + counts["reminders"] + counts["digests"],
        "count_s": round(count_s, 3),
        "sweep_s": round(sweep_s, 3),
        "ratio": round(sweep_s / max(count_s, 1e-6), 1),
        "next_day_acted": sum(
            next_day[k] for k in ("checkins", "reminders", "mentor_tasks", "escalations")
        ),
        "peak_mb": round(peak / 1e6, 1),
        "prepare_s": round(prepared, 1),
    }


def _chats(conn: sa.Connection, backend: str) -> None:
    """A consented Telegram chat for every empowerment household and every mentor."""
    past = "'2026-09-01 00:00:00.000000'" if backend == "sqlite" else "TIMESTAMPTZ '2026-09-01'"
    conn.execute(
        sa.text(f"""
        INSERT INTO chat_identities (channel, external_id, household_id, locale, consent_at,
                                     opted_out, last_inbound_at, created_at)
        SELECT 'telegram', 'h' || h.id, h.id, 'id', {past}, false, {past}, {past}
        FROM households h WHERE EXISTS (
            SELECT 1 FROM program_enrollments pe WHERE pe.household_id = h.id
            AND pe.program IN {EMPOWERMENT})""")
    )  # noqa: S608 - constants only
    conn.execute(
        sa.text(f"""
        INSERT INTO chat_identities (channel, external_id, mentor_id, locale, consent_at,
                                     opted_out, created_at)
        SELECT 'telegram', 'm' || m.id, m.id, 'id', {past}, false, {past} FROM mentors m""")
    )  # noqa: S608


def _spread(conn: sa.Connection, backend: str) -> None:
    """Day d = id % 30 of the cycle; id % 3 = 0 answered, the rest climbed the ladder."""
    # PostgreSQL subtracts only an integer from a date, and household_id is a bigint there.
    day = "(household_id % 30)" if backend == "sqlite" else "CAST(household_id % 30 AS integer)"
    if backend == "sqlite":
        start = f"date('2026-11-22', '-' || {day} || ' days')"
        at = f"strftime('%Y-%m-%d %H:%M:%S.000000', '2026-11-22 01:30:00', '-' || {day} || ' days')"
        mentor_at = f"strftime('%Y-%m-%d %H:%M:%S.000000', '2026-11-22 01:30:00', '-' || ({day} - 7) || ' days')"
    else:
        start = f"DATE '2026-11-22' - {day}"
        at = f"TIMESTAMPTZ '2026-11-22 01:30:00+00' - {day} * INTERVAL '1 day'"
        mentor_at = f"TIMESTAMPTZ '2026-11-22 01:30:00+00' - ({day} - 7) * INTERVAL '1 day'"
    rung = (
        f"CASE WHEN household_id % 3 = 0 THEN 'waiting' WHEN {day} < 3 THEN 'checkin' "
        f"WHEN {day} < 7 THEN 'reminder' WHEN {day} < 14 THEN 'mentor' ELSE 'dinsos' END"
    )
    # Yesterday's view: day 0 households started 30 days ago and are due for a new month.
    conn.execute(
        sa.text(f"""
        UPDATE ladder_states SET cycle_start = CASE WHEN {day} = 0 THEN {start.replace(day, "30")}
                                                   ELSE {start} END,
               rung = CASE WHEN {day} = 0 THEN 'waiting' ELSE {rung} END,
               checkin_at = {at}, reason = 'silent',
               mentor_at = CASE WHEN {day} >= 7 THEN {mentor_at} END""")
    )  # noqa: S608
    # Those who answered wrote the day after their check-in.
    later = (
        at.replace("'-' ||", "'+1 days', '-' ||")
        if backend == "sqlite"
        else f"{at} + INTERVAL '1 day'"
    )
    conn.execute(
        sa.text(f"""
        UPDATE chat_identities SET last_inbound_at = (
            SELECT {later} FROM ladder_states WHERE ladder_states.household_id = chat_identities.household_id)
        WHERE household_id % 3 = 0 AND household_id % 30 <> 0""")
    )  # noqa: S608


def _due_params(now: datetime) -> dict[str, Any]:
    """The thresholds of the plain count, as the jobs compute them."""
    today = now.date()
    fmt = lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731
    return {
        "anchor": (today - timedelta(days=30)).isoformat(),
        "quiet": fmt(now - timedelta(days=30)),
        "remind": fmt(now - timedelta(days=3)),
        "mentor": fmt(now - timedelta(days=7)),
        "dinsos": fmt(now - timedelta(days=14)),
    }


def _due_count_sql(backend: str) -> str:
    """The same due households, written by hand: check-in, reminder, mentor, Dinsos."""

    # CAST(), not `::`: text() would read `:anchor::date` as a bind parameter named wrongly.
    def typed(name: str, sql_type: str) -> str:
        return f":{name}" if backend == "sqlite" else f"CAST(:{name} AS {sql_type})"

    return f"""
    SELECT
      (SELECT count(*) FROM ladder_states ls WHERE ls.rung IN ('waiting','dinsos')
         AND ls.cycle_start <= {typed("anchor", "date")}
         AND NOT EXISTS (SELECT 1 FROM chat_identities c WHERE c.household_id = ls.household_id
                         AND c.last_inbound_at > {typed("quiet", "timestamptz")}))
    + (SELECT count(*) FROM ladder_states WHERE rung = 'checkin' AND checkin_at <= {typed("remind", "timestamptz")})
    + (SELECT count(*) FROM ladder_states WHERE rung IN ('checkin','reminder')
         AND checkin_at <= {typed("mentor", "timestamptz")})
    + (SELECT count(*) FROM ladder_states WHERE rung = 'mentor'
         AND (checkin_at <= {typed("dinsos", "timestamptz")} OR mentor_at <= {typed("mentor", "timestamptz")}))"""  # noqa: S608
