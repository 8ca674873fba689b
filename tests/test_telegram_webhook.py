"""POST /webhook/telegram: authenticated, durable, deduplicated, and calm with bad input."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.models import InboxUpdate, OutboxMessage
from tests.conftest import PAYLOADS
from tests.harness import Harness


async def _count(h: Harness, model: type) -> int:
    async with await h.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_missing_secret_is_401_and_stores_nothing(harness: Harness) -> None:
    response = await harness.post_telegram(harness.telegram_update(1, text="/start"), secret=None)
    assert response.status_code == 401
    assert await _count(harness, InboxUpdate) == 0


async def test_wrong_secret_is_403_and_stores_nothing(harness: Harness) -> None:
    response = await harness.post_telegram(
        harness.telegram_update(1, text="/start"), secret="guess"
    )
    assert response.status_code == 403
    assert await _count(harness, InboxUpdate) == 0


async def test_real_start_capture_is_answered_once_even_when_redelivered(harness: Harness) -> None:
    body = (PAYLOADS / "telegram_message_text_start_command.json").read_bytes()
    for _ in range(3):
        assert (await harness.post_telegram(body)).status_code == 200
    # the capture is from 2021: push the clock back so it is not a stale backlog
    harness.now = harness.now.replace(year=2021, month=6, day=19, hour=13, minute=52)
    await harness.work()
    assert await _count(harness, InboxUpdate) == 1
    sent = harness.telegram.sent(568577002)
    assert len(sent) == 1 and "Selamat datang" in sent[0]["text"]


async def test_real_callback_capture_is_answered_and_acknowledged(harness: Harness) -> None:
    body = json.loads((PAYLOADS / "telegram_callback_query.json").read_text())
    body["callback_query"]["message"]["date"] = int(harness.now.timestamp())
    assert (await harness.post_telegram(body)).status_code == 200
    await harness.work()
    methods = [m for m, _ in harness.telegram.calls]
    assert methods[:2] == ["answerCallbackQuery", "sendMessage"]
    assert harness.telegram.calls[0][1]["callback_query_id"] == "2442019629950976978"


async def test_legacy_update_without_is_bot_is_read_leniently_and_answered(
    harness: Harness,
) -> None:
    legacy = json.loads(
        (PAYLOADS / "telegram_message_text_official_example_legacy.json").read_text()
    )
    legacy["message"]["date"] = int(harness.now.timestamp())  # from 2015: not a stale backlog
    assert (await harness.post_telegram(legacy)).status_code == 200
    follow_up = harness.telegram_update(1111111, text="BANTUAN")
    assert (await harness.post_telegram(follow_up)).status_code == 200
    await harness.work()
    async with await harness.session() as s:
        states = dict((await s.execute(select(InboxUpdate.external_id, InboxUpdate.state))).all())
    assert states["10000"] == "done"
    assert states[str(follow_up["update_id"])] == "done"
    texts = [p["text"] for p in harness.telegram.sent(1111111)]
    assert "Selamat datang" in texts[0] and "MENU - menu utama" in texts[-1]


async def test_a_photo_without_file_unique_id_is_read_leniently(harness: Harness) -> None:
    await harness.post_telegram(harness.telegram_update(8, text="/start"))
    await harness.post_telegram(harness.telegram_update(8, text="SETUJU"))
    photo = [{"file_id": "AgADold", "width": 90, "height": 90}]  # an old client's photo
    await harness.post_telegram(harness.telegram_update(8, photo=photo))
    await harness.work()
    async with await harness.session() as s:
        states = list((await s.scalars(select(InboxUpdate.state).order_by(InboxUpdate.id))).all())
    assert states == ["done", "done", "done"]
    assert "Mari sambungkan chat ini" in harness.telegram.sent(8)[-1]["text"]


async def test_malformed_bodies_get_400_not_500(harness: Harness) -> None:
    for body in (
        b"{not json",
        b"[1, 2]",
        b'{"update_id": "x"}',
        b"\xff\xfe",
        b"{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": 1, "message": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
    ):
        response = await harness.post_telegram(body)
        assert response.status_code == 400, body[:20]
    assert await _count(harness, InboxUpdate) == 0


async def test_a_body_over_the_cap_gets_413_and_nothing_is_stored(harness: Harness) -> None:
    response = await harness.post_telegram(b"x" * 2_000_000)
    assert response.status_code == 413
    assert await _count(harness, InboxUpdate) == 0


async def test_huge_text_and_emoji_are_answered(harness: Harness) -> None:
    await harness.post_telegram(harness.telegram_update(7, text="🙏" * 5000 + " tolong"))
    await harness.work()
    sent = harness.telegram.sent(7)
    assert len(sent) == 1 and "Apakah Anda setuju" in sent[0]["text"]


async def test_photo_where_text_is_expected_gets_a_plain_answer(harness: Harness) -> None:
    await harness.post_telegram(harness.telegram_update(7, text="/start"))
    await harness.post_telegram(harness.telegram_update(7, text="SETUJU"))
    photo = [{"file_id": "AgAD", "file_unique_id": "u1", "width": 90, "height": 90}]
    await harness.post_telegram(harness.telegram_update(7, photo=photo))
    await harness.work()
    texts = [p["text"] for p in harness.telegram.sent(7)]
    assert "Mari sambungkan chat ini" in texts[-1]


async def test_stale_backlog_after_an_outage_gets_one_answer(harness: Harness) -> None:
    for words in ("halo", "halo?", "tolong", "MENU"):
        await harness.post_telegram(harness.telegram_update(9, text=words))
    harness.advance(hours=3)  # the workers were down for three hours
    await harness.work()
    sent = harness.telegram.sent(9)
    assert len(sent) == 1
    assert sent[0]["text"].startswith("Maaf, balasan kami terlambat.")
    async with await harness.session() as s:
        states = sorted((await s.scalars(select(InboxUpdate.state))).all())
    assert states == ["done", "stale", "stale", "stale"]


async def test_updates_of_one_chat_are_answered_in_order(harness: Harness) -> None:
    await harness.post_telegram(harness.telegram_update(5, text="/start"))
    await harness.post_telegram(harness.telegram_update(5, text="SETUJU"))
    await harness.post_telegram(harness.telegram_update(5, text="BANTUAN"))
    await harness.work()
    texts = [p["text"] for p in harness.telegram.sent(5)]
    assert "Apakah Anda setuju" in texts[0]
    assert "Persetujuan Anda sudah kami simpan" in texts[1]
    assert "MENU - menu utama" in texts[-1]


async def test_database_down_answers_503_so_telegram_retries(
    harness: Harness, tmp_path: object
) -> None:
    from bot.config import Settings
    from tests.harness import Harness as H

    broken = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        secret_key="k",
        telegram_token="1:T",
        telegram_secret="s",
        data_dir=tmp_path,
    )  # type: ignore[arg-type]
    h = await H.start(broken)
    try:
        response = await h.post_telegram(h.telegram_update(1, text="/start"), secret="s")
        assert response.status_code == 503
        health = await h.client.get("/healthz")
        assert health.status_code == 503
    finally:
        await h.stop()


async def test_blocked_user_marks_the_chat_unreachable(harness: Harness) -> None:
    from storage.models import ChatIdentity

    harness.telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    await harness.post_telegram(harness.telegram_update(11, text="/start"))
    await harness.work()
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
        row = await s.scalar(select(OutboxMessage))
    assert identity is not None and identity.unreachable_at is not None
    assert row is not None and row.state == "failed"


async def test_healthz_and_metrics(harness: Harness) -> None:
    update = harness.telegram_update(3, text="/start")
    await harness.post_telegram(update)
    await harness.post_telegram(update)
    health = await harness.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    text = (await harness.client.get("/metrics")).text
    assert 'sinergi_updates_received_total{channel="telegram"} 1.0' in text
    assert 'sinergi_updates_duplicate_total{channel="telegram"} 1.0' in text
    assert "sinergi_outbox_depth 0.0" in text


async def test_concurrent_posts_share_commits_and_each_update_is_stored_once(
    harness: Harness,
) -> None:
    import asyncio

    updates = [harness.telegram_update(100 + i, text="/start") for i in range(10)]
    responses = await asyncio.gather(*(harness.post_telegram(u) for u in updates + updates))
    assert [r.status_code for r in responses] == [200] * 20
    assert await _count(harness, InboxUpdate) == 10
    text = (await harness.client.get("/metrics")).text
    assert 'sinergi_updates_received_total{channel="telegram"} 10.0' in text
    assert 'sinergi_updates_duplicate_total{channel="telegram"} 10.0' in text
    await harness.work()
    assert all(len(harness.telegram.sent(100 + i)) == 1 for i in range(10))
