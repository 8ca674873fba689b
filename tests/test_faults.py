"""The fault suite: outages and flood control for minutes, poison updates, hostile webhook bodies."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.channels import telegram, whatsapp
from bot.channels.whatsapp.parse import BSUID, WA_ID
from bot.web.webhooks.store import store_update
from storage.models import ChatIdentity, InboxUpdate
from tests.conftest import PAYLOADS
from tests.drivers import TelegramDriver, WhatsAppDriver, post_whatsapp
from tests.fakes import whatsapp as wa
from tests.harness import Harness

pytestmark = pytest.mark.faults

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


# Telegram down, then flood control, for minutes of fake time ----------------------------------


async def test_minutes_of_502_and_429_lose_nothing_and_nothing_goes_inside_a_retry_after(
    harness: Harness,
) -> None:
    fake = harness.telegram
    fake.clock = lambda: harness.now
    start = harness.now
    fake.outage(until=start + timedelta(minutes=5))  # Bad Gateway for five minutes
    fake.flood(until=start + timedelta(minutes=8), retry_after=20)  # then flood control
    recovered = start + timedelta(minutes=8)
    chats = [9000 + i for i in range(40)]
    for minute in range(12):
        for chat in chats[minute * 4 : minute * 4 + 4]:  # people keep writing through it
            await harness.post_telegram(harness.telegram_update(chat, text="/start"))
        for _ in range(12):
            await harness.work()
            harness.advance(seconds=5)
    got: dict[int, int] = {}
    for _at, params in fake.delivered:
        got[int(params["chat_id"])] = got.get(int(params["chat_id"]), 0) + 1
    assert got == {chat: 1 for chat in chats}  # nothing lost, nothing twice
    assert fake.inside_retry_after == 0
    last = max(at for at, _p in fake.delivered if at is not None)
    assert last - recovered <= timedelta(seconds=65)  # the backlog drains within the backoff's cap


# Poison updates ---------------------------------------------------------------------------------


async def test_a_poison_update_does_not_stop_its_chat_or_the_others(harness: Harness) -> None:
    person, other = TelegramDriver(harness, user_id=4242), TelegramDriver(harness, user_id=4343)
    await person.text("/start")
    # Stored as a webhook would store it, but no parser can read it, leniently or not.
    poison = b'{"update_id": 77, "message": {"chat": 5, "date": "x", "from": {"id": 4242}}}'
    await store_update(harness.rt, "telegram", "77", "telegram:4242", poison)
    wa_person = WhatsAppDriver(harness, phone="+6281300000066", user_id="")
    await wa_person._exchange("image", image={"id": "1\x002", "mime_type": "image/jpeg"})
    assert "BANTUAN" in (await person.text("BANTUAN"))[-1].text  # the same chat goes on
    assert (await other.text("/start"))[-1].text  # and another
    assert (await wa_person.text("halo"))[-1].text  # and the WhatsApp chat after its bad image
    async with await harness.session() as s:
        poisoned = await s.scalar(select(InboxUpdate).where(InboxUpdate.external_id == "77"))
    assert poisoned is not None and poisoned.state == "quarantined"


# Hostile and random webhook bodies --------------------------------------------------------------


def _mutate(value: Any, rng: random.Random) -> Any:
    """The same shape with some leaves swapped for odd values and some keys dropped."""
    odd = [None, "", "x" * 300, -1, 2**70, 1.5, [], {}, "12\n34", "𝟙𝟚𝟛", True]
    if isinstance(value, dict):
        return {k: _mutate(v, rng) for k, v in value.items() if rng.random() > 0.1}
    if isinstance(value, list):
        return [_mutate(v, rng) for v in value]
    return rng.choice(odd) if rng.random() < 0.3 else value


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(0, 2**32))
def test_the_whatsapp_parser_never_yields_a_message_from_a_garbage_sender(
    noise: Any, seed: int
) -> None:
    real = json.loads((PAYLOADS / "whatsapp_interactive_list_reply.pywa_fixture.json").read_text())
    body = _mutate(real, random.Random(seed))
    if isinstance(body, dict):
        body.setdefault("entry", [{"changes": [{"field": "messages", "value": {"noise": noise}}]}])
    for item in whatsapp.split(body if isinstance(body, dict) else {"entry": noise}):
        try:
            messages = whatsapp.parse(item.raw)
            whatsapp.receipts(item.raw)
        except Exception:  # noqa: BLE001 - the inbox quarantines what raises: fine
            continue
        for message in messages:
            key = message.address.external_id
            assert WA_ID.fullmatch(key) or BSUID.fullmatch(key), key


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32))
def test_the_telegram_parser_reads_or_refuses_but_never_invents_a_sender(seed: int) -> None:
    real = json.loads((PAYLOADS / "telegram_message_text_start_command.json").read_text())
    body = _mutate(real, random.Random(seed))
    try:
        messages = telegram.parse(json.dumps(body))
    except Exception:  # noqa: BLE001 - quarantined by the inbox
        return
    for message in messages:
        assert message.address.external_id.lstrip("-").isdigit()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32))
async def test_mutated_webhook_bodies_never_give_500_nor_a_garbage_chat(
    harness: Harness, seed: int
) -> None:
    rng = random.Random(seed)
    tg = _mutate(harness.telegram_update(rng.randint(1, 10**6), text="halo"), rng)
    response = await harness.post_telegram(json.dumps(tg).encode())
    assert response.status_code in (200, 400)
    msg = wa.message(f"wamid.H{seed}", "6281300000001", int(harness.now.timestamp()), "text")
    msg["text"] = {"body": "halo"}
    body = json.dumps(
        _mutate(wa.envelope(messages=[msg], contacts=[wa.contact("6281300000001")]), rng)
    )
    assert (await post_whatsapp(harness, body.encode())).status_code in (200, 400)
    await harness.work()
    async with await harness.session() as s:
        for identity in await s.scalars(select(ChatIdentity)):
            key = identity.external_id
            if identity.channel == "telegram":
                assert key.lstrip("-").isdigit(), key
            else:
                assert WA_ID.fullmatch(key) or BSUID.fullmatch(key), key
