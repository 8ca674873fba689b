"""Shared fixtures: a fresh database per test on SQLite (always) and PostgreSQL (when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.config import Settings
from storage.models import Base

if TYPE_CHECKING:
    from tests.harness import Harness

PG_URL = os.environ.get("SINERGI_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
# Real webhook bodies from public sources, kept in the repository (tests/fixtures/payloads/SOURCES.md).
PAYLOADS = Path(__file__).resolve().parent / "fixtures" / "payloads"
# The app secret of the real signed capture in tests/fixtures/payloads (already reset by its owner).
WHATSAPP_APP_SECRET = "1222e786b144d0e85b9f365372d93676"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 WITA, a Monday


def _sync_url(url: str) -> str:
    """The psycopg (sync) form of a PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A private PostgreSQL database for this test run (parallel runs do not collide)."""
    if not PG_URL:
        yield None
        return
    admin = sa.create_engine(_sync_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"sinergi_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(_sync_url(url))
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def blank_postgres() -> Iterator[str]:
    """A private PostgreSQL database without tables (the processes under test migrate it)."""
    assert PG_URL
    admin = sa.create_engine(_sync_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"sinergi_blank_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate(url: str) -> None:
    """Empty every table between tests (much faster than dropping them)."""
    engine = sa.create_engine(_sync_url(url))
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None
) -> Iterator[str]:
    """An empty database with the current schema, on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/sinergi.db"
        engine = sa.create_engine(url.replace("+aiosqlite", ""))
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    assert pg_database is not None
    _truncate(pg_database)
    yield pg_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test: Telegram on (with a fake API), secrets fixed."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-key",
        telegram_token="123456:TEST",
        telegram_secret="telegram-webhook-secret",
        telegram_api_url="https://telegram.test",
        whatsapp_token="TEST-WA-TOKEN",
        whatsapp_phone_id="1122334455667",
        whatsapp_app_secret=WHATSAPP_APP_SECRET,
        whatsapp_verify_token="whatsapp-verify-token",
        whatsapp_api_url="https://graph.test/v23.0",
    )


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    """The real app over HTTP, with the fake Bot API, at a controlled clock."""
    from tests.harness import Harness

    h = await Harness.start(settings)
    try:
        yield h
    finally:
        await h.stop()
