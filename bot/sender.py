"""The outbox sender: claims due messages under a lease, sends them, retries with backoff."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import ChannelClient, SendResult
from bot.messages import Reply
from bot.metrics import Metrics
from storage import outbox
from storage.db import Sessions, unit_of_work
from storage.models import ChatIdentity, OutboxMessage

log = logging.getLogger("sinergi.outbox")


@dataclass
class OutboxSender:
    """Delivers the outbox through the channel clients that are switched on."""

    sessions: Sessions
    clients: dict[str, ChannelClient]
    metrics: Metrics
    max_attempts: int = 8
    lease: timedelta = timedelta(seconds=60)
    rng: random.Random = field(default_factory=random.Random)

    async def deliver(self, now: datetime, *, batch: int = 50) -> int:
        """Send what is due now; returns how many messages the platforms accepted."""
        async with unit_of_work(self.sessions) as session:
            claimed = await outbox.claim_due(session, now=now, lease=self.lease, limit=batch)
            jobs = [(row.id, row.channel, row.recipient, dict(row.payload), row.attempts) for row in claimed]
        accepted = 0
        for row_id, channel, recipient, payload, attempts in jobs:
            result = await self._send(channel, recipient, payload)
            await self._record(row_id, result, attempts, now)
            accepted += int(result.ok)
        return accepted

    async def _send(self, channel: str, recipient: str, payload: dict[str, object]) -> SendResult:
        """One platform call; a channel that is switched off fails the message for good."""
        client = self.clients.get(channel)
        if client is None:
            return SendResult(ok=False, permanent=True, error=f"channel {channel} is off")
        try:
            return await client.send(recipient, Reply.from_payload(payload))
        except Exception as exc:  # noqa: BLE001 - a client bug must not kill the sender loop
            log.exception("send failed on %s", channel)
            return SendResult(ok=False, error=type(exc).__name__)

    async def _record(self, row_id: int, result: SendResult, attempts: int, now: datetime) -> None:
        """Mark the row sent, due again later, dead, or its person unreachable."""
        async with unit_of_work(self.sessions) as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.lease_until = None
            if result.ok:
                row.state, row.sent_at, row.external_message_id, row.error = "sent", now, result.message_id, None
                self.metrics.sent.labels(row.channel).inc()
                return
            row.error = result.error
            self.metrics.send_failures.labels(row.channel, _kind(result)).inc()
            if result.unreachable:
                row.state = "failed"
                await _mark_unreachable(session, row.identity_id, now, result.error)
            elif result.permanent or attempts >= self.max_attempts:
                row.state = "dead"
            else:
                row.state, row.next_attempt_at = "retry", now + self._backoff(attempts, result.retry_after)

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """The platform's retry_after when given, else exponential backoff with full jitter."""
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        ceiling = min(3600.0, 2.0 ** attempts)
        return timedelta(seconds=1 + self.rng.uniform(0, ceiling))


def _kind(result: SendResult) -> str:
    """A label for the failure metric."""
    if result.unreachable:
        return "unreachable"
    if result.permanent:
        return "permanent"
    return "rate_limited" if result.retry_after is not None else "transient"


async def _mark_unreachable(session: AsyncSession, identity_id: int, now: datetime, reason: str | None) -> None:
    """A blocked bot or undeliverable number: the ladder sends a mentor instead of reminders."""
    identity = await session.get(ChatIdentity, identity_id)
    if identity is not None and identity.unreachable_at is None:
        identity.unreachable_at, identity.unreachable_reason = now, (reason or "unreachable")[:64]
