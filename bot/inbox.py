"""The inbox worker: takes stored updates chat by chat, in order, and answers them through the core."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import core
from bot.messages import Inbound
from bot.metrics import Metrics
from handlers.turn import Rules
from storage import inbox as inbox_store
from storage.crypto import redact_numbers
from storage.db import Sessions, unit_of_work
from storage.models import InboxUpdate

log = logging.getLogger("sinergi.inbox")

Parser = Callable[[str], list[Inbound]]


@dataclass
class InboxWorker:
    """Drains the inbox: parse, collapse a stale backlog, answer, mark processed."""

    sessions: Sessions
    parsers: dict[str, Parser]
    rules: Rules
    metrics: Metrics
    stale_after: timedelta = timedelta(minutes=10)
    unseal: Callable[[str], str] = lambda raw: raw

    async def drain(self, now: datetime, *, max_chats: int = 200) -> int:
        """Process every chat with waiting updates; returns how many updates were taken."""
        async with self.sessions() as session:
            chats = await inbox_store.pending_chats(session, limit=max_chats)
        handled = 0
        for chat in chats:
            handled += await self.process_chat(chat, now)
        return handled

    async def process_chat(self, chat_key: str, now: datetime) -> int:
        """One chat's waiting updates, in arrival order, in one transaction."""
        async with unit_of_work(self.sessions) as session:
            rows = await inbox_store.claim_chat(session, chat_key)
            work = [(row, self._parse(row)) for row in rows]
            newest = _newest_message(work)
            for row, msgs in work:
                await self._answer(session, row, msgs, now, newest)
        return len(rows)

    def _parse(self, row: InboxUpdate) -> list[Inbound]:
        """The row's messages; a row that does not parse is quarantined and the chat moves on."""
        try:
            return self.parsers[row.channel](self.unseal(row.raw))
        except Exception as exc:  # noqa: BLE001 - any parse failure quarantines, never blocks the chat
            row.state, row.error = "quarantined", type(exc).__name__[:200]
            self.metrics.quarantined.labels(row.channel).inc()
            # The exception text may quote the payload (names, numbers): log only its type.
            log.warning("quarantined update %s on %s: %s", row.id, row.channel, type(exc).__name__)
            return []

    async def _answer(
        self,
        session: AsyncSession,
        row: InboxUpdate,
        msgs: list[Inbound],
        now: datetime,
        newest: Inbound | None,
    ) -> None:
        """Answer a row's messages; after an outage only the newest one of the backlog is answered."""
        if row.state == "quarantined":
            row.processed_at = now
            return
        started = time.perf_counter()
        answered = 0
        for inbound in msgs:
            late = now - inbound.sent_at > self.stale_after
            if late and inbound is not newest:
                continue
            try:
                async with session.begin_nested():
                    await core.handle(session, inbound, now=now, rules=self.rules, late=late)
            except Exception:  # one broken turn must not hold up the chat or lose the others
                log.exception("failed to answer update %s on %s", row.id, row.channel)
                row.state, row.error, row.processed_at = "failed", "handler error", now
                return
            answered += 1
        row.state = ("done" if answered else "stale") if msgs else "ignored"
        row.processed_at = now
        # Kept for the conversation timeline, with every NIK or No. KK masked.
        row.raw = redact_numbers(self.unseal(row.raw))
        self.metrics.processing.labels(row.channel).observe(time.perf_counter() - started)


def _newest_message(work: list[tuple[InboxUpdate, list[Inbound]]]) -> Inbound | None:
    """The last message of the batch, the one a backlog is answered through."""
    for _row, msgs in reversed(work):
        if msgs:
            return msgs[-1]
    return None
