"""The ladder's daily sweep at scale, next to a plain SQL count of the same due set.

    python -m bench ladder                                   # SQLite, 100k and 1M households
    SINERGI_BENCH_LADDER_SIZES=100000,300000 python -m bench ladder
    SINERGI_BENCH_POSTGRES_URL=… python -m bench ladder      # and PostgreSQL

Generates households with gen.populate (8% in a business package, a mentor per desa), gives
every empowerment household a consented chat and every mentor one, enrolls them with the real
job, then spreads them over a 30-day cycle with two set-based statements: day d of the cycle
is the household id modulo 30, and two thirds stay silent (check-in, reminder, mentor, Dinsos
as the days pass) while one third answered. Each day 1/30 is due for each rung.

Times one daily sweep (every job; Monday, so the weekly lists go too) beside two plain
counts written by hand, each the faster of two runs:

- `count_s`: everything the sweep must find, with the jobs' own conditions (households due on
  each rung, touched since the last reset, newly enrolled, bounced; escalations whose SLA
  clock moves; stale drafts; mentors due a digest or a weekly list);
- `rungs_count_s`: only the households due on the four rungs, by rung and date alone.

Then the physical limit (`limit_s`), the work no sweep can avoid: the full count above plus
one `INSERT … SELECT` into the outbox of as many rows as the sweep wrote (the outbox rows it
added and the households it moved), committed, then deleted again untimed; `ratio_to_limit` is
the sweep over it (issue #16: ≤ 1.5×). The sweep timed is a running server's: the same sweep
ran once just before, inside a transaction rolled back, so that SQLAlchemy had compiled its
statements (a server does so on its first tick, as it loads its catalogs); that first sweep's
time is `first_sweep_s`, and on PostgreSQL the rows it left dead are vacuumed, untimed.

Then the next day's sweep (Tuesday: no weekly lists) under tracemalloc, for its time and the
peak memory of the sweep alone; `peak_ratio` on the largest size is its peak over the
smallest size's (issue #16: ≤ 1.25×, flat).

Populating a million households takes minutes. `SINERGI_BENCH_LADDER_SAVED=FOLDER` keeps each
prepared database (SQLite: `FOLDER/ladder-<size>.db`; PostgreSQL: a database
`sinergi_ladder_saved_<size>`) and later runs start from a copy of it, so the sweep alone can be
timed again and again. Indexes the models declare that a saved copy lacks are created on the
copy, and those they dropped are dropped; a saved database is otherwise used as it is (delete it
to start over).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench import dbs, gen
from locales.i18n import LOCALES, translations
from scheduler import jobs
from scheduler.ladder import MARK_MARGIN
from storage import calendar
from storage.db import POSTGRES_OPTIONS, make_engine, make_sessions
from storage.models import Base

SAVED = os.environ.get("SINERGI_BENCH_LADDER_SAVED")
SIZES = [int(n) for n in os.environ.get("SINERGI_BENCH_LADDER_SIZES", "100000,1000000").split(",")]
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Kalimantan Timur (WITA)
# The ladder's sweep as the minute's tick runs it (the hourly graduation sweeps are their own bench).
LADDER = jobs.Schedule()
EMPOWERMENT = "('BANTUAN_USAHA','PELATIHAN','KOPERASI')"


def run() -> list[dict[str, Any]]:
    """One row per backend and size."""
    rows = []
    for backend in dbs.backends():
        for size in SIZES:
            with dbs.fresh(backend) as url:
                rows.append(asyncio.run(_measure(backend, url, size)))
        mine = [r for r in rows if r["case"].startswith(backend)]
        if len(mine) > 1:
            mine[-1]["peak_ratio"] = round(mine[-1]["peak_mb"] / max(mine[0]["peak_mb"], 0.1), 2)
    return rows


async def _measure(backend: str, url: str, size: int) -> dict[str, Any]:
    """Generate, shape the cycle, then time the sweep and the plain count."""
    started = time.perf_counter()
    if not (SAVED and _restore(backend, url, size)):
        await _prepare(backend, url, size)
        if SAVED:
            _save(backend, url, size)
    engine = _plain_engine(url)
    with engine.begin() as conn:
        _match_indexes(conn)
        in_ladder = conn.scalar(sa.text("SELECT count(*) FROM ladder_states"))
    sessions_engine = make_engine(url)
    sessions = make_sessions(sessions_engine)
    prepared = time.perf_counter() - started

    with engine.connect() as conn:
        params = _due_params(NOW, _marks(conn))
        count_s, due = _best_of(conn, _due_count_sql(backend), params)
        rungs_s, rungs_due = _best_of(conn, _rungs_count_sql(backend), params)
    for locale in LOCALES:  # a running server has its catalogs loaded: not a cost of the sweep
        translations(locale)
    first_s = await _warm(sessions_engine, NOW)
    if backend == "postgres":
        _vacuum(engine)
    outbox_before = _outbox_rows(engine)
    t = time.perf_counter()
    counts = await jobs.run_due(sessions, NOW, LADDER, jobs.every_minute())
    sweep_s = time.perf_counter() - t
    acted = sum(counts[k] for k in ("checkins", "reminders", "mentor_tasks", "escalations"))
    written = _outbox_rows(engine) - outbox_before + acted
    insert_s = _timed_insert(engine, backend, written)

    tracemalloc.start()
    t = time.perf_counter()
    next_day = await jobs.run_due(sessions, NOW + timedelta(days=1), LADDER, jobs.every_minute())
    next_day_s = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    await sessions_engine.dispose()
    engine.dispose()
    return {
        "case": f"{backend} {size:,} households",
        "in_ladder": in_ladder,
        "due": due,
        "rung_due": rungs_due,
        "acted": acted,
        "messages": counts["checkins"] + counts["reminders"] + counts["digests"] + counts["weekly"],
        "count_s": round(count_s, 3),
        "sweep_s": round(sweep_s, 3),
        "ratio": round(sweep_s / max(count_s, 1e-6), 1),
        "written": written,
        "insert_s": round(insert_s, 3),
        "limit_s": round(count_s + insert_s, 3),
        "ratio_to_limit": round(sweep_s / max(count_s + insert_s, 1e-6), 2),
        "first_sweep_s": round(first_s, 3),
        "rungs_count_s": round(rungs_s, 3),
        "ratio_to_rungs": round(sweep_s / max(rungs_s, 1e-6), 1),
        "next_day_acted": sum(
            next_day[k] for k in ("checkins", "reminders", "mentor_tasks", "escalations")
        ),
        "next_day_s": round(next_day_s, 3),
        "peak_mb": round(peak / 1e6, 1),
        "prepare_s": round(prepared, 1),
    }


async def _prepare(backend: str, url: str, size: int) -> None:
    """Households, chats and ladders spread over the cycle, analysed: the day before the sweep."""
    # The roster was imported two months before the sweep, like the ladder's history.
    gen.populate(url, size, encrypt_each=False, now=NOW - timedelta(days=60))
    engine = sa.create_engine(gen.sync_url(url))
    with engine.begin() as conn:
        _chats(conn, backend)
    sessions_engine = make_engine(url)
    await jobs.run_due(
        make_sessions(sessions_engine),
        NOW - timedelta(days=1, hours=12),
        LADDER,
        jobs.every_minute(),
    )  # (at night only enrollment acts)
    await sessions_engine.dispose()
    with engine.begin() as conn:
        _spread(conn, backend)
    if backend == "postgres":
        # Two months of history have passed: autovacuum has analysed the tables by now.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def _plain_engine(url: str) -> sa.Engine:
    """The engine of the hand-written counts and the insert, with the server's connection
    settings (storage.db: no JIT on PostgreSQL, SQLite's commit without a sync), so that the
    limit is not slowed by what the sweep is spared."""
    if make_url(url).get_backend_name() == "postgresql":
        return sa.create_engine(gen.sync_url(url), connect_args={"options": POSTGRES_OPTIONS})
    engine = sa.create_engine(gen.sync_url(url))
    sa.event.listen(engine, "connect", _sqlite_like_server)
    return engine


def _sqlite_like_server(dbapi_conn: Any, _record: Any) -> None:
    """SQLite's commit as the server makes it (storage.db: WAL, synchronous=NORMAL)."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _match_indexes(conn: sa.Connection) -> None:
    """A saved copy made by older code gets the tables and indexes the models declare now, and
    loses the indexes they no longer do."""
    Base.metadata.create_all(conn)
    inspector = sa.inspect(conn)
    for table in Base.metadata.sorted_tables:
        declared = {index.name for index in table.indexes}
        for found in inspector.get_indexes(table.name):
            if found["name"] not in declared and not found.get("unique"):
                conn.execute(sa.text(f'DROP INDEX "{found["name"]}"'))
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _saved_sqlite(size: int) -> Path:
    """Where the prepared SQLite database of `size` households is kept."""
    assert SAVED
    return Path(SAVED) / f"ladder-{size}.db"


def _saved_postgres(size: int) -> str:
    """The name of the kept PostgreSQL database of `size` households."""
    return f"sinergi_ladder_saved_{size}"


def _copy_sqlite(source: Path, target: Path) -> None:
    """A page-for-page copy of a SQLite file (its write-ahead log included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _admin(url: str) -> sa.Engine:
    """A connection to the server's `postgres` database, outside transactions."""
    base = make_url(url).set(drivername="postgresql+psycopg", database="postgres")
    return sa.create_engine(base, isolation_level="AUTOCOMMIT")


def _restore(backend: str, url: str, size: int) -> bool:
    """Replace the fresh database at `url` by a copy of the saved one; False when none is saved."""
    if backend == "sqlite":
        saved = _saved_sqlite(size)
        if not saved.exists():
            return False
        _copy_sqlite(saved, Path(make_url(url).database or ""))
        return True
    name, admin = make_url(url).database, _admin(url)
    try:
        with admin.connect() as conn:
            found = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                {"n": _saved_postgres(size)},
            )
            if not found:
                return False
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            # A file copy: the default strategy writes the whole database to the WAL, whose
            # flush then competes with the sweep being timed.
            conn.execute(
                sa.text(
                    f'CREATE DATABASE "{name}" TEMPLATE "{_saved_postgres(size)}" '
                    "STRATEGY = FILE_COPY"
                )
            )
    finally:
        admin.dispose()
    return True


