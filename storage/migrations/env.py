"""Alembic environment: runs the migrations on the engine Sinergi is configured with."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import make_engine
from storage.models import Base
from storage.models.search import include_name

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    """Apply migrations on one connection (batch mode lets SQLite alter tables)."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    """Connect with the async engine and run the migrations in a sync shim."""
    url = os.environ.get("SINERGI_MIGRATION_URL") or config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_online())
