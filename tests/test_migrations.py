"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base
from storage.models.search import include_name
from tests.conftest import PG_URL, _sync_url


def _fresh_urls(tmp_path: object) -> list[tuple[str, str | None]]:
    urls: list[tuple[str, str | None]] = [(f"sqlite+aiosqlite:///{tmp_path}/m.db", None)]
    if PG_URL:
        name = f"sinergi_mig_{uuid.uuid4().hex[:8]}"
        urls.append(
            (make_url(PG_URL).set(database=name).render_as_string(hide_password=False), name)
        )
    return urls


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_upgrade_head_matches_models(backend: str, tmp_path: object) -> None:
    if backend == "postgres" and not PG_URL:
        pytest.skip("SINERGI_TEST_POSTGRES_URL not set")
    url, name = _fresh_urls(tmp_path)[0 if backend == "sqlite" else 1]
    admin = (
        sa.create_engine(_sync_url(PG_URL), isolation_level="AUTOCOMMIT")
        if name and PG_URL
        else None
    )
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second run is a no-op
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"include_name": include_name}),
                    Base.metadata,
                )
            )
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        await engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
