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


def _to(connection: object, revision: str) -> None:
    """Alembic's upgrade to `revision` on a lent connection."""
    from alembic import command

    from storage.migrate import alembic_config

    config = alembic_config("")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_0008_moves_old_escalations_to_the_desa_and_indexes_old_names(
    tmp_path: object,
) -> None:
    """An escalation written under 4 digits gets its household's desa code; names written before
    the index exist are found through it (SQLite: the FTS table is rebuilt from the rows)."""
    from datetime import UTC, datetime

    from storage.households import HouseholdFilter, household_query
    from storage.models import Escalation, Household
    from storage.scope import Scope

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0007_orgs")
            household = await conn.execute(
                sa.insert(Household).values(
                    no_kk="6472010101000001",
                    nik_hash="h",
                    nik_encrypted="-",
                    nik_masked="-",
                    name="Siti Aminah",
                    region_code="6472011001",
                    categories="",
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(
                sa.insert(Escalation).values(
                    household_id=household.inserted_primary_key[0],
                    region_code="6472",
                    reason="silent",
                    level=1,
                    state="open",
                    sla_due=now.date(),
                    at_risk=False,
                    created_at=now,
                )
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.scalar(sa.select(Escalation.region_code)) == "6472011001"
            kecamatan = Scope("647201", "officer", 1, "x")
            found = await conn.execute(
                household_query(kecamatan, HouseholdFilter(q="minah"), "sqlite")
            )
            assert [row.name for row in found] == ["Siti Aminah"]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_0015_rebuilds_the_name_index_keyed_by_desa(backend: str, tmp_path: object) -> None:
    """Households written before 0015 are in the index under their desa code's key afterwards,
    and a kecamatan officer's search finds them along that key range (and a neighbour's not)."""
    from datetime import UTC, datetime

    from storage.db import make_sessions
    from storage.households import HouseholdFilter, search
    from storage.models import Household
    from storage.models.search import key_of
    from storage.scope import Scope

    if backend == "postgres" and not PG_URL:
        pytest.skip("SINERGI_TEST_POSTGRES_URL not set")
    url, name = _fresh_urls(tmp_path)[0 if backend == "sqlite" else 1]
    admin = sa.create_engine(_sync_url(PG_URL), isolation_level="AUTOCOMMIT") if name else None
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0014_impjobs")
            for i, code in enumerate(("6472011001", "6472021001")):
                await conn.execute(
                    sa.insert(Household).values(
                        no_kk=f"647201010100000{i}",
                        nik_hash=f"h{i}",
                        nik_encrypted="-",
                        nik_masked="-",
                        name="Siti Aminah",
                        region_code=code,
                        categories="",
                        created_at=now,
                        updated_at=now,
                    )
                )
        await upgrade(engine)
        key = "rowid" if backend == "sqlite" else "key"
        async with engine.connect() as conn:
            keys = (await conn.execute(sa.text(f"SELECT {key} FROM households_fts"))).scalars()
            assert sorted(keys) == [key_of("6472011001", 1), key_of("6472021001", 2)]
        async with make_sessions(engine)() as session:
            kecamatan = Scope("647201", "officer", 1, "x")
            page = await search(session, kecamatan, HouseholdFilter(q="minah"))
            assert [(hh.name, hh.region_code) for hh in page.rows] == [
                ("Siti Aminah", "6472011001")
            ]
    finally:
        await engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
