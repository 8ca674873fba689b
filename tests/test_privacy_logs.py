"""Personal data stays out of the log: access lines without query strings, SQL errors without values."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.app import create_app
from bot.commands.serve import server_config
from storage.db import is_postgres
from storage.models import InboxUpdate
from tests import factories
from tests.case_helpers import HOUSEHOLD_PHONE, linked, seed
from tests.drivers import TelegramDriver
from tests.harness import Harness

NIK = factories.NIK
TYPED_PHONE = "081399887766"


class _Lines(logging.Handler):
    """Every formatted message of the loggers it is added to."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + (self.format(record) if record.exc_info else ""))


async def test_access_log_has_paths_without_query_strings(harness: Harness) -> None:
    """A search for a NIK or a phone in the address bar is not written to the access log."""
    import uvicorn

    config = server_config(create_app(harness.rt, background=False), "127.0.0.1", 0)
    server = uvicorn.Server(config)
    lines = _Lines()
    logging.getLogger("uvicorn.access").addHandler(lines)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await client.get("/healthz", params={"q": NIK, "phone": HOUSEHOLD_PHONE})
            await client.get("/admin/households", params={"q": "Siti Aminah"})
    finally:
        server.should_exit = True
        await serving
        logging.getLogger("uvicorn.access").removeHandler(lines)
    logged = "\n".join(lines.lines)
    assert "GET /healthz HTTP/1.1" in logged
    for secret in (NIK, HOUSEHOLD_PHONE, HOUSEHOLD_PHONE.lstrip("+"), "Siti", "q="):
        assert secret not in logged


async def test_a_failing_write_logs_no_statement_values(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A message with a NIK and a phone whose answer cannot be saved: the log names the error only."""
    caplog.set_level(logging.DEBUG)
    await seed(harness)
    person = TelegramDriver(harness)
    await linked(person)
    async with await harness.session() as s:
        # The last write of the turn (the update kept, numbers masked) is refused.
        if is_postgres(s):
            refuse = (
                "ALTER TABLE inbox_updates ADD CONSTRAINT no_done CHECK (state <> 'done') NOT VALID"
            )
        else:
            refuse = (
                "CREATE TRIGGER no_done BEFORE UPDATE ON inbox_updates WHEN NEW.state = 'done' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        await s.execute(text(refuse))
        postgres = is_postgres(s)
    update = harness.telegram_update(person.user_id, text=f"NIK saya {NIK}, telepon {TYPED_PHONE}")
    try:
        assert (await harness.post_telegram(update)).status_code == 200
        try:
            # The inbox worker logs a chat it could not process and goes on with the others.
            await harness.rt.inbox.drain(harness.now)
        except DBAPIError:  # logged as the inbox loop of bot/workers.py logs it
            logging.getLogger("sinergi.workers").exception("inbox loop failed; trying again")
        async with await harness.session() as s:
            state = await s.scalar(
                select(InboxUpdate.state).where(InboxUpdate.external_id == str(update["update_id"]))
            )
    finally:
        # The database outlives this test on PostgreSQL: later tests must be able to finish updates.
        async with await harness.session() as s:
            drop = (
                "ALTER TABLE inbox_updates DROP CONSTRAINT no_done"
                if postgres
                else "DROP TRIGGER no_done"
            )
            await s.execute(text(drop))
    assert state != "done"  # the write really was refused
    assert "refused" in caplog.text or "no_done" in caplog.text  # the failure is in the log
    spaced = " ".join(NIK[i : i + 4] for i in range(0, 16, 4))
    for secret in (NIK, spaced, TYPED_PHONE, HOUSEHOLD_PHONE, HOUSEHOLD_PHONE.lstrip("+")):
        assert secret not in caplog.text
