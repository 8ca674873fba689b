"""Roster import speed and memory: households from CSV, against a bare executemany of the same rows.

    python -m bench import                      # SQLite, 100k and 1M rows
    python -m bench import --postgres URL       # and PostgreSQL
    SINERGI_BENCH_IMPORT_SIZES=20000,200000 python -m bench import

The baseline is the floor any import must pay: the already-validated rows (NIK already
encrypted and hashed) inserted with one executemany per chunk into a fresh database of the
same kind; only the executes are timed (the rows are checked chunk by chunk outside the clock,
so its memory stays flat too). `ratio` is import seconds / baseline seconds.

Each size and each case runs in a fresh process, so `peak_rss_mb` (the process's peak resident
memory, from getrusage) is that case's own: the import streams the file from its path, so the
peak should not grow with the rows (issue #16: 1M ≤ 3× the baseline, memory flat). `cpu_s` is
the child's CPU time: on a busy machine it says more than the wall clock does.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import dbs, gen
from storage.crypto import NikVault
from storage.db import make_engine, make_sessions, unit_of_work
from storage.roster import import_roster, rules
from storage.roster.kinds import HH

SIZES = [
    int(n)
    for n in os.environ.get(
        "SINERGI_BENCH_IMPORT_SIZES", os.environ.get("SINERGI_BENCH_IMPORT_ROWS", "100000,1000000")
    ).split(",")
]
CHUNK = 2000


def run() -> list[dict[str, Any]]:
    """For each size, the baseline and the import (fresh, then again: all updates), each in its own process."""
    results = []
    for size in SIZES:
        with tempfile.TemporaryDirectory(prefix="sinergi-bench-") as folder:
            path = gen.write_csv(Path(folder) / "kpm.csv", size)
            for backend in dbs.backends():
                with dbs.fresh(backend) as url:
                    baseline = _child("baseline", url, path)[0]
                with dbs.fresh(backend) as url:
                    first, again = _child("import", url, path)
                for case, timing in (
                    ("households csv (new)", first),
                    ("households csv (re-import)", again),
                    ("baseline: bare executemany", baseline),
                ):
                    results.append(_row(backend, size, case, timing, baseline["seconds"]))
        rows = [r for r in results if r["size"] == size]
        print(
            f"# import {size:,}: "
            + ", ".join(f"{r['db']} {r['case']} {r['ratio_to_baseline']}" for r in rows),
            flush=True,
        )
    return results


def _child(case: str, url: str, path: Path) -> list[dict[str, Any]]:
    """Run one case in a fresh interpreter; its timings, one per phase."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.bench_import", case, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _row(
    backend: str, size: int, case: str, timing: dict[str, Any], baseline: float
) -> dict[str, Any]:
    """One line of the report."""
    seconds = timing["seconds"]
    return {
        "bench": "import",
        "db": backend,
        "size": size,
        "case": case,
        "rows": timing["rows"],
        "seconds": round(seconds, 2),
        "cpu_s": round(timing["cpu_s"], 2),
        "rows_per_s": round(timing["rows"] / seconds),
        "ratio_to_baseline": round(seconds / baseline, 2),
        "peak_rss_mb": timing["peak_rss_mb"],
    }


def _measured(rows: int, wall: float, cpu: float) -> dict[str, Any]:
    """A phase's numbers, with this process's peak memory so far."""
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "seconds": wall, "cpu_s": cpu, "peak_rss_mb": round(peak_kb / 1024, 1)}


def validated(path: Path, vault: NikVault) -> Iterator[list[dict[str, Any]]]:
    """The rows as the import would write them (checked, NIK encrypted), a chunk at a time."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        while chunk := list(islice(reader, CHUNK)):
            out = []
            for cells in chunk:
                record, why = rules.household(dict(zip(header, cells, strict=True)), vault)
                assert not why, why
                record.update(mentor_id=None, created_at=gen.NOW, updated_at=gen.NOW)
                out.append(record)
            yield out


async def bare_insert(url: str, path: Path) -> dict[str, Any]:
    """A plain INSERT executemany of the rows in chunks, in one transaction; only the executes timed."""
    engine = make_engine(url)
    wall = cpu = 0.0
    rows = 0
    try:
        async with engine.begin() as conn:
            for records in validated(path, NikVault(gen.SECRET)):
                t, c = time.perf_counter(), time.process_time()
                await conn.execute(sa.insert(HH), records)
                wall, cpu = wall + time.perf_counter() - t, cpu + time.process_time() - c
                rows += len(records)
            t, c = time.perf_counter(), time.process_time()
        wall, cpu = wall + time.perf_counter() - t, cpu + time.process_time() - c  # the commit
        return _measured(rows, wall, cpu)
    finally:
        await engine.dispose()


async def timed_import(url: str, path: Path) -> dict[str, Any]:
    """The real import from the path (read, validate, encrypt, upsert, regions, commit)."""
    engine = make_engine(url)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        async with unit_of_work(make_sessions(engine)) as session:
            report = await import_roster(
                session, "households", path, path.name, vault=NikVault(gen.SECRET), now=gen.NOW
            )
        assert report.ok, report.problems[:5]
        rows = report.created + report.updated
        return _measured(rows, time.perf_counter() - wall, time.process_time() - cpu)
    finally:
        await engine.dispose()


def _main(case: str, url: str, path: Path) -> None:
    """The child: print one JSON line per phase."""
    if case == "baseline":
        print(json.dumps(asyncio.run(bare_insert(url, path))))
        return
    print(json.dumps(asyncio.run(timed_import(url, path))))
    print(json.dumps(asyncio.run(timed_import(url, path))))


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
