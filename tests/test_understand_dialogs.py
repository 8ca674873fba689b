"""Households understood in their own words, through the real core on every channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage import links
from storage.models import AuditEvent, ChatIdentity, Conversation
from tests import factories
from tests.case_helpers import (
    HOUSEHOLD_PHONE,
    ids,
    linked,
    mentor_on,
    menu_key,
    person_on,
    seed,
    welcomed_mentor,
)
from tests.drivers import DRIVERS, Driver, TelegramDriver, WhatsAppDriver, said_whatsapp
from tests.harness import Harness, Said
from tests.understanding import corpus, near_misses

# What the reply to each intent says (Indonesian), when a linked household at the menu types it.
SIGNS = {
    "status": "PKH (Program Keluarga Harapan)",
    "training": "Pelatihan apa yang Anda perlukan?",
    "cooperative": "Koperasi Desa Merah Putih",
    "report": "Laporan usaha November 2026",
    "correction": "Tentang apa?",
    "my_data": "Data keluarga Anda yang disimpan Sinergi:",
    "erase": "Bapak/Ibu bisa minta Sinergi berhenti memakai data Anda",
    "mentor": "Pendamping Anda: Rina Marlina",
    "help": "Kata yang bisa Anda ketik kapan saja",
    "menu": "Menu utama. Pilih nomor:",
    "cancel": "Baik, langkah ini dibatalkan.",
    "restart": "Menu utama. Pilih nomor:",
    "greeting": "Halo Bu Siti!",
    "thanks": "Sama-sama, Bu Siti.",
    "find_business": "yang Anda cari",
}
NOT_UNDERSTOOD = "belum menangkap maksud Anda"
# What the household's voice note holds, as each platform serves it for download.
VOICE_BYTES = {
    "whatsapp": b"OggS fake voice on WhatsApp",
    "telegram": b"OggS fake voice on Telegram",
}
PER_INTENT = 4


def sample() -> list[tuple[str, str]]:
    """About 60 utterances: every intent's first, middle and last ones, and near-misses."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in corpus():
        by_intent.setdefault(intent, []).append(text)
    picked = []
    for intent, texts in sorted(by_intent.items()):
        step = max(1, len(texts) // PER_INTENT)
        picked += [(t, intent) for t in texts[::step][:PER_INTENT]]
    return picked + [(t, "none") for t in near_misses()[::8]]


@pytest.fixture(params=sorted(DRIVERS))
def person(request: pytest.FixtureRequest, harness: Harness) -> Driver:
    """The same household, on each channel in turn."""
    return person_on(request, harness)


async def _seed_with_program(h: Harness) -> None:
    _mentor_id, household_id = await seed(h)
    async with await h.session() as s:
        await factories.program(s, household_id)


async def _journey(h: Harness) -> str:
    async with await h.session() as s:
        row = await s.scalar(select(Conversation))
        assert row is not None
        return row.journey


async def test_a_sample_of_the_corpus_through_the_core(person: Driver) -> None:
    await _seed_with_program(person.h)
    await linked(person)
    wrong = []
    stops = []
    for text, intent in sample():
        if intent == "stop":
            stops.append(text)
            continue
        await person.text("MENU")
        said = await person.text(text)
        reply = said[-1].text if said else ""
        if intent == "none":
            if NOT_UNDERSTOOD not in reply or await _journey(person.h) != "menu":
                wrong.append((text, intent, reply[:80]))
        elif SIGNS[intent] not in "\n".join(s.text for s in said):
            wrong.append((text, intent, reply[:80]))
    assert len(wrong) <= 0.05 * len(sample()), wrong
    said = await person.text(stops[-1])
    assert "tidak akan menerima pesan lagi" in said[-1].text


async def test_greeting_before_consent_is_greeted_back_with_the_notice(person: Driver) -> None:
    await seed(person.h)
    said = await person.text("Assalamu'alaikum bu")
    assert "Halo, Bapak/Ibu!" in said[-1].text
    assert "Apakah Anda setuju" in said[-1].text


async def test_clear_intent_mid_journey_switches(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    assert "Apakah usaha Anda berjalan?" in said[-1].text
    said = await person.text("mau ganti ke pelatihan")
    assert "Pelatihan apa yang Anda perlukan?" in said[-1].text


async def test_two_close_meanings_get_one_question(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await person.text("mau daftar pelatihan dan koperasi")
    assert said[-1].text.startswith("Maksud Anda:")
    assert said[-1].key_of("koperasi") == "act:intent:cooperative"
    said = await person.press(said[-1].key_of("Daftar pelatihan"))
    assert "Pelatihan apa yang Anda perlukan?" in said[-1].text


async def test_numbers_keep_working_after_bantuan_and_status(person: Driver) -> None:
    await _seed_with_program(person.h)
    await linked(person)
    await person.text("MENU")
    said = await person.text("BANTUAN")
    assert "Kata yang bisa Anda ketik" in said[-1].text
    assert "Pendamping Anda: Rina Marlina" in said[-1].text
    said = await person.text("2")  # 2 = Ajukan permintaan, from the menu shown before
    assert "Apa yang ingin Anda ajukan?" in said[-1].text
    said = await person.text("STATUS")
    assert "PKH (Program Keluarga Harapan)" in said[0].text
    assert "Kembali ke pertanyaan tadi" in said[-1].text
    assert "Apa yang ingin Anda ajukan?" in said[-1].text
    said = await person.text("1")  # 1 = Pelatihan, still
    assert "Pelatihan apa yang Anda perlukan?" in said[-1].text
    said = await person.text("bantuan")
    assert "Kata yang bisa Anda ketik" in said[-1].text
    assert "Kembali ke pertanyaan tadi" in said[-1].text
    assert "Pelatihan apa yang Anda perlukan?" in said[-1].text


async def test_yes_in_own_words_answers_a_yes_no_question(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    said = await person.text("daftar koperasi")
    assert "Koperasi Desa Merah Putih" in said[-1].text
    said = await person.text("iya bu mau")
    assert "Nomor: KP-" in said[-1].text


async def test_language_chosen_on_the_privacy_screen_goes_on_to_the_notice(
    person: Driver,
) -> None:
    await seed(person.h)
    said = await person.text("/start")
    said = await person.press(said[-1].key_of("English"))
    said = await person.press(said[-1].key_of("English"))
    assert said[0].text.startswith("Language changed to English.")
    assert "Do you agree?" in said[-1].text
    said = await person.text("1")
    assert "Your agreement is saved" in said[0].text


async def test_nik_typed_straight_away_at_the_linking_step(harness: Harness) -> None:
    await seed(harness)
    person = TelegramDriver(harness)
    await person.text("/start")
    said = await person.text("SETUJU")
    assert "Pilih salah satu cara" in said[-1].text
    said = await person.text("6472 0165.0381 0001")
    assert "Sekarang ketik No. KK" in said[-1].text
    said = await person.text(factories.NO_KK)
    assert "tersambung dengan keluarga Siti" in said[-1].text


async def test_code_typed_straight_away_at_the_linking_step(harness: Harness) -> None:
    mentor_id, household_id = await seed(harness)
    async with await harness.session() as s:
        code = await links.new_link_code(
            s,
            household_id=household_id,
            mentor_id=mentor_id,
            now=harness.now,
            ttl=harness.rt.rules.link_code_ttl,
        )
    person = TelegramDriver(harness)
    await person.text("/start")
    await person.text("SETUJU")
    said = await person.text(code.lower().replace("-", " "))
    assert "tersambung dengan keluarga Siti" in said[-1].text


def test_every_link_code_is_told_from_a_word_when_typed() -> None:
    """A code of eight letters alone ("KOPERASI" is one too) would not be taken for a code."""
    from handlers.start import looks_like_code

    codes = [links.random_code() for _ in range(2000)]
    assert all(looks_like_code(code) for code in codes)
    assert all(looks_like_code(f"{c[:4].lower()} {c[4:].lower()}") for c in codes)


async def test_a_phone_number_typed_at_the_linking_step_is_answered(harness: Harness) -> None:
    await seed(harness)
    person = TelegramDriver(harness)
    await person.text("/start")
    await person.text("SETUJU")
    said = await person.text("0813 0000 0001")
    assert "nomor HP yang diketik tidak bisa menyambungkan" in said[0].text
    assert [k for k, _ in said[-1].choices] == ["contact", "code", "nik", "usul"]
    async with await harness.session() as s:
        identity = await s.scalar(select(ChatIdentity))
        assert identity is not None and identity.household_id is None


async def _voice(person: Driver) -> list[Said]:
    """Send a voice note from the household's channel."""
    if isinstance(person, WhatsAppDriver):
        person.h.whatsapp.media["7788990011"] = VOICE_BYTES["whatsapp"]
        audio = {"id": "7788990011", "mime_type": "audio/ogg; codecs=opus", "voice": True}
        return await person._exchange("audio", audio=audio)
    assert isinstance(person, TelegramDriver)
    person.h.telegram.media["AwACAgUvoice"] = VOICE_BYTES["telegram"]
    voice = {
        "file_id": "AwACAgUvoice",
        "file_unique_id": "v1",
        "duration": 4,
        "mime_type": "audio/ogg",
    }
    return await person._exchange(person.h.telegram_update(person.user_id, voice=voice))


def _audio_to_mentor(h: Harness, mentor: Driver) -> bytes:
    """The bytes of the one voice note the mentor got on their channel (sendVoice, or a Graph
    upload sent as an audio message by its media id)."""
    if isinstance(mentor, TelegramDriver):
        files = h.telegram.files(mentor.user_id)
        assert [method for method, _params in files] == ["sendVoice"]
        return bytes(files[0][1]["voice"])
    assert isinstance(mentor, WhatsAppDriver)
    audio = [b for b in h.whatsapp.sent(mentor.wa_id) if b["type"] == "audio"]
    assert len(audio) == 1
    mime, data = h.whatsapp.uploads[audio[0]["audio"]["id"]]
    assert mime == "audio/ogg"
    return data


def _said_to_mentor(h: Harness, mentor: Driver) -> list[Said]:
    """What the mentor read since their last message (a WhatsApp audio shows as `[audio …]`)."""
    if isinstance(mentor, TelegramDriver):
        return h.telegram_said(mentor.user_id, mentor.seen)
    assert isinstance(mentor, WhatsAppDriver)
    return [said_whatsapp(b).said for b in h.whatsapp.sent(mentor.wa_id)[mentor.seen :]]


@pytest.mark.parametrize(
    ("channel", "mentor_channel"), [("telegram", "whatsapp"), ("whatsapp", "telegram")]
)
async def test_voice_note_goes_to_the_mentor(
    harness: Harness, channel: str, mentor_channel: str
) -> None:
    """The mentor gets the audio itself on their own channel, then who sent it with buttons."""
    await seed(harness)
    mentor = mentor_on(harness, mentor_channel)
    await welcomed_mentor(mentor)
    person: Driver = (
        WhatsAppDriver(harness, phone=HOUSEHOLD_PHONE)
        if channel == "whatsapp"
        else TelegramDriver(harness)
    )
    await linked(person)
    said = await _voice(person)
    assert "Pesan suara Anda sudah kami teruskan ke pendamping Anda, Rina Marlina" in said[-1].text
    assert _audio_to_mentor(harness, mentor) == VOICE_BYTES[channel]
    to_mentor = _said_to_mentor(harness, mentor)
    assert "Pesan suara di atas dari Siti Aminah Rahayu (Rawa Makmur)" in to_mentor[-1].text
    _mentor, household = await ids(harness)
    assert [k for k, _ in to_mentor[-1].choices] == [
        f"act:family:{household.id}",
        f"act:visit:{household.id}",
    ]
    async with await harness.session() as s:
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "voice_note"))
        assert event is not None and event.household_id == household.id
        assert str(event.detail["media"]).startswith("file:")
    said = await mentor.press(f"act:visit:{household.id}")
    assert "Siti" in said[-1].text


async def test_erasing_the_family_empties_the_voice_note_sent_to_its_mentor(
    harness: Harness,
) -> None:
    """The audio's outbox row names the file: erased with the family, like the notice."""
    from storage.erasure import erase_household
    from storage.models import OutboxMessage

    await seed(harness)
    await welcomed_mentor(mentor_on(harness, "telegram"))
    person = TelegramDriver(harness)
    await linked(person)
    await _voice(person)
    _mentor, household = await ids(harness)
    async with await harness.session() as s:
        counts = await erase_household(
            s,
            household_id=household.id,
            media_root=harness.rt.settings.media_path,
            actor="test",
            reference=None,
            now=harness.now,
        )
    assert counts["mentor_messages"] >= 2  # the audio and the notice
    async with await harness.session() as s:
        payloads = [json.dumps(p) for p in await s.scalars(select(OutboxMessage.payload))]
    assert [p for p in payloads if '"media"' in p] == []


async def test_a_sticker_is_answered_politely(harness: Harness) -> None:
    await seed(harness)
    person = WhatsAppDriver(harness, phone=HOUSEHOLD_PHONE)
    await linked(person)
    said = await person._exchange("sticker", sticker={"id": "55", "mime_type": "image/webp"})
    assert "hanya bisa membaca tulisan" in said[-1].text


async def _to_omzet(person: Driver) -> list[Said]:
    said = await menu_key(person, "Lapor usaha")
    return await person.press(said[-1].key_of("Berjalan"))


async def test_early_in_the_month_the_report_is_about_last_month(person: Driver) -> None:
    person.h.now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 3 December, 10:00 WITA
    await seed(person.h)
    await linked(person)
    said = await menu_key(person, "Lapor usaha")
    assert "Laporan usaha November 2026" in said[-1].text
    said = await person.press(said[-1].key_of("Berjalan"))
    assert "omzet usaha Anda bulan November 2026" in said[-1].text
    person.h.now = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)
    said = await menu_key(person, "Lapor usaha")
    assert "Desember 2026" in said[-1].text


async def test_two_juta_500_is_two_and_a_half_million(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    await _to_omzet(person)
    said = await person.text("2 juta 500")
    assert "Tercatat: Rp2.500.000." in said[-1].text


async def test_an_unlikely_amount_is_confirmed_before_it_is_kept(person: Driver) -> None:
    await seed(person.h)
    await linked(person)
    await _to_omzet(person)
    said = await person.text("300")
    assert "Maksud Anda Rp300.000?" in said[-1].text
    said = await person.press(said[-1].key_of("Ya"))
    assert "Tercatat: Rp300.000." in said[-1].text
    async with await person.h.session() as s:
        row = await s.scalar(select(Conversation))
        assert row is not None and row.data["answers"]["omzet"] == 300_000


async def test_a_jump_of_ten_times_is_confirmed(harness: Harness) -> None:
    _mentor_id, household_id = await seed(harness)
    async with await harness.session() as s:
        from storage import reports

        await reports.submit(
            s,
            household_id=household_id,
            period="2026-10",
            answers={
                "state": "berjalan",
                "omzet": 2_000_000,
                "problem": "tidak_ada",
                "urgent": False,
                "photo": None,
            },
            now=harness.now,
        )
    person = WhatsAppDriver(harness, phone=HOUSEHOLD_PHONE)
    await linked(person)
    await _to_omzet(person)
    said = await person.text("25 juta")
    assert "Rp25.000.000 jauh lebih besar dari laporan Anda sebelumnya" in said[-1].text
    said = await person.press(said[-1].key_of("ketik ulang"))
    assert "Berapa omzet" in said[-1].text
    said = await person.text("2,5 juta")
    assert "Tercatat: Rp2.500.000." in said[-1].text


def test_sample_is_stratified() -> None:
    picked = sample()
    assert 50 <= len(picked) <= 75
    assert {intent for _t, intent in picked} >= set(SIGNS) | {"none", "stop"}
    assert json.dumps(picked, ensure_ascii=False)
