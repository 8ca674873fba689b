"""Household search by name at two sizes: the name index's time at the larger size over the smaller.

    python -m bench search                                           # 100,000 then 1,000,000
    SINERGI_BENCH_SEARCH_SIZES=2000,20000 python -m bench search     # quick, CI-sized
    python -m bench search --postgres URL                            # PostgreSQL too

One database grows from the first size to the second (the same generated households, more of
them). At each size a kabupaten officer's search page (`households.listing`: the count, capped at
1,000, then the first page) is timed for: one family's surname (five households at either
size: what the index itself costs), a common full name and a common first name (their
matches grow with the register; the count's cap and the page bound what is read of them), a
name that is nobody's, and the common full name through the old
substring scan (`ILIKE '%…%'`) for comparison. `ratio` is the time at the larger size
over the time at the smaller.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bench import dbs, gen
from storage import households
from storage.db import make_engine, make_sessions
from storage.models import Household
from storage.paging import paged
from storage.scope import Scope, scoped

SIZES = [int(n) for n in os.environ.get("SINERGI_BENCH_SEARCH_SIZES", "100000,1000000").split(",")]
REPEAT = 9
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SCOPE = Scope(prefix="6472", role="officer", staff_id=1, username="bench")  # Kota Samarinda
FAMILY = "Yohana Pattiradjawane"  # five households of this name, the same at every size
TERMS = {
    "one family's name": "Pattiradjawane",
    "common full name": "Siti Aminah",  # about 1 in 430 households: ten times more at 1M
    "first name": "Siti",  # about 1 in 20
    "nobody's name": "Zulkarnaen",
}


def run() -> list[dict[str, Any]]:
    """Fill each backend to each size in turn and time the searches there."""
    results: list[dict[str, Any]] = []
    for backend in dbs.backends():
        with dbs.fresh(backend) as url:
            timed: dict[str, list[float]] = {}
            written = 0
            for size in SIZES:
                started = time.perf_counter()
                gen.populate(url, size - written, start=written, encrypt_each=False, programs=False)
                print(f"# {backend}: {size:,} households in {time.perf_counter() - started:.0f} s")
                if not written:
                    _family(url)
                written = size
                for case, seconds in asyncio.run(_measure(url)).items():
                    timed.setdefault(case, []).append(seconds)
            results += [_row(backend, case, seconds) for case, seconds in timed.items()]
    return results


def _family(url: str) -> None:
    """FAMILY's five households, in the officer's kabupaten."""
    engine = sa.create_engine(gen.sync_url(url))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Household),
            [
                {
                    "no_kk": f"647201999999{i:04d}",
                    "nik_hash": f"family-{i}",
                    "nik_encrypted": "-",
                    "nik_masked": "-",
                    "name": FAMILY,
                    "region_code": "6472011001",
                    "categories": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(5)
            ],
        )
    engine.dispose()


def _row(backend: str, case: str, seconds: list[float]) -> dict[str, Any]:
    """One result: the time at each size and the last over the first."""
    row: dict[str, Any] = {"bench": "search", "db": backend, "case": case}
    row |= {f"s_at_{n:,}": s for n, s in zip(SIZES, seconds, strict=True)}
    row["ratio"] = seconds[-1] / seconds[0] if seconds[0] else None
    return row


async def _measure(url: str) -> dict[str, float]:
    """Median seconds of each search, as the household list runs it (count, then one page)."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    out: dict[str, float] = {}
    try:
        async with sessions() as session:
            for case, term in TERMS.items():
                flt = households.HouseholdFilter(q=term)
                out[f"index: {case}"] = await _median(
                    lambda f=flt: households.listing(session, SCOPE, f, 1)
                )
            scan = scoped(sa.select(Household), SCOPE).where(
                Household.name.ilike(f"%{TERMS['common full name']}%")
            )
            out["substring scan: full name"] = await _median(
                lambda: paged(session, scan.order_by(Household.name, Household.id), 1)
            )
    finally:
        await engine.dispose()
    return out


async def _median(call: Any) -> float:
    """Median seconds of REPEAT calls, after one warm-up."""
    await call()
    seconds = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)
