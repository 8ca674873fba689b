"""What every command needs: settings, logging, a migrated runtime, an event loop."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer
from pythonjsonlogger.json import JsonFormatter

from bot.config import Settings, SettingsError, load_settings
from bot.runtime import Runtime, build_runtime
from storage.migrate import upgrade

T = TypeVar("T")


def setup_logging(level: int = logging.INFO, *, json_lines: bool | None = None) -> None:
    """JSON lines for log collectors (plain text on a terminal); ids and types, never personal data."""
    handler = logging.StreamHandler()
    if json_lines if json_lines is not None else not sys.stderr.isatty():
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)


class PathOnly(logging.Filter):
    """Access log lines keep the path and drop the query string (`?q=` a NIK or a name, `?phone=`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access logs (client, method, path with query, http version, status).
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def hide_query_strings() -> None:
    """Every access log line (uvicorn's) without its query string."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathOnly) for f in access.filters):
        access.addFilter(PathOnly())


def settings() -> Settings:
    """The settings of this run, with the secret key made on first use; a bad one stops here."""
    try:
        return load_settings()
    except SettingsError as exc:
        typer.secho(f"Sinergi cannot start: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


async def migrated_runtime(cfg: Settings) -> Runtime:
    """A runtime over a database at the newest schema."""
    rt = build_runtime(cfg)
    await upgrade(rt.engine)
    return rt


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one coroutine to the end."""
    return asyncio.run(main())
