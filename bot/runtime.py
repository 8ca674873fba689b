"""Everything a running Sinergi holds: settings, database, channel clients, workers, metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels import local, telegram, whatsapp
from bot.channels.base import ChannelClient, MediaSource
from bot.channels.local import LOCAL_CHANNELS, LocalClient
from bot.config import Settings
from bot.inbox import InboxWorker, MediaFetcher, Parser
from bot.inbox_writer import InboxWriter
from bot.messages import install_renderers
from bot.metrics import Metrics
from bot.sender import OutboxSender, pacer_from
from handlers.turn import Rules
from scheduler import jobs
from scheduler.ladder import Plan
from storage import calendar
from storage.crypto import NikVault
from storage.db import Sessions, make_engine, make_sessions, statement_writer
from storage.media import MediaStore


@dataclass
class Runtime:
    """The parts of one Sinergi process, built once at an entry point and passed down."""

    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    vault: NikVault
    rules: Rules
    metrics: Metrics
    clients: dict[str, ChannelClient]
    inbox: InboxWorker
    sender: OutboxSender
    inbox_writer: InboxWriter
    inbox_wake: asyncio.Event = field(default_factory=asyncio.Event)
    outbox_wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self) -> None:
        """Close the channel clients and the database pool."""
        for client in self.clients.values():
            await client.close()
        await self.inbox_writer.close()
        await self.engine.dispose()


def rules_from(settings: Settings, vault: NikVault) -> Rules:
    """The journey rules from the settings."""
    return Rules(
        vault=vault,
        link_code_ttl=timedelta(hours=settings.link_code_ttl_hours),
        nik_tries_per_chat=settings.nik_tries_per_chat,
        nik_window=timedelta(minutes=settings.nik_tries_window_minutes),
        nik_tries_per_nik_per_day=settings.nik_tries_per_nik_per_day,
        max_text_length=settings.max_text_length,
        sla_working_days=settings.escalation_sla_working_days,
        vulnerable_sla_working_days=settings.vulnerable_sla_working_days,
        graduation_reports_running=settings.graduation_reports_running,
        report_previous_month_until_day=settings.report_previous_month_until_day,
        delivery_hours=Plan.from_settings(settings).hours(),
    )


def default_clients(settings: Settings) -> dict[str, ChannelClient]:
    """The real platform clients for the channels that have credentials."""
    clients: dict[str, ChannelClient] = {name: LocalClient(name) for name in LOCAL_CHANNELS}
    if settings.telegram_enabled and settings.telegram_token:
        clients["telegram"] = telegram.TelegramClient(
            settings.telegram_token, settings.telegram_api_url
        )
    if settings.whatsapp_enabled:
        clients["whatsapp"] = whatsapp_client(settings)
    return clients


def whatsapp_client(settings: Settings, transport: Any = None) -> whatsapp.WhatsAppClient:
    """The Graph API client from the settings (tests pass a fake transport)."""
    return whatsapp.WhatsAppClient(
        settings.whatsapp_token or "",
        settings.whatsapp_phone_id or "",
        settings.whatsapp_api_url,
        templates=settings.whatsapp_templates,
        transport=transport,
    )


def media_fetchers(clients: dict[str, ChannelClient]) -> dict[str, MediaFetcher]:
    """The channels that download a photo as soon as it arrives (platform links expire)."""
    return {name: c.download_media for name, c in clients.items() if isinstance(c, MediaSource)}


PARSERS: dict[str, Parser] = {
    "telegram": telegram.parse,
    "whatsapp": whatsapp.parse,
    **{name: local.parser(name) for name in LOCAL_CHANNELS},
}


def build_runtime(
    settings: Settings, *, clients: dict[str, ChannelClient] | None = None
) -> Runtime:
    """Wire the parts together; tests pass fake clients, production the real ones."""
    if settings.holidays_file is not None:
        calendar.use_holidays_file(settings.holidays_file)
    install_renderers(jobs.RENDERERS)
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    vault = NikVault(settings.secret_key, settings.data_key)
    rules = rules_from(settings, vault)
    metrics = Metrics()
    chosen = default_clients(settings) if clients is None else clients
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        vault=vault,
        rules=rules,
        metrics=metrics,
        clients=chosen,
        inbox_writer=InboxWriter(statement_writer(engine)),
        inbox=InboxWorker(
            sessions,
            dict(PARSERS),
            rules,
            metrics,
            stale_after=timedelta(seconds=settings.stale_after_seconds),
            unseal=vault.unseal,
            fetchers=media_fetchers(chosen),
            receipts={"whatsapp": whatsapp.receipts},
            media=MediaStore(settings.media_path),
        ),
        sender=OutboxSender(
            sessions,
            chosen,
            metrics,
            reply_deadline=timedelta(hours=settings.outbox_reply_deadline_hours),
            backoff_cap=settings.outbox_backoff_cap_seconds,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            pacer=pacer_from(settings),
            media=MediaStore(settings.media_path),
            delivery_hours=rules.delivery_hours,
        ),
    )
