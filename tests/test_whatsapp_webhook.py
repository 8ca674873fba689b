"""/webhook/whatsapp: Meta's check, signatures over raw bytes, one row per message and status."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.channels import whatsapp
from bot.commands.tick import run_tick
from bot.messages import StatusUpdate
from storage import outbox
from storage.models import ChatIdentity, InboxUpdate, OutboxMessage, PendingReceipt
from tests import factories
from tests.conftest import PAYLOADS
from tests.drivers import WhatsAppDriver, post_whatsapp
from tests.fakes import whatsapp as wa
from tests.harness import Harness

SIGNED = (PAYLOADS / "whatsapp_text_message_signed.body.json").read_bytes()
SIGNATURE = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"


async def _count(h: Harness, model: type) -> int:
    async with await h.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# Meta's subscription check -----------------------------------------------------------------


async def test_subscription_check_answers_the_challenge_as_plain_text(harness: Harness) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "whatsapp-verify-token",
        "hub.challenge": "1158201444",
    }
    response = await harness.client.get("/webhook/whatsapp", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


async def test_subscription_check_with_a_wrong_token_or_mode_is_403(harness: Harness) -> None:
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {
            "hub.mode": "unsubscribe",
            "hub.verify_token": "whatsapp-verify-token",
            "hub.challenge": "1",
        },
        {},
    ):
        assert (await harness.client.get("/webhook/whatsapp", params=params)).status_code == 403


# Signatures ----------------------------------------------------------------------------------


async def test_real_signed_capture_is_accepted_and_answered_once(harness: Harness) -> None:
    for _ in range(2):  # Meta redelivers; the wamid makes the second a no-op
        assert (await post_whatsapp(harness, SIGNED, signature=SIGNATURE)).status_code == 200
    assert await _count(harness, InboxUpdate) == 1
    harness.now = _at(1730231903 + 5)
    await harness.work()
    sent = harness.whatsapp.sent("972544401243")
    assert len(sent) == 1
    assert "Selamat datang di Sinergi" in sent[0]["interactive"]["body"]["text"]
    wamid = "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA"
    assert harness.whatsapp.read_receipts() == [wamid]


async def test_missing_signature_is_401_and_stores_nothing(harness: Harness) -> None:
    assert (await post_whatsapp(harness, SIGNED, signature=None)).status_code == 401
    assert await _count(harness, InboxUpdate) == 0


async def test_wrong_or_reserialised_body_is_403_and_stores_nothing(harness: Harness) -> None:
    reserialised = json.dumps(json.loads(SIGNED)).encode()
    assert reserialised != SIGNED
    assert (await post_whatsapp(harness, reserialised, signature=SIGNATURE)).status_code == 403
    assert (await post_whatsapp(harness, SIGNED, signature="sha256=" + "0" * 64)).status_code == 403
    assert (await post_whatsapp(harness, SIGNED, signature="garbage")).status_code == 403
    assert await _count(harness, InboxUpdate) == 0


async def test_invalid_json_with_a_valid_signature_is_400_not_500(harness: Harness) -> None:
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe\x00", b""):
        response = await post_whatsapp(harness, body)
        assert response.status_code == 400, body
    assert await _count(harness, InboxUpdate) == 0


async def test_a_body_of_one_megabyte_is_refused_with_413(harness: Harness) -> None:
    msg = wa.message(
        "wamid.BIG", "6281300000009", int(harness.now.timestamp()), "text", text={"body": "x"}
    )
    body = wa.envelope(messages=[msg], contacts=[wa.contact("6281300000009")])
    body["padding"] = "x" * 1_048_576
    response = await post_whatsapp(harness, json.dumps(body).encode())
    assert response.status_code == 413
    assert await _count(harness, InboxUpdate) == 0


async def test_an_unsigned_huge_body_is_refused_while_streaming(harness: Harness) -> None:
    """No Content-Length (chunked): the cap holds as the bytes arrive, before any signature check."""
    read = 0

    async def chunks():
        nonlocal read
        for _ in range(200):  # would be 12.8 MB if read to the end
            read += 65_536
            yield b"x" * 65_536

    response = await harness.client.post(
        "/webhook/whatsapp",
        content=chunks(),
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert response.status_code == 413
    assert read < 3 * 1_048_576
    assert await _count(harness, InboxUpdate) == 0


async def test_a_body_just_under_the_limit_is_stored(harness: Harness) -> None:
    texts = [f"pesan {i} " + "a" * 3000 for i in range(300)]  # about 900 KB of real messages
    msgs = [
        wa.message(
            f"wamid.M{i}", "6281300000009", int(harness.now.timestamp()), "text", text={"body": t}
        )
        for i, t in enumerate(texts)
    ]
    body = json.dumps(wa.envelope(messages=msgs, contacts=[wa.contact("6281300000009")])).encode()
    assert 800_000 < len(body) < 1_048_576
    assert (await post_whatsapp(harness, body)).status_code == 200
    assert await _count(harness, InboxUpdate) == 300


# One POST, many things -------------------------------------------------------------------------


async def test_several_entries_messages_and_statuses_are_stored_one_row_each(
    harness: Harness,
) -> None:
    t = int(harness.now.timestamp())
    first = wa.envelope(
        messages=[
            wa.message("wamid.A1", "6281300000011", t, "text", text={"body": "halo"}),
            wa.message("wamid.B1", "6281300000022", t, "text", text={"body": "halo juga"}),
        ],
        contacts=[wa.contact("6281300000011", name="A"), wa.contact("6281300000022", name="B")],
        statuses=[wa.status("wamid.OLD", "delivered", "6281300000011", t)],
    )
    second = wa.envelope(
        messages=[wa.message("wamid.A2", "6281300000011", t, "text", text={"body": "tes"})],
        contacts=[wa.contact("6281300000011", name="A")],
    )
    first["entry"].append(second["entry"][0])
    body = json.dumps(first).encode()
    assert (await post_whatsapp(harness, body)).status_code == 200
    assert (await post_whatsapp(harness, body)).status_code == 200  # redelivered whole
    async with await harness.session() as s:
        keys = set(await s.scalars(select(InboxUpdate.external_id)))
    assert keys == {"wamid.A1", "wamid.B1", "wamid.A2", "status:wamid.OLD:delivered"}
    await harness.work()
    # A's two messages are answered in order, each once; B once
    assert len(harness.whatsapp.sent("6281300000011")) == 2
    assert len(harness.whatsapp.sent("6281300000022")) == 1


async def test_statuses_never_reach_the_conversation(harness: Harness) -> None:
    body = (PAYLOADS / "whatsapp_status_sent.pywa_fixture.json").read_bytes()
    assert (await post_whatsapp(harness, body)).status_code == 200
    await harness.work()
    assert harness.whatsapp.sent() == []
    assert await _count(harness, ChatIdentity) == 0
    async with await harness.session() as s:
        row = await s.scalar(select(InboxUpdate))
    assert (
        row is not None and row.external_id == "status:wamid.xyzxyz:sent" and row.state == "receipt"
    )


# Receipts update the outbox ------------------------------------------------------------------


async def _one_sent_message(h: Harness) -> tuple[WhatsAppDriver, OutboxMessage]:
    person = WhatsAppDriver(h, phone="+6281300000001")
    await person.text("halo")
    async with await h.session() as s:
        row = await s.scalar(select(OutboxMessage))
    assert row is not None and row.state == "sent" and row.external_message_id
    return person, row


async def _post_status(h: Harness, wamid: str, state: str, code: int | None = None) -> None:
    receipt = wa.status(wamid, state, "6281300000001", int(h.now.timestamp()), error_code=code)
    assert (
        await post_whatsapp(h, json.dumps(wa.envelope(statuses=[receipt])).encode())
    ).status_code == 200
    await h.work()


async def test_receipts_follow_sent_delivered_read_even_out_of_order(harness: Harness) -> None:
    _person, row = await _one_sent_message(harness)
    for state in ("delivered", "read", "sent"):  # the late "sent" must not undo "read"
        await _post_status(harness, row.external_message_id or "", state)
    async with await harness.session() as s:
        fresh = await s.get(OutboxMessage, row.id)
    assert fresh is not None and fresh.receipt == "read" and fresh.state == "sent"


async def test_failed_undeliverable_marks_the_person_unreachable(harness: Harness) -> None:
    _person, row = await _one_sent_message(harness)
    await _post_status(harness, row.external_message_id or "", "failed", code=131026)
    async with await harness.session() as s:
        fresh = await s.get(OutboxMessage, row.id)
        identity = await s.scalar(select(ChatIdentity))
    assert fresh is not None and fresh.state == "failed" and fresh.receipt == "failed"
    assert fresh.error is not None and fresh.error.startswith("131026")
    assert identity is not None and identity.unreachable_at is not None


async def test_failed_real_fixture_marks_its_message_failed(harness: Harness) -> None:
    _person, row = await _one_sent_message(harness)
    fixture = json.loads((PAYLOADS / "whatsapp_status_failed.pywa_fixture.json").read_text())
    fixture["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = row.external_message_id
    assert (await post_whatsapp(harness, json.dumps(fixture).encode())).status_code == 200
    await harness.work()
    async with await harness.session() as s:
        fresh = await s.get(OutboxMessage, row.id)
        identity = await s.scalar(select(ChatIdentity))
    assert (
        fresh is not None and fresh.state == "failed" and (fresh.error or "").startswith("130472")
    )
    assert identity is not None and identity.unreachable_at is None  # an experiment is not a block


async def test_failed_rate_limit_receipt_sends_the_message_again_once(harness: Harness) -> None:
    _person, row = await _one_sent_message(harness)
    await _post_status(harness, row.external_message_id or "", "failed", code=131056)
    harness.advance(minutes=1)
    await harness.work()
    await harness.work()
    assert len(harness.whatsapp.sent("6281300000001")) == 2  # the first try, then once more


async def test_a_receipt_that_beats_the_send_record_is_applied_by_the_next_tick(
    harness: Harness,
) -> None:
    h = harness
    _person, row = await _one_sent_message(h)
    async with await h.session() as s:  # as if Meta answered before the sender's commit
        fresh = await s.get(OutboxMessage, row.id)
        assert fresh is not None
        fresh.external_message_id = None
    await _post_status(h, row.external_message_id or "", "failed", code=131026)
    assert await _count(h, PendingReceipt) == 1
    async with await h.session() as s:  # the sender's record commits
        fresh = await s.get(OutboxMessage, row.id)
        assert fresh is not None
        fresh.external_message_id = row.external_message_id
    h.advance(minutes=1)
    await run_tick(h.rt, h.now)
    async with await h.session() as s:
        fresh = await s.get(OutboxMessage, row.id)
        identity = await s.scalar(select(ChatIdentity))
    assert fresh is not None and fresh.state == "failed" and fresh.receipt == "failed"
    assert identity is not None and identity.unreachable_at is not None
    assert await _count(h, PendingReceipt) == 0


async def test_a_receipt_for_a_message_never_recorded_is_dropped_after_a_day(
    harness: Harness,
) -> None:
    h = harness
    await _one_sent_message(h)
    await _post_status(h, "wamid.NEVER-OURS", "delivered")
    h.advance(hours=2)
    await run_tick(h.rt, h.now)
    assert await _count(h, PendingReceipt) == 1  # still waiting for its send
    h.advance(days=1)
    await run_tick(h.rt, h.now)
    assert await _count(h, PendingReceipt) == 0


# Kinds of messages ---------------------------------------------------------------------------


async def test_unknown_types_get_a_friendly_answer(harness: Harness) -> None:
    person = await _linked_person(harness)
    said = await person._exchange("sticker", sticker={"id": "123", "mime_type": "image/webp"})
    assert "hanya bisa membaca tulisan" in said[-1].text
    # a reaction is not a person talking to us: no answer (test_groups_reactions_…)
    said = await person._exchange("reaction", reaction={"message_id": "wamid.X", "emoji": "👍"})
    assert said == []


async def test_a_photo_is_downloaded_at_once_into_the_media_folder(harness: Harness) -> None:
    person = await _linked_person(harness)
    await person.photo("987654321")
    files = [p for p in harness.rt.settings.media_path.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes().endswith(b"987654321")
    assert any(url.startswith(wa.MEDIA_HOST) for _m, url, _b in harness.whatsapp.calls)


def test_real_captures_parse_into_the_neutral_model() -> None:
    button = whatsapp.split(
        json.loads((PAYLOADS / "whatsapp_interactive_button_reply.json").read_text())
    )
    [inbound] = whatsapp.parse(button[0].raw)
    assert inbound.kind == "choice" and inbound.choice == "unique-postback-id-1"
    assert inbound.address.external_id == "2348030572700" and inbound.phone == "+2348030572700"
    listed = whatsapp.split(
        json.loads((PAYLOADS / "whatsapp_interactive_list_reply.pywa_fixture.json").read_text())
    )
    [row] = whatsapp.parse(listed[0].raw)
    assert row.choice == "callback_data"
    assert row.address.external_id == "US.13491208655302741918"  # keyed on the BSUID
    assert row.alt_id == "972987654321" and row.phone == "+972987654321"
    image = whatsapp.split(
        json.loads((PAYLOADS / "whatsapp_image_message_with_url.pywa_fixture.json").read_text())
    )
    [photo] = whatsapp.parse(image[0].raw)
    assert photo.kind == "media" and photo.media is not None and photo.media.file_id == "65463453"
    [receipt] = whatsapp.receipts(
        whatsapp.split(
            json.loads((PAYLOADS / "whatsapp_status_failed.pywa_fixture.json").read_text())
        )[0].raw
    )
    assert (
        receipt.status == "failed" and receipt.error_code == 130472 and receipt.outcome == "failed"
    )


def test_template_quick_reply_location_and_contact_card_parse() -> None:
    t = 1763900000
    items = whatsapp.split(
        wa.envelope(
            messages=[
                wa.message(
                    "w1",
                    "6281300000001",
                    t,
                    "button",
                    button={"payload": "act:report", "text": "Lapor"},
                ),
                wa.message(
                    "w2",
                    "6281300000001",
                    t,
                    "location",
                    location={"latitude": -0.5, "longitude": 117.1, "name": "Pasar Segiri"},
                ),
                wa.message(
                    "w3",
                    "6281300000001",
                    t,
                    "contacts",
                    contacts=[
                        {
                            "name": {"formatted_name": "Siti"},
                            "phones": [{"phone": "+62 813-0000-0001", "wa_id": "6281300000001"}],
                        }
                    ],
                ),
            ],
            contacts=[wa.contact("6281300000001")],
        )
    )
    quick, place, card = (whatsapp.parse(i.raw)[0] for i in items)
    assert quick.kind == "choice" and quick.choice == "act:report"
    assert place.kind == "location" and "Pasar Segiri" in place.text
    assert card.kind == "contact" and card.contact_is_own and card.contact_phone == "6281300000001"


# Identity ------------------------------------------------------------------------------------


async def _linked_person(h: Harness, user_id: str = "") -> WhatsAppDriver:
    async with await h.session() as s:
        m = await factories.mentor(s)
        await factories.household(s, h.rt.vault, mentor_id=m.id)
    person = WhatsAppDriver(h, phone="+6281300000001", user_id=user_id)
    await person.text("halo")
    await person.text("SETUJU")
    said = await person.link_by_phone("+6281300000001")
    assert "tersambung dengan keluarga" in said[-1].text
    return person


async def test_a_new_bsuid_for_the_same_number_keeps_the_household_link(harness: Harness) -> None:
    person = await _linked_person(harness, user_id="")  # keyed on the wa_id before BSUIDs
    person.user_id = "ID.99887766554433221100"
    said = await person.text("status")
    assert "PKH" in said[-1].text or "Belum ada program" in said[-1].text
    async with await harness.session() as s:
        identities = list(await s.scalars(select(ChatIdentity)))
    assert len(identities) == 1
    assert identities[0].external_id == "ID.99887766554433221100" and identities[0].household_id


async def test_a_changed_number_keeps_the_household_link_and_gets_no_reply(
    harness: Harness,
) -> None:
    person = await _linked_person(harness, user_id="")
    before = len(harness.whatsapp.sent())
    t = int(harness.now.timestamp())
    change = wa.message(
        "wamid.SYS",
        "6281300000001",
        t,
        "system",
        system={
            "body": "User A changed from 6281300000001 to 6281311112222",
            "wa_id": "6281311112222",
            "type": "user_changed_number",
        },
    )
    body = json.dumps(wa.envelope(messages=[change], contacts=[wa.contact("6281300000001")]))
    assert (await post_whatsapp(harness, body.encode())).status_code == 200
    await harness.work()
    assert len(harness.whatsapp.sent()) == before
    person.phone, person.seen = "+6281311112222", 0
    said = await person.text("MENU")
    assert "Menu utama" in said[-1].text
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
    assert identity is not None and identity.phone == "+6281311112222" and identity.household_id


async def test_replies_go_to_the_number_when_the_identity_is_keyed_on_a_bsuid(
    harness: Harness,
) -> None:
    person = WhatsAppDriver(harness, phone="+6281300000001")
    await person.text("halo")
    sent = harness.whatsapp.sent()
    assert sent and all(b.get("to") == "6281300000001" for b in sent)
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
        assert identity is not None
        identity.phone = None  # a username-only person: no number known
        outbox.enqueue(s, identity, {"text": "tes"}, now=harness.now)
    await harness.work()
    assert harness.whatsapp.sent()[-1].get("recipient") == person.user_id


# A bad media id, the time of a message, and what is not a person talking -------------------


async def test_a_media_id_that_is_no_url_path_is_asked_again_and_every_chat_still_answered(
    harness: Harness,
) -> None:
    person = await _linked_person(harness)
    other = WhatsAppDriver(harness, phone="+6281300000077", user_id="")
    # httpx raises InvalidURL (not an HTTPError) for a control character in the path.
    said = await person._exchange("image", image={"id": "12\n34", "mime_type": "image/jpeg"})
    assert said[-1].text == "Foto belum bisa kami terima. Coba kirim lagi, ya."
    assert (await other.text("halo"))[-1].text  # another chat is answered on the next round
    said = await person.text("MENU")
    assert "Menu utama" in said[-1].text  # and so is the same chat
    assert harness.rt.metrics.media_failures.labels("whatsapp")._value.get() == 1


async def test_an_exception_preparing_an_update_quarantines_it_and_the_loop_goes_on(
    harness: Harness,
) -> None:
    person = await _linked_person(harness)
    other = WhatsAppDriver(harness, phone="+6281300000077", user_id="")
    real = harness.rt.inbox.receipts["whatsapp"]

    def odd_receipts(raw: str) -> list[StatusUpdate]:
        """A receipt of a shape the outbox cannot apply (it raises while preparing the row)."""
        if '"wamid.POISON"' not in raw:
            return real(raw)
        return [StatusUpdate("whatsapp", None, "failed", harness.now)]  # type: ignore[arg-type]

    harness.rt.inbox.receipts["whatsapp"] = odd_receipts
    poison = wa.status("wamid.POISON", "failed", person.wa_id, int(harness.now.timestamp()), 131026)
    body = json.dumps(wa.envelope(statuses=[poison]))
    assert (await post_whatsapp(harness, body.encode())).status_code == 200
    assert "Menu utama" in (await person.text("MENU"))[-1].text  # the same chat goes on
    assert (await other.text("halo"))[-1].text  # and so do the others
    async with await harness.session() as s:
        states = dict((await s.execute(select(InboxUpdate.external_id, InboxUpdate.state))).all())
    assert states["status:wamid.POISON:failed"] == "quarantined"
    assert harness.rt.metrics.quarantined.labels("whatsapp")._value.get() == 1


async def test_the_time_of_a_message_is_when_the_person_sent_it(harness: Harness) -> None:
    person = await _linked_person(harness)
    written = harness.now
    harness.advance(hours=2)  # the workers were down; the message waited in Meta's retries
    msg = wa.message(
        "wamid.LATE1", person.wa_id, int(written.timestamp()), "text", text={"body": "halo"}
    )
    body = json.dumps(wa.envelope(messages=[msg], contacts=[wa.contact(person.wa_id)]))
    assert (await post_whatsapp(harness, body.encode())).status_code == 200
    await harness.work()
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
    assert identity is not None and identity.last_inbound_at == written.replace(microsecond=0)


async def test_a_timestamp_in_the_future_counts_as_now(harness: Harness) -> None:
    person = WhatsAppDriver(harness, phone="+6281300000005", user_id="")
    ahead = int(harness.now.timestamp()) + 7200
    msg = wa.message("wamid.AHEAD", person.wa_id, ahead, "text", text={"body": "halo"})
    body = json.dumps(wa.envelope(messages=[msg], contacts=[wa.contact(person.wa_id)]))
    await post_whatsapp(harness, body.encode())
    await harness.work()
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
    assert identity is not None and identity.last_inbound_at == harness.now


async def test_groups_reactions_deletions_and_edits_get_no_answer(harness: Harness) -> None:
    person = await _linked_person(harness)
    before = len(harness.whatsapp.sent())
    wa_id = person.wa_id
    t = int(harness.now.timestamp())
    quiet = [
        {**wa.message("wamid.G1", wa_id, t, "text", text={"body": "halo"}), "group_id": "G.1"},
        wa.message(
            "wamid.R1", wa_id, t, "reaction", reaction={"message_id": "wamid.X", "emoji": "👍"}
        ),
        wa.message(
            "wamid.R2", wa_id, t, "reaction", reaction={"message_id": "wamid.X", "emoji": ""}
        ),
        wa.message("wamid.D1", wa_id, t, "revoked", revoked={"original_message_id": "wamid.X"}),
        wa.message("wamid.E1", wa_id, t, "edit", edit={"original_message_id": "wamid.X"}),
    ]
    body = json.dumps(wa.envelope(messages=quiet, contacts=[wa.contact(wa_id)]))
    assert (await post_whatsapp(harness, body.encode())).status_code == 200
    await harness.work()
    assert len(harness.whatsapp.sent()) == before
    async with await harness.session() as s:
        states = dict((await s.execute(select(InboxUpdate.external_id, InboxUpdate.state))).all())
    assert {states[m["id"]] for m in quiet} == {"ignored"}


async def test_a_sender_that_is_neither_a_number_nor_a_bsuid_is_never_answered(
    harness: Harness,
) -> None:
    t = int(harness.now.timestamp())
    for wamid, sender, user_id in (
        ("wamid.B1", "not-a-number", None),
        ("wamid.B2", "62813'; DROP", None),
        ("wamid.B3", "6281300000009", "no dot here"),
    ):
        msg = wa.message(wamid, sender, t, "text", text={"body": "halo"})
        body = json.dumps(wa.envelope(messages=[msg], contacts=[wa.contact(sender, user_id)]))
        assert (await post_whatsapp(harness, body.encode())).status_code == 200
    await harness.work()
    assert harness.whatsapp.sent() == []
    assert await _count(harness, ChatIdentity) == 0
    async with await harness.session() as s:
        assert set((await s.scalars(select(InboxUpdate.state))).all()) == {"quarantined"}


async def test_a_sender_longer_than_any_real_id_is_stored_not_refused(harness: Harness) -> None:
    """PostgreSQL refuses a key wider than its column: the key is kept as its hash, and 200."""
    msg = wa.message(
        "wamid." + "A" * 300, "6" * 400, int(harness.now.timestamp()), "text", text={"body": "x"}
    )
    body = json.dumps(wa.envelope(messages=[msg], contacts=[wa.contact("6" * 400)])).encode()
    assert (await post_whatsapp(harness, body)).status_code == 200
    assert (await post_whatsapp(harness, body)).status_code == 200  # a redelivery: no second row
    async with await harness.session() as s:
        rows = list(await s.scalars(select(InboxUpdate)))
    assert len(rows) == 1 and len(rows[0].chat_key) <= 128 and len(rows[0].external_id) <= 128
    await harness.work()
    assert harness.whatsapp.sent() == []  # never answered: no such sender
