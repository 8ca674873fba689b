"""understand: what a person meant, in their own words (slang, typos, long stories, English).

Between the core and the journeys. `hear` normalises one message (letter case, repeated
letters, punctuation and emoji, chat abbreviations, spelled-out numbers), scores every intent
of `handlers/lexicon/intents.json` with an Indonesian stemmer (PySastrawi) and typo tolerance
(rapidfuzz), and decides: one clear intent, two close ones to ask between, or none. The word
lists are data; this module only reads them. Everything per word is cached, so a message
costs a few dozen microseconds.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from handlers.money import VALUES

LEXICON = Path(__file__).resolve().parent / "lexicon"

# A score of CLEAR is enough on its own; a runner-up within CLOSE of the best makes it a question.
CLEAR = 2.0
CLOSE = 1.5
# The score of a whole message that is an intent's own words.
EXACT = 10.0
# Typos: a word this similar (0-100) to a listed one counts, at FUZZY of its weight.
FUZZY_CUTOFF = 82
FUZZY = 0.9
MIN_FUZZY_LENGTH = 5
# Intents that only ever come from the whole message or a fixed phrase, never a lone word.
COMMANDS = frozenset({"stop", "cancel", "menu", "restart"})
# Social intents give way to any task intent in the same message ("pagi bu, pkh kapan cair?").
SOCIAL = frozenset({"greeting", "thanks"})
# Words before a typed choice number: `no 2`, `pilih 2`, `yang ke 2`, `nomor dua`.
NUMBER_PREFIXES = frozenset(
    {"no", "nomor", "nmr", "nomer", "pilih", "yang", "ke", "angka", "pilihan"}
)
ORDINALS = {"pertama": 1, "kesatu": 1, "kedua": 2, "ketiga": 3, "keempat": 4, "kelima": 5}
NUMBER_WORDS = {word: value for word, value in VALUES.items() if 1 <= value <= 11}
# Words that switch journeys mid-way: "mau ganti ke pelatihan".
SWITCH_WORDS = frozenset({"ganti", "pindah", "beralih", "switch", "instead"})
# Words that do not change what a whole message is ("bingung ya", "pelatihan saja").
EXACT_FILLERS = frozenset(
    {"ya", "saya", "saja", "dulu", "lagi", "ingin", "sekali", "banget", "please"}
)

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_DOUBLES = re.compile(r"([a-z])\1")
_REDUPLICATED = re.compile(r"\b([a-z]{2,})2\b")  # `anak2`


@dataclass(frozen=True)
class Intent:
    """One intent's words: whole messages, weighted words and phrases, and what is not it."""

    name: str
    exact: frozenset[str]
    words: dict[str, float]
    phrases: dict[str, float]
    unless: tuple[str, ...]


@dataclass(frozen=True)
class Heard:
    """One message as understood: the original kept, the normalised words, the decision."""

    original: str
    text: str
    tokens: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    number: int | None = None
    yes_no: str | None = None

    @property
    def intent(self) -> str | None:
        """The one clear intent, or None."""
        if not self.scores or self.scores[0][1] < CLEAR:
            return None
        if len(self.scores) > 1 and self.scores[1][1] * CLOSE > self.scores[0][1]:
            return None
        return self.scores[0][0]

    @property
    def candidates(self) -> tuple[str, ...]:
        """Two intents close enough that the person is asked which one."""
        if self.intent is not None or len(self.scores) < 2 or self.scores[1][1] < CLEAR:
            return ()
        return (self.scores[0][0], self.scores[1][0])

    @property
    def exact(self) -> bool:
        """The whole message is the intent (`status`, `gak jadi`), not a word in a story."""
        return bool(self.scores) and self.scores[0][1] >= EXACT

    @property
    def switching(self) -> bool:
        """Says to change journey ("ganti ke …")."""
        return any(t in SWITCH_WORDS for t in self.tokens)


def _load(name: str) -> Any:
    """One lexicon file."""
    return json.loads((LEXICON / name).read_text(encoding="utf-8"))


SLANG: dict[str, str] = {k: v for k, v in _load("slang.json").items() if not k.startswith("_")}
_YES_NO = _load("yes_no.json")
YES = frozenset(_YES_NO["yes"])
NO = frozenset(_YES_NO["no"])
YES_NO_FILLERS = frozenset(_YES_NO["fillers"])
_STEMMER = StemmerFactory().create_stemmer()


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """The root of an Indonesian word (`pendaftaran` → `daftar`), cached."""
    if len(word) <= 3 or not word.isalpha():
        return word
    return str(_STEMMER.stem(word)) or word


def normalise(text: str) -> str:
    """Lower case, no punctuation or emoji, no `tolonggg`, slang spelled out, fillers dropped."""
    cleaned = unicodedata.normalize("NFKC", text).lower()
    cleaned = cleaned.replace("'", "").replace("’", "").replace("`", "")
    cleaned = _REDUPLICATED.sub(r"\1", cleaned)
    cleaned = _NOT_WORD.sub(" ", cleaned)
    cleaned = _REPEATS.sub(r"\1", cleaned)
    words = []
    for token in cleaned.split():
        plain = SLANG.get(token) if token in SLANG else SLANG.get(_DOUBLES.sub(r"\1", token), token)
        if plain:
            words.append(plain)
    return " ".join(words)


def _listed(word: str) -> str:
    """A listed word normalised, keeping its `=` (surface only) mark."""
    return ("=" if word.startswith("=") else "") + normalise(word.lstrip("="))


