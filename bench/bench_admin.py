"""Admin pages at scale: the escalation queue and the household page, server time beside their raw SQL.

    python -m bench admin                                  # 100,000 households, 50,000 open escalations
    SINERGI_BENCH_ADMIN_HOUSEHOLDS=1000000 python -m bench admin --postgres URL

For each page: the median time of the whole request through the app (session lookup, queries,
template), the median time of the page's main SQL run bare, and the plan's first line (to show
the index it uses). Nothing is asserted here; the numbers go in the table.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench import dbs, gen
from bot.app import create_app
from bot.config import Settings
from bot.runtime import build_runtime
from storage import escalations, households
from storage.models import Escalation, Household
from storage.paging import PAGE_SIZE
from storage.scope import Scope, scoped
from storage.staff import add_staff

HOUSEHOLDS = int(os.environ.get("SINERGI_BENCH_ADMIN_HOUSEHOLDS", "100000"))
ESCALATIONS = int(os.environ.get("SINERGI_BENCH_ADMIN_ESCALATIONS", "50000"))
REPEAT = 7
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def run() -> list[dict[str, Any]]:
    """Fill each backend, then time the pages and their SQL."""
    results: list[dict[str, Any]] = []
    for backend in dbs.backends():
        with dbs.fresh(backend) as url:
            gen.populate(url, HOUSEHOLDS, encrypt_each=False, programs=False)
            prefix = _escalate(url)
            results += asyncio.run(_measure(backend, url, prefix))
    return results


def _escalate(url: str) -> str:
    """ESCALATIONS open escalations over evenly spread households; the kabupaten with the most."""
    engine = sa.create_engine(gen.sync_url(url))
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(Household.id, Household.region_code).order_by(Household.id)
        ).all()
        step = max(1, len(rows) // ESCALATIONS)
        chosen = rows[::step][:ESCALATIONS]
        values = [
            {
                "household_id": hid,
                "region_code": code,
                "reason": "silent",
                "level": 1 + (i % 7 == 0),
                "state": "open",
                "sla_due": date(2026, 11, 10) + timedelta(days=i % 30),
                "created_at": NOW,
            }
            for i, (hid, code) in enumerate(chosen)
        ]
        for start in range(0, len(values), 5000):
            conn.execute(sa.insert(Escalation), values[start : start + 5000])
        top = conn.execute(
            sa.select(sa.func.substr(Escalation.region_code, 1, 4), sa.func.count())
            .group_by(sa.func.substr(Escalation.region_code, 1, 4))
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()
    engine.dispose()
    return str(top[0])


async def _measure(backend: str, url: str, prefix: str) -> list[dict[str, Any]]:
    """Sign in as an officer of the busiest kabupaten and time each page against its SQL."""
    settings = Settings(database_url=url, secret_key=gen.SECRET, data_dir=dbs.Path("/tmp"))
    rt = build_runtime(settings, clients={})
    app = create_app(rt, background=False)
    app.state.clock = lambda: NOW
    scope = Scope(prefix=prefix, role="officer", staff_id=1, username="bench")
    async with rt.sessions() as session, session.begin():
        user = await add_staff(
            session,
            username="bench",
            password="bench-password-1",
            role="officer",
            region_code=prefix,
            now=NOW,
        )
        scope = Scope(prefix=prefix, role="officer", staff_id=user.id, username="bench")
        household_id = int(
            await session.scalar(
                scoped(sa.select(Household.id), scope).order_by(Household.id).limit(1)
            )
            or 0
        )
        open_in_scope = int(
            await session.scalar(
                scoped(
                    sa.select(sa.func.count(Escalation.id)).where(
                        Escalation.state.in_(escalations.OPEN_STATES)
                    ),
                    scope,
                    Escalation.region_code,
                )
            )
            or 0
        )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    await _login(client)
    flt = escalations.QueueFilter()
    cases = [
        (
            "escalation queue, page 1",
            "/admin/escalations",
            escalations.queue_ids(scope, flt, scope.staff_id, NOW).limit(PAGE_SIZE),
        ),
        (
            "escalation queue, page 100",
            "/admin/escalations?page=100",
            escalations.queue_ids(scope, flt, scope.staff_id, NOW)
            .limit(PAGE_SIZE)
            .offset(99 * PAGE_SIZE),
        ),
        (
            "escalation queue, breached",
            "/admin/escalations?sla=breached",
            escalations.queue_ids(
                scope, escalations.QueueFilter(sla="breached"), scope.staff_id, NOW
            ).limit(PAGE_SIZE),
        ),
        (
            "household page",
            f"/admin/households/{household_id}",
            scoped(sa.select(Household).where(Household.id == household_id), scope),
        ),
        (
            "household search by name",
            "/admin/households?q=Siti",
            households.household_query(
                scope,
                households.HouseholdFilter(q="Siti"),
                "postgresql" if backend == "postgres" else "sqlite",
            ).limit(PAGE_SIZE),
        ),
    ]
    results = []
    for case, path, query in cases:
        server = await _time(lambda path=path: client.get(path))
        raw = await _time_sql(rt, query)
        plan = await _plan(rt, query)
        results.append(
            {
                "bench": "admin",
                "db": backend,
                "case": case,
                "households": HOUSEHOLDS,
                "open_escalations_in_scope": open_in_scope,
                "server_ms": server * 1000,
                "sql_ms": raw * 1000,
                "plan": plan,
            }
        )
    await client.aclose()
    await rt.close()
    return results


async def _login(client: httpx.AsyncClient) -> None:
    """The login form, as a browser fills it."""
    import re

    form = await client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    done = await client.post(
        "/admin/login",
        data={"username": "bench", "password": "bench-password-1", "csrf_token": token.group(1)},
    )
    assert done.status_code == 303, done.status_code


async def _time(call: Any) -> float:
    """Median seconds of REPEAT calls (after one warm-up), each answered 200."""
    response = await call()
    assert response.status_code == 200, response.status_code
    seconds = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


async def _time_sql(rt: Any, query: Any) -> float:
    """Median seconds of the bare query, rows fetched."""
    async with rt.sessions() as session:
        return await _time_ok(lambda: session.execute(query))


async def _time_ok(call: Any) -> float:
    await call()
    seconds = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        (await call()).all()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


async def _plan(rt: Any, query: Any) -> str:
    """The first lines of the query plan (SQLite's QUERY PLAN or PostgreSQL's EXPLAIN)."""
    async with rt.engine.connect() as conn:
        compiled = query.compile(rt.engine, compile_kwargs={"literal_binds": True})
        word = "EXPLAIN" if rt.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        rows = (await conn.execute(sa.text(f"{word} {compiled}"))).all()
    text = " | ".join(str(r[-1]) for r in rows[:3])
    return text[:160]
