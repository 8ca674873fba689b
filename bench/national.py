"""National scale, by hand: the sweep, the escalation queue, search and the coordinators' view on existing databases.

    python -m bench.national URL [URL…]          # each URL an already populated database
    python -m bench.national URL URL --only ladder,search

Unlike the bench_* modules this generates nothing: each URL is a database that
`gen.populate(url, N, encrypt_each=False, chunk=20_000, now=bench_ladder.NOW - timedelta(days=60))`
filled once (a million, ten million households), and it stays reusable. The data must be older
than the ladder case's first run, as in bench_ladder: a register written "after" it would make
the sweep re-read every enrollment as changed since its last run (the script refuses it). Everything a case writes runs in one transaction that is
rolled back at its end (the jobs' own commits become savepoints inside it), except the open
escalations the queue needs, which are added once (one in SINERGI_BENCH_NATIONAL_ESCALATION_EVERY
households, 20 unless told) and found again on the next run. The cases are the existing benches'
own, on the data there is:

- ladder (bench_ladder): chats, enrollment and the 30-day spread, then one daily sweep beside
  the plain count of its due set and the physical limit (that count plus one INSERT … SELECT
  of as many outbox rows as the sweep wrote);
- queue (bench_admin): the escalation queue's main query for the busiest kabupaten's officer;
- search (bench_search): the household list's name search for a Kota Samarinda officer;
- coordination (bench_coordination): the hourly job (`coordination.refresh`) and the
  coordinator page's reads for a province and the country.

One table: each case's figure per URL and the last URL's over the first's. Since a case never
commits, a commit's flush to disk is in none of the times (the limit's INSERT neither).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from bench import bench_admin, bench_coordination, bench_ladder, bench_search, gen
from bench.__main__ import table
from locales.i18n import LOCALES, translations
from scheduler import jobs
from storage import coordination, escalations, households
from storage.db import Sessions, make_engine
from storage.models import Escalation, Household
from storage.paging import PAGE_SIZE, paged
from storage.scope import Scope, scoped

CASES = ("ladder", "queue", "search", "coordination")
EVERY = int(os.environ.get("SINERGI_BENCH_NATIONAL_ESCALATION_EVERY", "20"))
ESCALATED_AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # marks the escalations this adds
SET_UP = bench_ladder.NOW - timedelta(days=1, hours=12)  # the ladder case's first run


@asynccontextmanager
async def sandbox(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, Sessions]]:
    """One connection in a transaction rolled back at the end; sessions whose commits are savepoints."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        sessions = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield conn, sessions
        finally:
            await outer.rollback()


class _Savepoints:
    """An Engine look-alike over one connection, for bench_ladder's helpers: each begin() a savepoint."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A savepoint, released when the block ends."""
        with self.conn.begin_nested():
            yield self.conn

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """The one connection."""
        yield self.conn


async def _analyze(conn: AsyncConnection, tables: str) -> None:
    """Fresh statistics for what the case wrote (ANALYZE counts the transaction's own rows)."""
    await conn.execute(sa.text(f"ANALYZE {tables}"))


async def ladder(engine: AsyncEngine) -> dict[str, float]:
    """bench_ladder's shaping and its daily sweep, the count of its due set and the physical limit."""
    now = bench_ladder.NOW
    async with sandbox(engine) as (conn, sessions):
        await conn.run_sync(bench_ladder._chats, "postgres")
        await jobs.run_due(sessions, SET_UP, bench_ladder.LADDER, jobs.every_minute())
        await conn.run_sync(bench_ladder._spread, "postgres")
        await _analyze(conn, "chat_identities, ladder_states, job_runs, escalations")
        params = bench_ladder._due_params(now, await conn.run_sync(bench_ladder._marks))
        count_s, due = await conn.run_sync(
            bench_ladder._best_of, bench_ladder._due_count_sql("postgres"), params
        )
        for locale in LOCALES:  # a running server has its catalogs loaded
            translations(locale)
        shim = lambda c: _Savepoints(c)  # noqa: E731
        before = await conn.run_sync(lambda c: bench_ladder._outbox_rows(shim(c)))  # type: ignore[arg-type]
        started = time.perf_counter()
        counts = await jobs.run_due(sessions, now, bench_ladder.LADDER, jobs.every_minute())
        sweep_s = time.perf_counter() - started
        acted = sum(counts[k] for k in ("checkins", "reminders", "mentor_tasks", "escalations"))
        outbox = await conn.run_sync(lambda c: bench_ladder._outbox_rows(shim(c)))  # type: ignore[arg-type]
        written = outbox - before + acted
        insert_s = await conn.run_sync(
            lambda c: bench_ladder._timed_insert(shim(c), "postgres", written)  # type: ignore[arg-type]
        )
    limit_s = count_s + insert_s
    return {
        "ladder: daily sweep (s)": sweep_s,
        "ladder: count of the due set (s)": count_s,
        "ladder: INSERT … SELECT of as many rows (s)": insert_s,
        "ladder: physical limit, count + insert (s)": limit_s,
        "ladder: sweep / limit": sweep_s / max(limit_s, 1e-6),
        "ladder: due (rows)": due,
        "ladder: acted (households)": acted,
        "ladder: written (rows)": written,
    }