def _intents() -> tuple[Intent, ...]:
    """The intents of the lexicon, their words normalised the same way as messages."""
    found = []
    for name, spec in _load("intents.json").items():
        if name.startswith("_"):
            continue
        found.append(
            Intent(
                name=name,
                exact=frozenset(normalise(e) for e in spec["exact"]),
                words={_listed(w): float(v) for w, v in spec["words"].items()},
                phrases={normalise(p): float(v) for p, v in spec["phrases"].items()},
                unless=tuple(normalise(u) for u in spec.get("unless", [])),
            )
        )
    return tuple(found)


INTENTS = _intents()
INTENT_NAMES = tuple(i.name for i in INTENTS)
# word (and its stem) → [(intent, weight)]: one dictionary look-up per word of a message.
_WORD_INDEX: dict[str, list[tuple[str, float]]] = {}
for _intent in INTENTS:
    for _word, _weight in _intent.words.items():
        # `=pendapatan`: the word itself only (its stem `dapat` means something else).
        _forms = {_word[1:]} if _word.startswith("=") else {_word, stem(_word)}
        for _form in _forms:
            _WORD_INDEX.setdefault(_form, []).append((_intent.name, _weight))
_EXACT_INDEX = {form: i.name for i in INTENTS for form in i.exact}
_FUZZY_WORDS = tuple(w for w in _WORD_INDEX if len(w) >= MIN_FUZZY_LENGTH)
# Commands are never guessed from a typo: `stok` is not `stop`.
_FUZZY_EXACT = tuple(
    e for e, name in _EXACT_INDEX.items() if len(e) >= MIN_FUZZY_LENGTH and name not in COMMANDS
)


@lru_cache(maxsize=20000)
def _word_hits(token: str) -> tuple[tuple[str, float], ...]:
    """What one word says, by itself, its stem, or the listed word it is a typo of."""
    hits = _WORD_INDEX.get(token) or _WORD_INDEX.get(stem(token))
    if hits:
        return tuple(hits)
    if len(token) < MIN_FUZZY_LENGTH or not token.isalpha():
        return ()
    best = process.extractOne(token, _FUZZY_WORDS, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if best is None:
        return ()
    return tuple((name, weight * FUZZY) for name, weight in _WORD_INDEX[best[0]])


@lru_cache(maxsize=5000)
def _exact(text: str) -> str | None:
    """The intent the whole message is, written right or with a typo (`statsu`, `kopersi`)."""
    for form in (text, _DOUBLES.sub(r"\1", text), _without_fillers(text)):
        if form in _EXACT_INDEX:
            return _EXACT_INDEX[form]
    if len(text) < MIN_FUZZY_LENGTH or " " in text:
        return None
    best = process.extractOne(text, _FUZZY_EXACT, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    return _EXACT_INDEX[best[0]] if best else None


def _without_fillers(text: str) -> str:
    """The message without words that do not change it."""
    return " ".join(t for t in text.split() if t not in EXACT_FILLERS)


def _score(text: str, tokens: tuple[str, ...]) -> dict[str, float]:
    """Each intent's score: listed words (once each) and phrases, less what is not it."""
    padded = f" {text} "
    scores: dict[str, float] = {}
    counted: set[tuple[str, str]] = set()
    for token in tokens:
        for name, weight in _word_hits(token):
            if name in COMMANDS or (name, stem(token)) in counted:
                continue
            counted.add((name, stem(token)))
            scores[name] = scores.get(name, 0.0) + weight
    for intent in INTENTS:
        for phrase, weight in intent.phrases.items():
            if f" {phrase} " in padded:
                scores[intent.name] = scores.get(intent.name, 0.0) + weight
        if intent.name in scores and any(f" {u} " in padded for u in intent.unless):
            del scores[intent.name]
    return scores


def _number_of(tokens: tuple[str, ...]) -> int | None:
    """A lone choice number: `2`, `2.`, `dua`, `no 2`, `yang kedua`."""
    rest = [t for t in tokens if t not in NUMBER_PREFIXES]
    if len(rest) != 1:
        return None
    word = rest[0]
    if word.isdigit() and len(word) <= 2:
        return int(word)
    return NUMBER_WORDS.get(word) or ORDINALS.get(word)


def _yes_no_of(tokens: tuple[str, ...], text: str) -> str | None:
    """`iya bu betul` → yes, `gak usah` → no, when the whole message is such an answer."""
    if (
        text in NO
        or any(t in NO for t in tokens)
        and all(t in NO or t in YES or t in YES_NO_FILLERS for t in tokens)
    ):
        return "no"
    if text in YES or tokens and all(t in YES or t in YES_NO_FILLERS for t in tokens):
        return "yes" if any(t in YES for t in tokens) else None
    return None


def _raw_tokens(text: str) -> tuple[str, ...]:
    """Words before slang (for numbers: `no 2` is not `nomor`'s business)."""
    cleaned = _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return tuple(cleaned.split())


@lru_cache(maxsize=5000)
def hear(original: str) -> Heard:
    """What one message means (cached: many people type the same few words)."""
    text = normalise(original[:1000])
    tokens = tuple(text.split())
    exact = _exact(text)
    if exact is not None:
        scores: dict[str, float] = {exact: EXACT}
    else:
        scores = _score(text, tokens)
        if any(score >= CLEAR for name, score in scores.items() if name not in SOCIAL):
            scores = {n: s for n, s in scores.items() if n not in SOCIAL}
    ranked = tuple(sorted(scores.items(), key=lambda item: (-item[1], item[0])))
    return Heard(
        original=original,
        text=text,
        tokens=tokens,
        scores=ranked,
        number=_number_of(_raw_tokens(original)),
        yes_no=_yes_no_of(tokens, text),
    )


def keyword_lookup(original: str) -> str | None:
    """The plain look-up the layer replaced (the whole message, as typed): for the bench."""
    return _EXACT_INDEX.get(original.strip().lower())
