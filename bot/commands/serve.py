"""`sinergi serve` and `sinergi migrate`."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import typer
import uvicorn

from bot.app import create_app
from bot.channels.telegram import TelegramClient, chat_key
from bot.commands.common import (
    hide_query_strings,
    migrated_runtime,
    run,
    settings,
    setup_logging,
)
from bot.runtime import Runtime
from bot.web.webhooks.store import store_update
from storage.db import make_engine
from storage.migrate import upgrade

log = logging.getLogger("sinergi.serve")


def migrate() -> None:
    """Apply the database migrations."""
    setup_logging()
    cfg = settings()

    async def main() -> None:
        engine = make_engine(cfg.database_url)
        await upgrade(engine)
        await engine.dispose()

    run(main)
    typer.echo("Database is up to date.")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Do not run the scheduler clock"
    ),
    telegram_polling: bool = typer.Option(
        False, "--telegram-polling", help="Poll Telegram instead of a webhook"
    ),
) -> None:
    """Migrate, then serve webhooks, admin view and simulator, and run the workers."""
    setup_logging()
    cfg = settings()

    async def main() -> None:
        rt = await migrated_runtime(cfg)
        await announce_channels(rt, polling=telegram_polling)
        app = create_app(rt, background=True)
        app.state.scheduler_enabled = not no_scheduler
        server = uvicorn.Server(server_config(app, host, port))
        tasks = [asyncio.create_task(_poll_telegram(rt))] if telegram_polling else []
        try:
            await server.serve()
        finally:
            for task in tasks:
                task.cancel()

    run(main)


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for Sinergi: its access log shows paths, never query strings."""
    # Forwarded headers are judged by the app against SINERGI_TRUSTED_PROXIES, not by uvicorn
    # (which would believe any loopback peer).
    config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
    hide_query_strings()  # after Config, which sets up uvicorn's loggers
    return config


async def announce_channels(rt: Runtime, *, polling: bool) -> None:
    """Say which channels are on; register the Telegram webhook when a public URL is set."""
    client = rt.clients.get("telegram")
    if not isinstance(client, TelegramClient):
        log.info("Telegram is off: SINERGI_TELEGRAM_TOKEN is not set")
    elif polling:
        await client.bot.delete_webhook()
        log.info("Telegram: polling for updates")
    elif rt.settings.public_url and rt.settings.telegram_secret:
        await client.register_webhook(rt.settings.public_url, rt.settings.telegram_secret)
        log.info("Telegram: webhook registered at the public URL")
    else:
        log.info("Telegram: no SINERGI_PUBLIC_URL, webhook not registered (use --telegram-polling)")
    if "whatsapp" not in rt.clients:
        log.info("WhatsApp is off: SINERGI_WHATSAPP_TOKEN/PHONE_ID are not set")


async def _poll_telegram(rt: Runtime) -> None:
    """For an office without https: fetch updates and store them exactly as the webhook would."""
    client = rt.clients["telegram"]
    assert isinstance(client, TelegramClient)
    offset = 0
    while True:
        try:
            offset = await poll_telegram_once(rt, client, offset, wait=30)
        except Exception:  # noqa: BLE001 - network trouble: wait and poll again
            log.warning("Telegram polling failed; retrying")
            await asyncio.sleep(5)


async def poll_telegram_once(rt: Runtime, client: TelegramClient, offset: int, *, wait: int) -> int:
    """One getUpdates call; each update goes to the inbox; returns the next offset."""
    for update in await client.bot.get_updates(offset=offset, timeout=wait):
        data = update.to_dict()
        body = json.dumps(data).encode()
        await store_update(rt, "telegram", str(update.update_id), chat_key(data), body)
        offset = update.update_id + 1
    return offset