def _save(backend: str, url: str, size: int) -> None:
    """Keep a copy of the prepared database at `url` for later runs."""
    if backend == "sqlite":
        Path(SAVED or ".").mkdir(parents=True, exist_ok=True)
        _copy_sqlite(Path(make_url(url).database or ""), _saved_sqlite(size))
        return
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    f'CREATE DATABASE "{_saved_postgres(size)}" TEMPLATE "{make_url(url).database}"'
                )
            )
    finally:
        admin.dispose()


async def _warm(engine: AsyncEngine, now: datetime) -> float:
    """Run the sweep once at `now` and roll it all back; its seconds. A running server has
    compiled every statement of its sweep (SQLAlchemy's cache) by its second tick: the sweep
    timed after this one is a running server's, this one a freshly started server's."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        sessions = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        t = time.perf_counter()
        await jobs.run_due(sessions, now, LADDER, jobs.every_minute())
        seconds = time.perf_counter() - t
        await outer.rollback()
    return seconds


def _vacuum(engine: sa.Engine) -> None:
    """Clear away the rows the rolled-back sweep left dead (autovacuum would, in a server)."""
    tables = "ladder_states, ladder_actions, outbox_messages, escalations, conversations"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM {tables}"))


def _best_of(conn: sa.Connection, sql: str, params: dict[str, Any]) -> tuple[float, int]:
    """The faster of two runs of a count (the second finds the pages cached, as the sweep does)."""
    best, value = float("inf"), 0
    for _ in range(2):
        t = time.perf_counter()
        value = int(conn.scalar(sa.text(sql), params) or 0)
        best = min(best, time.perf_counter() - t)
    return best, value


def _outbox_rows(engine: sa.Engine) -> int:
    """Rows in the outbox now."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM outbox_messages")) or 0)


