"""Applying the Alembic migrations from code (`sinergi migrate`, `serve`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_sync)


def _upgrade_sync(connection: object) -> None:
    """Alembic is synchronous: it runs on the connection the async engine lends it."""
    config = alembic_config("")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
