"""The understanding layer on the labelled corpus: households' own words, and near-misses."""

from __future__ import annotations

from collections import Counter

import pytest

from handlers import understand
from tests.understanding import corpus, near_misses


def test_corpus_is_large_and_covers_every_intent() -> None:
    rows = corpus()
    assert len(rows) >= 400
    per_intent = Counter(intent for _text, intent in rows)
    assert set(per_intent) == set(understand.INTENT_NAMES)
    assert min(per_intent.values()) >= 10
    assert len(near_misses()) >= 50


def test_corpus_is_understood_at_least_95_percent() -> None:
    rows = corpus()
    wrong = [(text, want, understand.hear(text).intent) for text, want in rows]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert len(wrong) <= 0.05 * len(rows), wrong


def test_no_near_miss_is_taken_for_an_intent() -> None:
    taken = [
        (text, understand.hear(text).scores)
        for text in near_misses()
        if understand.hear(text).intent or understand.hear(text).candidates
    ]
    assert taken == []


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("Sy udh BLM tau, gmn ya bu???", "saya sudah belum tau bagaimana ya"),
        ("tolonggg 🙏🙏", "tolong"),
        ("pengen ikut kursus", "ingin ikut kursus"),
        ("ga jadi", "tidak jadi"),
        ("anak2 sy", "anak saya"),
        ("Assalamu'alaikum", "assalamualaikum"),
    ],
)
def test_normalise_spells_chat_words_out(typed: str, plain: str) -> None:
    assert understand.normalise(typed) == plain


def test_the_original_is_kept_beside_the_normalised_words() -> None:
    heard = understand.hear("PKH sy blm masuk!!")
    assert heard.original == "PKH sy blm masuk!!"
    assert heard.text == "pkh saya belum masuk"


@pytest.mark.parametrize(
    ("typed", "number"),
    [("2", 2), ("dua", 2), ("no 2", 2), ("nomor. 3", 3), ("yang kedua", 2), ("2.", 2)],
)
def test_choice_numbers_typed_or_spelled(typed: str, number: int) -> None:
    assert understand.hear(typed).number == number


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("iya bu betul", "yes"), ("Ya", "yes"), ("boleh", "yes"), ("gak usah", "no"), ("tidak", "no")],
)
def test_yes_and_no_in_own_words(typed: str, answer: str) -> None:
    assert understand.hear(typed).yes_no == answer


def test_stemming_finds_the_root_word() -> None:
    assert understand.stem("pendaftaran") == "daftar"
    assert understand.stem("mendaftar") == "daftar"
    assert understand.stem("pelatihan") == "latih"


def test_two_close_meanings_are_both_offered() -> None:
    heard = understand.hear("mau daftar pelatihan dan koperasi")
    assert heard.intent is None
    assert set(heard.candidates) == {"training", "cooperative"}


def test_typos_are_tolerated_but_commands_are_never_guessed() -> None:
    assert understand.hear("statsu").intent == "status"
    assert understand.hear("pelatiahn").intent == "training"
    assert understand.hear("kopersi").intent == "cooperative"
    assert understand.hear("stok").intent is None  # one letter from "stop", and not it
