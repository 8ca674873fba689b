"""Fresh databases for a benchmark: a SQLite file, and PostgreSQL when a URL is configured."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from storage.models import Base


def postgres_url() -> str | None:
    """`SINERGI_BENCH_POSTGRES_URL` (set by `python -m bench --postgres URL`), else the tests' URL."""
    return os.environ.get("SINERGI_BENCH_POSTGRES_URL") or os.environ.get(
        "SINERGI_TEST_POSTGRES_URL"
    )


def backends() -> list[str]:
    """SQLite always; PostgreSQL when a URL is configured."""
    return ["sqlite"] + (["postgres"] if postgres_url() else [])


@contextmanager
def fresh(backend: str) -> Iterator[str]:
    """An empty database with the current schema; its async URL. Dropped afterwards."""
    with fresh_sqlite() if backend == "sqlite" else fresh_postgres() as url:
        yield url


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    """A SQLite file in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="sinergi-bench-") as folder:
        path = Path(folder) / "bench.db"
        engine = sa.create_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        engine.dispose()
        yield f"sqlite+aiosqlite:///{path}"


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A private PostgreSQL database beside the configured one."""
    base = postgres_url()
    assert base, "no PostgreSQL URL configured"
    sync = make_url(base).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(sync, isolation_level="AUTOCOMMIT")
    name = f"sinergi_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        engine = sa.create_engine(sync.set(database=name))
        Base.metadata.create_all(engine)
        engine.dispose()
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