async def escalate(engine: AsyncEngine) -> None:
    """Open escalations over one in EVERY households, once (bench_admin's shape, set-based).

    Added before any case runs, so that every run, every case sees the same ones (the sweep's
    SLA job moves their clocks too).
    """
    async with engine.begin() as conn:
        have = await conn.scalar(
            sa.text("SELECT count(*) FROM escalations WHERE created_at = :at"), {"at": ESCALATED_AT}
        )
        if not have:
            # bench_admin: level 2 for every seventh, SLA dates spread over 30 days from 10 Nov.
            await conn.execute(
                sa.text(
                    "INSERT INTO escalations (household_id, region_code, reason, level, state, "
                    "sla_due, at_risk, vulnerable, created_at) "
                    "SELECT id, region_code, 'silent', "
                    "CASE WHEN (id / :every) % 7 = 0 THEN 2 ELSE 1 END, 'open', "
                    "DATE '2026-11-10' + CAST((id / :every) % 30 AS integer), false, false, :at "
                    "FROM households WHERE id % :every = 0"
                ),
                {"every": EVERY, "at": ESCALATED_AT},
            )
            await conn.execute(sa.text("ANALYZE escalations"))


async def _busiest(engine: AsyncEngine) -> str:
    """The kabupaten with the most open escalations (bench_admin's officer)."""
    async with engine.connect() as conn:
        top = await conn.scalar(
            sa.text(
                "SELECT substr(region_code, 1, 4) FROM escalations WHERE state IN ('open','assigned') "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            )
        )
    return str(top)


async def queue(engine: AsyncEngine) -> dict[str, float]:
    """bench_admin's three queue queries (page 1, page 100, breached), medians of bare SQL."""
    prefix = await _busiest(engine)
    scope = Scope(prefix=prefix, role="officer", staff_id=1, username="bench")
    now = bench_admin.NOW
    ids = lambda flt: escalations.queue_ids(scope, flt, scope.staff_id, now).limit(PAGE_SIZE)  # noqa: E731
    queries = {
        "queue: page 1 (s)": ids(escalations.QueueFilter()),
        "queue: page 100 (s)": ids(escalations.QueueFilter()).offset(99 * PAGE_SIZE),
        "queue: breached (s)": ids(escalations.QueueFilter(sla="breached")),
    }
    out: dict[str, float] = {}
    async with sandbox(engine) as (_conn, sessions), sessions() as session:
        for case, query in queries.items():
            out[case] = await bench_admin._time_ok(lambda q=query: session.execute(q))
        out["queue: open in the kabupaten (rows)"] = int(
            await session.scalar(
                scoped(
                    sa.select(sa.func.count()).where(Escalation.state.in_(escalations.OPEN_STATES)),
                    scope,
                    Escalation.region_code,
                )
            )
            or 0
        )
    return out


async def search(engine: AsyncEngine) -> dict[str, float]:
    """bench_search's terms for its officer (its family added for the case only), medians."""
    out: dict[str, float] = {}
    async with sandbox(engine) as (conn, sessions):
        await conn.execute(sa.insert(Household), _family())
        async with sessions() as session:
            for case, term in bench_search.TERMS.items():
                flt = households.HouseholdFilter(q=term)
                out[f"search: {case} (s)"] = await bench_search._median(
                    lambda f=flt: households.listing(session, bench_search.SCOPE, f, 1)
                )
            scan = scoped(sa.select(Household), bench_search.SCOPE).where(
                Household.name.ilike(f"%{bench_search.TERMS['common full name']}%")
            )
            out["search: substring scan, full name (s)"] = await bench_search._median(
                lambda: paged(session, scan.order_by(Household.name, Household.id), 1)
            )
    return out


def _family() -> list[dict[str, Any]]:
    """bench_search's five households of FAMILY, in its officer's kabupaten."""
    at = bench_search.NOW
    return [
        {
            "no_kk": f"647201999999{i:04d}",
            "nik_hash": f"family-{i}",
            "nik_encrypted": "-",
            "nik_masked": "-",
            "name": bench_search.FAMILY,
            "region_code": "6472011001",
            "categories": "",
            "created_at": at,
            "updated_at": at,
        }
        for i in range(5)
    ]


