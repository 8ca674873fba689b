"""The words a state change sends: every stored code has a name, and outbox keys stay as written."""

from __future__ import annotations

from sqlalchemy import select

from bot.commands import request as request_cmd
from handlers import labels
from storage import referrals, requests
from storage.graduation_rules import RULES, STAGES
from storage.models import ChatIdentity, OutboxMessage, RequestEvent, ServiceRequest
from tests.case_helpers import linked, linked_mentor, menu_key, seed
from tests.drivers import TelegramDriver
from tests.harness import Harness


def test_every_code_storage_keeps_has_a_name_people_read() -> None:
    states = set(requests.TRANSITIONS) | {s for to in requests.TRANSITIONS.values() for s in to}
    assert set(labels.REQUEST_KIND_NAMES) == set(requests.PREFIXES)
    assert states | requests.CLOSED <= set(labels.REQUEST_STATE_NAMES)
    assert set(labels.OFFICE_NAMES) == set(referrals.OFFICES)
    moves = set(referrals.MOVES) | {s for to in referrals.MOVES.values() for s in to}
    assert moves == set(labels.REFERRAL_STATE_NAMES)
    assert set(labels.STAGE_NAMES) == set(STAGES) == set(labels.NEXT_STEPS)
    assert {rule.kind for rule in RULES.setbacks} == set(labels.SIGNAL_NAMES)


async def test_a_move_and_a_new_request_keep_their_outbox_keys_and_shape(harness: Harness) -> None:
    """Rows queued before the words moved out of storage carry these keys; new ones must match."""
    h = harness
    await seed(h)
    mentor = await linked_mentor(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("koperasi"))
    await person.press(said[-1].key_of("Ya, daftar"))
    await request_cmd.set_state(h.rt, "KP-2611-0001", "diproses", note=None, office=None, now=h.now)
    async with await h.session() as s:
        row = await s.scalar(select(ServiceRequest))
        assert row is not None
        event = await s.scalar(select(RequestEvent).where(RequestEvent.to_state == "diproses"))
        assert event is not None
        chats = {c.external_id: c.id for c in await s.scalars(select(ChatIdentity))}
        queued = {
            m.dedupe_key: m.payload
            for m in await s.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.is_not(None))
            )
        }
    family, mentor_chat = chats[str(person.user_id)], chats[str(mentor.user_id)]
    moved = queued[f"request:{row.id}:event:{event.id}:{family}"]
    filed = queued[f"request-new:{row.id}:{mentor_chat}"]
    shape = {"text", "choices", "ask_contact", "template", "template_params", "extra"}
    assert set(moved) == shape and "KP-2611-0001" in moved["text"]
    assert set(filed) == shape | {"hours"} and "KP-2611-0001" in filed["text"]
    assert filed["hours"] == {"region": row.region_code, "start": "08:00", "end": "18:00"}


async def test_the_household_reads_the_news_first(harness: Harness) -> None:
    """VOICE.md: "Kabar baik! Pengajuan pelatihan Anda (PL-2612-0001) disetujui." and so on."""
    h = harness
    await seed(h)
    person = TelegramDriver(h)
    await linked(person)
    said = await menu_key(person, "Ajukan permintaan")
    said = await person.press(said[-1].key_of("Pelatihan"))
    said = await person.press(said[-1].key_of("Menjahit"))
    await person.press(said[-1].key_of("Lewati"))
    seen = len(h.telegram_said(person.user_id))
    for state in ("disetujui", "selesai"):
        await request_cmd.set_state(h.rt, "PL-2611-0001", state, note=None, office=None, now=h.now)
    await h.work()
    approved, finished = (m.text for m in h.telegram_said(person.user_id, seen))
    assert approved.startswith("Kabar baik! Pengajuan pelatihan Anda (PL-2611-0001) disetujui.\n")
    assert "akan menghubungi Anda untuk langkah berikutnya" in approved
    assert finished.startswith("Pengajuan pelatihan Anda (PL-2611-0001) sudah selesai.")
    assert "sekarang:" not in approved + finished