def _timed_insert(engine: sa.Engine, backend: str, rows: int) -> float:
    """One committed INSERT … SELECT of `rows` outbox rows shaped like the sweep's (a payload of
    the same size, a unique key); its seconds. The rows are deleted again, untimed."""
    at = "'2026-11-23 01:30:00.000000'" if backend == "sqlite" else "TIMESTAMPTZ '2026-11-23 01:30'"
    payload = (
        '{"render": "ladder.checkin", "locale": "id", "args": {"household": 12345, '
        '"identity": 67890}, "hours": {"region": "64.72", "start": "08:00", "end": "18:00"}}'
    )
    key = "'bench:' || CAST(c.id AS VARCHAR(20)) || ':' || CAST(k.n AS VARCHAR(2))"
    t = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"""
            INSERT INTO outbox_messages (identity_id, channel, recipient, payload, dedupe_key,
                                         next_attempt_at, created_at, state, attempts)
            SELECT c.id, c.channel, c.external_id, :payload, {key}, {at}, {at}, 'pending', 0
            FROM chat_identities c CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) k
            LIMIT :rows"""),  # noqa: S608 - constants only
            {"payload": payload, "rows": rows},
        )
    seconds = time.perf_counter() - t
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM outbox_messages WHERE dedupe_key LIKE 'bench:%'"))
    return seconds


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


