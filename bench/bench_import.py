"""Roster import speed: 100,000 households from CSV, against a bare executemany INSERT of the same rows.

    python -m bench import                      # SQLite
    python -m bench import --postgres URL       # and PostgreSQL
    SINERGI_BENCH_IMPORT_ROWS=20000 python -m bench import

The baseline is the floor any import must pay: the already-validated rows (NIK already
encrypted and hashed) inserted with one executemany per chunk into a fresh database of the
same kind. `ratio` is import seconds / baseline seconds. `cpu_s` is this process's CPU time
(all threads): on a machine busy with other work it says more than the wall clock does.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import dbs, gen
from storage.crypto import NikVault
from storage.db import make_engine, make_sessions, unit_of_work
from storage.roster import import_roster, rules
from storage.roster.kinds import HH

ROWS = int(os.environ.get("SINERGI_BENCH_IMPORT_ROWS", "100000"))
CHUNK = 2000


def run() -> list[dict[str, Any]]:
    """Import the roster into each backend, fresh and again (all updates), beside the baseline."""
    with tempfile.TemporaryDirectory(prefix="sinergi-bench-") as folder:
        data = gen.write_csv(Path(folder) / "kpm.csv", ROWS).read_bytes()
    vault = NikVault(gen.SECRET)
    records = validated(data, vault)
    results = []
    for backend in dbs.backends():
        with dbs.fresh(backend) as url:
            baseline = _timed(bare_insert(url, records))
        with dbs.fresh(backend) as url:
            first = _timed(timed_import(url, data, vault))
            again = _timed(timed_import(url, data, vault))
        results.append(_row(backend, "households csv (new)", first, baseline[0]))
        results.append(_row(backend, "households csv (re-import)", again, baseline[0]))
        results.append(_row(backend, "baseline: bare executemany", baseline, baseline[0]))
    return results


Timing = tuple[float, int, float]  # wall seconds, rows, CPU seconds


def _timed(work: Coroutine[Any, Any, int]) -> Timing:
    """Run `work` (which returns its row count) and measure it."""
    wall, cpu = time.perf_counter(), time.process_time()
    rows = asyncio.run(work)
    return time.perf_counter() - wall, rows, time.process_time() - cpu


def _row(backend: str, case: str, timing: Timing, baseline: float) -> dict[str, Any]:
    """One line of the report."""
    seconds, rows, cpu = timing
    return {
        "bench": "import",
        "db": backend,
        "case": case,
        "rows": rows,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "rows_per_s": round(rows / seconds),
        "ratio_to_baseline": round(seconds / baseline, 2),
    }


def validated(data: bytes, vault: NikVault) -> list[dict[str, Any]]:
    """The rows as the import would write them (checked, NIK encrypted), outside any timing."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")
    header = next(reader)
    out = []
    for cells in reader:
        record, why = rules.household(dict(zip(header, cells, strict=True)), vault)
        assert not why, why
        record.update(mentor_id=None, created_at=gen.NOW, updated_at=gen.NOW)
        out.append(record)
    return out


async def bare_insert(url: str, records: list[dict[str, Any]]) -> int:
    """A plain INSERT executemany of the rows in chunks, in one transaction."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for start in range(0, len(records), CHUNK):
                await conn.execute(sa.insert(HH), records[start : start + CHUNK])
        return len(records)
    finally:
        await engine.dispose()


async def timed_import(url: str, data: bytes, vault: NikVault) -> int:
    """The real import (read, validate, encrypt, upsert, regions, commit); rows written."""
    engine = make_engine(url)
    try:
        async with unit_of_work(make_sessions(engine)) as session:
            report = await import_roster(
                session, "households", data, "kpm.csv", vault=vault, now=gen.NOW
            )
        assert report.ok, report.problems[:5]
        return report.created + report.updated
    finally:
        await engine.dispose()
