"""The webhooks' store-and-ack: what is stored before the 200, and how it is sealed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage import inbox
from storage.crypto import SEALED, SEALED_GCM
from storage.models import InboxUpdate
from tests.drivers import post_whatsapp
from tests.fakes import whatsapp as wa
from tests.harness import Harness

NIK = "6472012345678901"


async def _raws(h: Harness) -> list[str]:
    async with await h.session() as s:
        return list(await s.scalars(select(InboxUpdate.raw).order_by(InboxUpdate.id)))


async def test_an_update_is_sealed_with_aes_gcm_before_the_200(harness: Harness) -> None:
    update = harness.telegram_update(41, text=f"NIK saya {NIK}")
    assert (await harness.post_telegram(update)).status_code == 200
    [raw] = await _raws(harness)
    assert raw.startswith(SEALED_GCM) and NIK not in raw
    assert json.loads(harness.rt.vault.unseal(raw)) == update


async def test_two_seals_of_one_update_differ(harness: Harness) -> None:
    vault = harness.rt.vault
    assert vault.seal("halo") != vault.seal("halo")  # a fresh nonce each time


async def test_a_row_sealed_with_fernet_before_the_change_is_still_answered(
    harness: Harness,
) -> None:
    update = harness.telegram_update(42, text="/start")
    body = json.dumps(update)
    # What the inbox held before sealing moved to AES-GCM: a Fernet token under "sealed:".
    old = SEALED + harness.rt.vault._fernet.encrypt(body.encode()).decode()
    assert harness.rt.vault.unseal(old) == body
    async with await harness.session() as s:
        s.add(
            InboxUpdate(
                channel="telegram",
                external_id=str(update["update_id"]),
                chat_key="telegram:42",
                raw=old,
                received_at=harness.now,
            )
        )
    assert (await harness.post_telegram(update)).status_code == 200  # a redelivery of it
    assert len(await _raws(harness)) == 1
    await harness.work()
    assert harness.telegram.sent(42)  # answered from the old seal


async def test_the_writer_outlives_a_database_restart(harness: Harness) -> None:
    """The writer keeps its connection between batches; a dead one is replaced, not a 503."""
    if not harness.rt.settings.database_url.startswith("postgresql"):
        pytest.skip("killing the writer's session needs PostgreSQL")
    assert (
        await harness.post_telegram(harness.telegram_update(43, text="/start"))
    ).status_code == 200
    async with harness.rt.engine.connect() as conn:
        # What a restart of PostgreSQL does to every session the app holds.
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    update = harness.telegram_update(43, text="BANTUAN")
    assert (await harness.post_telegram(update)).status_code == 200
    assert len(await _raws(harness)) == 2


async def test_the_writer_closed_twice_then_written_to_again_keeps_every_update(
    harness: Harness,
) -> None:
    """An app's shutdown and its runtime's both close the writer; a runtime that serves again
    stores again (on SQLite the writer's own thread is made anew)."""
    first = harness.telegram_update(44, text="/start")
    assert (await harness.post_telegram(first)).status_code == 200
    await harness.rt.inbox_writer.close()
    await harness.rt.inbox_writer.close()  # the second close (the runtime's) does nothing
    again = harness.telegram_update(44, text="BANTUAN")
    assert (await harness.post_telegram(again)).status_code == 200
    assert (await harness.post_telegram(again)).status_code == 200  # a redelivery: kept once
    assert len(await _raws(harness)) == 2


async def test_a_lone_whatsapp_message_is_sealed_as_the_bytes_meta_sent(harness: Harness) -> None:
    """One message in the body: the body itself is sealed (not written out again) and answered."""
    t = int(harness.now.timestamp())
    body = json.dumps(
        wa.envelope(
            messages=[wa.message("wamid.L1", "6281300000031", t, "text", text={"body": NIK})],
            contacts=[wa.contact("6281300000031", name="Siti")],
        )
    ).encode()
    assert (await post_whatsapp(harness, body)).status_code == 200
    [raw] = await _raws(harness)
    assert raw.startswith(SEALED_GCM) and NIK not in raw
    assert harness.rt.vault.unseal(raw) == body.decode()
    await harness.work()
    assert len(harness.whatsapp.sent("6281300000031")) == 1


async def test_several_whatsapp_items_are_sealed_one_document_each(harness: Harness) -> None:
    t = int(harness.now.timestamp())
    body = json.dumps(
        wa.envelope(
            messages=[wa.message("wamid.M1", "6281300000032", t, "text", text={"body": "halo"})],
            contacts=[wa.contact("6281300000032", name="Siti")],
            statuses=[wa.status("wamid.OUT", "read", "6281300000032", t)],
        )
    ).encode()
    assert (await post_whatsapp(harness, body)).status_code == 200
    docs = [json.loads(harness.rt.vault.unseal(raw)) for raw in await _raws(harness)]
    assert sorted(d["type"] for d in docs) == ["message", "status"]
    await harness.work()
    assert len(harness.whatsapp.sent("6281300000032")) == 1


async def test_on_sqlite_the_wal_is_checkpointed_beside_the_writer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The webhooks' batches leave the WAL's copying into the database file to another thread:
    the updates reach the file itself while no commit of theirs did the checkpoint."""
    writer = harness.rt.inbox_writer._sqlite
    if writer is None:
        pytest.skip("the checkpoint thread is the SQLite file writer's")
    monkeypatch.setattr(inbox, "CHECKPOINT_EVERY", 3)
    for user in range(45, 51):
        update = harness.telegram_update(user, text="/start")
        assert (await harness.post_telegram(update)).status_code == 200
        assert (await harness.post_telegram(update)).status_code == 200  # writes nothing
    assert writer._checkpointing is not None
    await writer._checkpointing
    # The database file alone (no WAL beside it): what was checkpointed into it.
    copy = tmp_path / "file-only.db"
    shutil.copyfile(writer.path, copy)
    with closing(sqlite3.connect(copy)) as conn:
        [(count,)] = conn.execute("SELECT count(*) FROM inbox_updates").fetchall()
    assert count >= 3