def _due_params(now: datetime, marks: dict[str, datetime]) -> dict[str, Any]:
    """The thresholds of the plain count, as the jobs compute them (marks: the jobs' last runs)."""
    today = now.date()
    fmt = lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731
    since = {name: min(at, now) - MARK_MARGIN for name, at in marks.items()}
    year, week, _day = today.isocalendar()
    return {
        "anchor": (today - timedelta(days=30)).isoformat(),
        "quiet": fmt(now - timedelta(days=30)),
        "remind": fmt(now - timedelta(days=3)),
        "mentor": fmt(now - timedelta(days=7)),
        "dinsos": fmt(now - timedelta(days=14)),
        "enrolled_since": fmt(since["ladder.enroll"]),
        "touched_since": fmt(since["ladder.reset"]),
        "today": today.isoformat(),
        "soon": calendar.add_working_days(today, 1).isoformat(),
        "stale": fmt(now - timedelta(hours=48)),
        "digest_suffix": f":{today.isoformat()}",
        "weekly_suffix": f":{year}-W{week:02d}",
    }


def _marks(conn: sa.Connection) -> dict[str, datetime]:
    """The incremental jobs' marks, as the sweep will read them."""
    rows = conn.execute(sa.text("SELECT name, last_run_at FROM job_runs"))
    marks = {}
    for name, at in rows:
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        marks[name] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return marks


def _rungs_count_sql(backend: str) -> str:
    """The households due on the four rungs, with only the rung and date conditions."""
    t = _typed(backend)
    return f"""
    SELECT
      (SELECT count(*) FROM ladder_states ls WHERE ls.rung IN ('waiting','dinsos')
         AND ls.cycle_start <= {t("anchor", "date")}
         AND NOT EXISTS (SELECT 1 FROM chat_identities c WHERE c.household_id = ls.household_id
                         AND c.last_inbound_at > {t("quiet", "timestamptz")}))
    + (SELECT count(*) FROM ladder_states WHERE rung = 'checkin' AND checkin_at <= {t("remind", "timestamptz")})
    + (SELECT count(*) FROM ladder_states WHERE rung IN ('checkin','reminder')
         AND checkin_at <= {t("mentor", "timestamptz")})
    + (SELECT count(*) FROM ladder_states WHERE rung = 'mentor'
         AND (checkin_at <= {t("dinsos", "timestamptz")} OR mentor_at <= {t("mentor", "timestamptz")}))"""  # noqa: S608


