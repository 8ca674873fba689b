"""What every command needs: settings, logging, a migrated runtime, an event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bot.config import Settings, load_settings
from bot.runtime import Runtime, build_runtime
from storage.migrate import upgrade

T = TypeVar("T")


def setup_logging(level: int = logging.INFO) -> None:
    """One line per event, no personal data (handlers log ids and types, never text)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def settings() -> Settings:
    """The settings of this run, with the secret key made on first use."""
    return load_settings()


async def migrated_runtime(cfg: Settings) -> Runtime:
    """A runtime over a database at the newest schema."""
    rt = build_runtime(cfg)
    await upgrade(rt.engine)
    return rt


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one coroutine to the end."""
    return asyncio.run(main())