async def coordinate(engine: AsyncEngine) -> dict[str, float]:
    """bench_coordination's path, ladder and referrals, then the hourly job and the page's reads."""
    async with sandbox(engine) as (conn, sessions):
        async with sessions() as session, session.begin():
            await bench_coordination._fill(session)
        await _analyze(
            conn,
            "graduation_stages, stage_transitions, program_enrollments, ladder_states, referrals",
        )
        async with sessions() as session, session.begin():
            started = time.perf_counter()
            await coordination.refresh(session, gen.NOW)
            job_s = time.perf_counter() - started
        return {
            "coordination: hourly job (s)": job_s,
            "coordination: page, province (s)": await bench_coordination._best(
                sessions, bench_coordination.PROVINCE
            ),
            "coordination: page, country (s)": await bench_coordination._best(
                sessions, bench_coordination.COUNTRY
            ),
        }


MEASURES = {"ladder": ladder, "queue": queue, "search": search, "coordination": coordinate}


async def measure(url: str, only: list[str]) -> dict[str, float]:
    """Every chosen case on one database, printed as it is measured."""
    engine = make_engine(url)
    out: dict[str, float] = {}
    try:
        async with engine.connect() as conn:
            out["households (max id)"] = int(
                await conn.scalar(sa.text("SELECT max(id) FROM households")) or 0
            )
        await _require_statistics(engine)
        await _require_past_data(engine)
        await escalate(engine)
        for name in only:
            started = time.perf_counter()
            figures = await MEASURES[name](engine)
            out |= figures
            took = time.perf_counter() - started
            print(f"# {_name(url)} {name}: {took:.0f} s {figures}", flush=True)
    finally:
        await engine.dispose()
    return out


async def _require_statistics(engine: AsyncEngine) -> None:
    """Refuse a database never analysed: without column statistics the plans, not the sizes, differ.

    (An ANALYZE in a transaction that is rolled back keeps the row counts but not the columns'.)
    """
    async with engine.connect() as conn:
        columns = await conn.scalar(
            sa.text("SELECT count(*) FROM pg_stats WHERE tablename = 'program_enrollments'")
        )
    if not columns:
        raise SystemExit(f"{engine.url.database}: no column statistics; run ANALYZE there first")


async def _require_past_data(engine: AsyncEngine) -> None:
    """Refuse enrollments written after the ladder case's first run (populate's default `now`).

    The sweep re-reads every enrollment changed since its last run: with the whole register
    "changed" after the set-up, it would time a re-read of every row, which no real day does.
    """
    async with engine.connect() as conn:
        newest = await conn.scalar(sa.text("SELECT max(updated_at) FROM program_enrollments"))
    if newest is not None and newest > SET_UP:
        raise SystemExit(
            f"{engine.url.database}: enrollments written at {newest:%Y-%m-%d %H:%M}, after the "
            f"ladder's set-up at {SET_UP:%Y-%m-%d %H:%M}: populate with now=bench_ladder.NOW - 60 days"
        )


def rows(urls: list[str], figures: list[dict[str, float]]) -> list[dict[str, Any]]:
    """One row per case: its figure at each URL and the last over the first."""
    cases = list(dict.fromkeys(case for f in figures for case in f))
    out = []
    for case in cases:
        row: dict[str, Any] = {"case": case}
        row |= {_names(urls)[i]: f.get(case) for i, f in enumerate(figures)}
        first, last = figures[0].get(case), figures[-1].get(case)
        row["ratio last/first"] = round(last / first, 2) if first and last is not None else None
        out.append(row)
    return out


def _names(urls: list[str]) -> list[str]:
    """The table's headers: each database's name, numbered when one comes twice."""
    names = [_name(u) for u in urls]
    return [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _name(url: str) -> str:
    """A database's name, for the table's header."""
    return str(make_url(url).database)


def main() -> None:
    """Parse the URLs, measure each in turn, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.national")
    parser.add_argument("urls", nargs="+", help="populated PostgreSQL databases, smallest first")
    parser.add_argument("--only", default=",".join(CASES), help=f"some of {','.join(CASES)}")
    args = parser.parse_args()
    only = [c for c in args.only.split(",") if c]
    unknown = set(only) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    load = os.getloadavg()
    figures = [asyncio.run(measure(url, only)) for url in args.urls]
    print(table(rows(args.urls, figures)))
    print(f"# load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
