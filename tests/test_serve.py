"""`sinergi serve` start-up: channel announcements, webhook registration, polling."""

from __future__ import annotations

import json
import logging

import pytest

from bot.channels.telegram import TelegramClient
from bot.commands.serve import announce_channels, poll_telegram_once
from bot.config import Settings
from bot.runtime import build_runtime
from tests.conftest import PAYLOADS
from tests.harness import Harness


async def test_public_url_registers_the_webhook_with_the_secret(harness: Harness) -> None:
    harness.rt.settings.public_url = "https://sinergi.example.go.id/"
    await announce_channels(harness.rt, polling=False)
    method, params = harness.telegram.calls[-1]
    assert method == "setWebhook"
    assert params["url"] == "https://sinergi.example.go.id/webhook/telegram"
    assert params["secret_token"] == "telegram-webhook-secret"


async def test_without_a_token_telegram_is_off_and_the_log_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rt = build_runtime(settings.model_copy(update={"telegram_token": None}))
    try:
        await announce_channels(rt, polling=False)
    finally:
        await rt.close()
    assert "Telegram is off" in caplog.text
    assert "telegram" not in rt.clients


async def test_polling_stores_updates_like_the_webhook_and_advances_the_offset(
    harness: Harness,
) -> None:
    update = json.loads((PAYLOADS / "telegram_message_text_start_command.json").read_text())
    update["message"]["date"] = int(harness.now.timestamp())
    harness.telegram.results["getUpdates"] = [update]
    client = harness.rt.clients["telegram"]
    assert isinstance(client, TelegramClient)
    offset = await poll_telegram_once(harness.rt, client, 0, wait=0)
    assert offset == update["update_id"] + 1
    await poll_telegram_once(harness.rt, client, 0, wait=0)  # Telegram sends it again
    await harness.work()
    sent = harness.telegram.sent(568577002)
    assert len(sent) == 1 and "Selamat datang" in sent[0]["text"]