def _due_count_sql(backend: str) -> str:
    """Everything one sweep must find, counted by hand with the jobs' own conditions.

    Households due on each rung (in a running program, with a chat that still receives, not
    heard from), households touched since the reset's mark, new enrollments since the enroll
    mark, bounced households, escalations whose SLA clock moves, stale report drafts, and the
    mentors due their digest or weekly list. The bench's moment has every time zone inside
    delivery hours, so the sweep's zone filter is TRUE and is left out here.
    """
    t = _typed(backend)
    running = "('BANTUAN_USAHA','PELATIHAN','KOPERASI')"
    active = "('aktif','dalam_proses','disalurkan')"
    in_program = f"""EXISTS (SELECT 1 FROM program_enrollments pe WHERE pe.household_id = ls.household_id
        AND pe.program IN {running} AND pe.status IN {active})"""
    chat = "c.household_id = ls.household_id AND c.consent_at IS NOT NULL AND c.opted_out = false"
    reachable = (
        f"EXISTS (SELECT 1 FROM chat_identities c WHERE {chat} AND c.unreachable_at IS NULL)"
    )
    bounced = (
        f"EXISTS (SELECT 1 FROM chat_identities c WHERE {chat} AND c.unreachable_at IS NOT NULL)"
    )
    key = "'ladder:{kind}:' || CAST(c.mentor_id AS VARCHAR(20)) || {suffix}"

    def mentors(kind: str, rungs: str) -> str:
        suffix = t(f"{kind}_suffix", "varchar")
        return f"""(SELECT count(*) FROM chat_identities c WHERE c.mentor_id IS NOT NULL
            AND c.consent_at IS NOT NULL AND c.opted_out = false AND c.unreachable_at IS NULL
            AND c.mentor_id IN (SELECT h.mentor_id FROM ladder_states ls
                                JOIN households h ON h.id = ls.household_id WHERE ls.rung IN {rungs})
            AND NOT EXISTS (SELECT 1 FROM outbox_messages o
                            WHERE o.dedupe_key = {key.format(kind=kind, suffix=suffix)}))"""

    return f"""
    SELECT
      (SELECT count(*) FROM program_enrollments pe WHERE pe.updated_at > {t("enrolled_since", "timestamptz")}
         AND pe.program IN {running} AND pe.status IN {active}
         AND NOT EXISTS (SELECT 1 FROM ladder_states ls WHERE ls.household_id = pe.household_id))
    + (SELECT count(*) FROM ladder_states ls WHERE ls.rung IN ('checkin','reminder','mentor','dinsos')
         AND ls.household_id IN (
           SELECT household_id FROM chat_identities WHERE last_inbound_at > {t("touched_since", "timestamptz")}
           UNION SELECT household_id FROM progress_reports WHERE submitted_at > {t("touched_since", "timestamptz")}
           UNION SELECT household_id FROM mentor_visits WHERE at > {t("touched_since", "timestamptz")} AND met = true)
         AND (EXISTS (SELECT 1 FROM chat_identities c WHERE c.household_id = ls.household_id
                      AND c.last_inbound_at > ls.checkin_at)
              OR EXISTS (SELECT 1 FROM progress_reports r WHERE r.household_id = ls.household_id
                         AND r.submitted_at > ls.checkin_at)
              OR EXISTS (SELECT 1 FROM mentor_visits v WHERE v.household_id = ls.household_id
                         AND v.met = true AND v.at > ls.checkin_at)))
    + (SELECT count(*) FROM ladder_states ls WHERE ls.household_id IN (
           SELECT household_id FROM chat_identities WHERE unreachable_at IS NOT NULL)
         AND ls.rung IN ('waiting','checkin','reminder') AND {in_program} AND {bounced}
         AND NOT {reachable})
    + (SELECT count(*) FROM ladder_states ls WHERE ls.rung IN ('waiting','dinsos')
         AND ls.cycle_start <= {t("anchor", "date")} AND {in_program} AND {reachable}
         AND NOT EXISTS (SELECT 1 FROM chat_identities c WHERE c.household_id = ls.household_id
                         AND c.last_inbound_at > {t("quiet", "timestamptz")})
         AND NOT EXISTS (SELECT 1 FROM progress_reports r WHERE r.household_id = ls.household_id
                         AND r.submitted_at > {t("quiet", "timestamptz")}))
    + (SELECT count(*) FROM ladder_states ls WHERE ls.rung = 'checkin'
         AND ls.checkin_at <= {t("remind", "timestamptz")} AND {reachable})
    + (SELECT count(*) FROM ladder_states WHERE rung IN ('checkin','reminder')
         AND checkin_at <= {t("mentor", "timestamptz")})
    + (SELECT count(*) FROM ladder_states WHERE rung = 'mentor'
         AND (checkin_at <= {t("dinsos", "timestamptz")} OR mentor_at <= {t("mentor", "timestamptz")}))
    + (SELECT count(*) FROM escalations WHERE state IN ('open','assigned')
         AND ((level = 1 AND sla_due < {t("today", "date")})
              OR (at_risk = false AND sla_due <= {t("soon", "date")})))
    + (SELECT count(*) FROM progress_reports WHERE status = 'draft'
         AND started_at <= {t("stale", "timestamptz")})
    + {mentors("digest", "('mentor')")}
    + {mentors("weekly", "('reminder','mentor','dinsos')")}"""  # noqa: S608


def _typed(backend: str) -> Any:
    """A bind parameter, cast on PostgreSQL (CAST(), not `::`, which text() misreads)."""

    def typed(name: str, sql_type: str) -> str:
        return f":{name}" if backend == "sqlite" else f"CAST(:{name} AS {sql_type})"

    return typed
