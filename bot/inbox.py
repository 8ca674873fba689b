"""The inbox worker: takes stored updates chat by chat, in order, and answers them through the core."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import core
from bot.channels.base import MediaFile, MediaUnavailable
from bot.messages import Inbound, Media, Reply, StatusUpdate
from bot.metrics import Metrics
from handlers.turn import Rules
from locales.i18n import _, use_locale
from storage import inbox as inbox_store
from storage import outbox
from storage.crypto import redact_numbers
from storage.db import Sessions, unit_of_work
from storage.media import MediaStore
from storage.models import InboxUpdate

log = logging.getLogger("sinergi.inbox")

Parser = Callable[[str], list[Inbound]]
ReceiptParser = Callable[[str], list[StatusUpdate]]
# Downloads a photo or document at once (platform links expire); the inbox stores the bytes.
MediaFetcher = Callable[[Media], Awaitable[MediaFile]]


@dataclass
class InboxWorker:
    """Drains the inbox: parse, collapse a stale backlog, answer, mark processed."""

    sessions: Sessions
    parsers: dict[str, Parser]
    rules: Rules
    metrics: Metrics
    stale_after: timedelta = timedelta(minutes=10)
    unseal: Callable[[str], str] = lambda raw: raw
    fetchers: dict[str, MediaFetcher] = field(default_factory=dict)
    receipts: dict[str, ReceiptParser] = field(default_factory=dict)
    media: MediaStore | None = None

    async def drain(self, now: datetime, *, max_chats: int = 200) -> int:
        """Process every chat with waiting updates; returns how many updates were taken."""
        async with self.sessions() as session:
            chats = await inbox_store.pending_chats(session, limit=max_chats)
        handled = 0
        for chat in chats:
            try:
                handled += await self.process_chat(chat, now)
            except Exception:  # noqa: BLE001 - one chat's trouble must not stop the others
                # Its rows stay pending and are tried again; the key may hold a number: not logged.
                log.exception("chat not processed; trying the other chats")
                self.metrics.quarantined.labels("chat").inc()
        return handled

    async def process_chat(self, chat_key: str, now: datetime) -> int:
        """One chat's waiting updates, in arrival order, in one transaction."""
        async with unit_of_work(self.sessions) as session:
            rows = await inbox_store.claim_chat(session, chat_key)
            unfetched: set[str] = set()
            work = [(row, await self._prepared(session, row, now, unfetched)) for row in rows]
            newest = _newest_message(work)
            for row, msgs in work:
                await self._answer(session, row, msgs, now, newest, unfetched)
        return len(rows)

    async def _prepared(
        self, session: AsyncSession, row: InboxUpdate, now: datetime, unfetched: set[str]
    ) -> list[Inbound]:
        """The row's messages; anything that goes wrong preparing them quarantines this row only."""
        try:
            async with session.begin_nested():  # a half-applied receipt is undone with the row
                return await self._prepare(session, row, now, unfetched)
        except Exception as exc:  # noqa: BLE001 - a poison update must not stop the chat or the loop
            self._quarantine(row, exc)
            return []

    def _quarantine(self, row: InboxUpdate, exc: BaseException) -> None:
        """Set the row aside, counted and logged by id (never its text: it may quote a payload)."""
        row.state, row.error = "quarantined", type(exc).__name__[:200]
        self.metrics.quarantined.labels(row.channel).inc()
        log.warning(
            "update quarantined",
            extra={"inbox_id": row.id, "channel": row.channel, "error": type(exc).__name__},
        )

    async def _prepare(
        self, session: AsyncSession, row: InboxUpdate, now: datetime, unfetched: set[str]
    ) -> list[Inbound]:
        """The row's messages, media fetched; receipts update the outbox and reach no handler."""
        items = self._parse(row)
        for receipt in self._receipts(row):
            error = (
                f"{receipt.error_code}: {receipt.error_title or ''}" if receipt.error_code else None
            )
            await outbox.apply_receipt(
                session,
                channel=receipt.channel,
                external_message_id=receipt.external_message_id,
                status=receipt.status,
                now=now,
                outcome=receipt.outcome,
                error=error,
            )
            row.state = "receipt"
        return [await self._with_media(row, m, unfetched) for m in items]

    async def _with_media(self, row: InboxUpdate, inbound: Inbound, unfetched: set[str]) -> Inbound:
        """The message with its photo or document downloaded into the media store, when it can be;
        when it cannot, its id joins `unfetched` and the person is asked to send it again."""
        fetch = self.fetchers.get(inbound.address.channel)
        if inbound.media is None or fetch is None or self.media is None:
            return inbound
        try:
            file = await fetch(inbound.media)
        except Exception as exc:  # noqa: BLE001 - MediaUnavailable, or a client bug: same answer
            level = logging.WARNING if isinstance(exc, MediaUnavailable) else logging.ERROR
            log.log(
                level,
                "media not downloaded",
                extra={"inbox_id": row.id, "channel": row.channel, "error": type(exc).__name__},
            )
            self.metrics.media_failures.labels(row.channel).inc()
            unfetched.add(inbound.message_id)
            return inbound
        media = inbound.media
        path = self.media.save(file.data, mime_type=file.mime_type)
        return replace(inbound, media=Media(media.kind, media.file_id, file.mime_type, path))

    def _receipts(self, row: InboxUpdate) -> list[StatusUpdate]:
        """The row's delivery receipts; one that does not parse is quarantined like a message."""
        parse = self.receipts.get(row.channel)
        if parse is None or row.state == "quarantined":
            return []
        try:
            return parse(self.unseal(row.raw))
        except Exception as exc:  # noqa: BLE001 - never block the chat over a broken receipt
            self._quarantine(row, exc)
            return []

    def _parse(self, row: InboxUpdate) -> list[Inbound]:
        """The row's messages; a row that does not parse is quarantined and the chat moves on."""
        try:
            return self.parsers[row.channel](self.unseal(row.raw))
        except Exception as exc:  # noqa: BLE001 - any parse failure quarantines, never blocks the chat
            self._quarantine(row, exc)
            return []

    async def _answer(
        self,
        session: AsyncSession,
        row: InboxUpdate,
        msgs: list[Inbound],
        now: datetime,
        newest: Inbound | None,
        unfetched: set[str],
    ) -> None:
        """Answer a row's messages; after an outage only the newest one of the backlog is answered."""
        if row.state in ("quarantined", "receipt"):
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
                    if inbound.message_id in unfetched:
                        await _ask_again(session, inbound, now)
                    else:
                        await core.handle(session, inbound, now=now, rules=self.rules, late=late)
            except Exception:  # one broken turn must not hold up the chat or lose the others
                log.exception("update failed", extra={"inbox_id": row.id, "channel": row.channel})
                row.state, row.error, row.processed_at = "failed", "handler error", now
                return
            answered += 1
        row.state = ("done" if answered else "stale") if msgs else "ignored"
        row.processed_at = now
        # Kept for the conversation timeline, with every NIK or No. KK masked.
        row.raw = redact_numbers(self.unseal(row.raw))
        self.metrics.processing.labels(row.channel).observe(time.perf_counter() - started)


async def _ask_again(session: AsyncSession, inbound: Inbound, now: datetime) -> None:
    """A photo or file that could not be fetched: the person is asked to send it again."""
    identity = await core.sender_of(session, inbound, now)
    if identity.opted_out:
        return  # BERHENTI holds: no answer, not even this one
    with use_locale(identity.locale):
        is_photo = inbound.media is not None and inbound.media.kind == "photo"
        text = (
            _("We could not receive the photo yet. Please send it again.")
            if is_photo
            else _("We could not receive the file yet. Please send it again.")
        )
    extra = {"callback_id": inbound.callback_id} if inbound.callback_id else {}
    outbox.enqueue(session, identity, Reply(text, extra=extra).to_payload(), now=now)


def _newest_message(work: list[tuple[InboxUpdate, list[Inbound]]]) -> Inbound | None:
    """The last message of the batch, the one a backlog is answered through."""
    for _row, msgs in reversed(work):
        if msgs:
            return msgs[-1]
    return None
