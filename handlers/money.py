"""Reading rupiah as people type it: `1.500.000`, `Rp 1.500.000`, `1,5 juta`, `750rb`, `dua juta`."""

from __future__ import annotations

import re
from fractions import Fraction

# Above this an "omzet" is a typo (or a phone number), not a month of a small business.
MAX_AMOUNT = 10**13

# Scales that close a group: `2 juta 500 ribu`.
SCALES = {
    "ribu": 1000,
    "rb": 1000,
    "rbu": 1000,
    "rebu": 1000,
    "k": 1000,
    "juta": 10**6,
    "jt": 10**6,
    "jta": 10**6,
    "miliar": 10**9,
    "milyar": 10**9,
}
# Words with a value of their own; `se-` words are "one …".
VALUES = {
    "nol": 0,
    "kosong": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
}
ONE_SCALES = {"seratus": 100, "seribu": 1000, "sejuta": 10**6, "semiliar": 10**9}
# Words that say nothing about the amount.
FILLERS = {
    "rp",
    "rupiah",
    "idr",
    "sekitar",
    "kira",
    "kurang",
    "lebih",
    "lbh",
    "per",
    "bulan",
    "sebulan",
    "perbulan",
    "bln",
    "an",
    "omzet",
    "omset",
    "saja",
    "aja",
    "ada",
}

_TOKEN = re.compile(r"\d[\d.,]*|[a-z]+")
_GROUPED = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"\d+[.,]\d+")


class _Unreadable(ValueError):
    """The text is not an amount we can be sure of."""


def parse_rupiah(text: str) -> int | None:
    """The whole-rupiah amount in `text`, or None when it cannot be read with confidence."""
    try:
        words = _words(text)
        value = _evaluate(words)
    except _Unreadable:
        return None
    if value.denominator != 1 or not 0 <= value <= MAX_AMOUNT:
        return None
    return int(value)


def _words(text: str) -> list[str]:
    """Numbers and words; anything else but separators makes the text unreadable."""
    cleaned = text.lower()[:200]
    cleaned = re.sub(r"(?<=\d) (?=\d{3}(?!\d))", "", cleaned)  # `1 500 000`
    cleaned = re.sub(r"(?<=\d)[.,]-", "", cleaned)  # `1.500.000,-`
    leftover = _TOKEN.sub(" ", cleaned)
    if leftover.strip(" .,:;-=/~\t\n"):
        raise _Unreadable(text)
    return [t for t in _TOKEN.findall(cleaned) if t not in FILLERS]


def _number(word: str, *, scaled: bool) -> Fraction:
    """A typed number: grouped thousands, or a decimal only when a scale follows (`1,5 juta`)."""
    word = word.rstrip(".,")
    word = re.sub(r"^(\d{1,3}(?:\.\d{3})+),0{1,2}$", r"\1", word)  # `1.500.000,00`
    word = re.sub(r"^(\d{1,3}(?:,\d{3})+)\.0{1,2}$", r"\1", word)  # `1,500,000.00`
    if word.isdigit():
        return Fraction(int(word))
    if scaled and _DECIMAL.fullmatch(word):
        return Fraction(word.replace(",", "."))
    if _GROUPED.fullmatch(word) and not scaled:
        return Fraction(int(re.sub(r"\D", "", word)))
    raise _Unreadable(word)


def _evaluate(words: list[str]) -> Fraction:
    """Add up `dua juta lima ratus ribu`-style groups; numbers and words mix."""
    if not words:
        raise _Unreadable("empty")
    total, group, last = Fraction(0), Fraction(0), Fraction(0)
    scale_used = 0  # the last scale word that closed a group
    open_for_value = True  # may a value come next (not `dua tiga`, not `5 7`)?
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word[0].isdigit() or word in VALUES:
            if not open_for_value:
                raise _Unreadable(word)
            last = (
                _number(word, scaled=following in SCALES)
                if word[0].isdigit()
                else Fraction(VALUES[word])
            )
            group += last
            open_for_value = False
        elif word == "setengah":
            group += Fraction(1, 2)
            open_for_value = False
        elif word in ("belas", "puluh", "ratus"):
            if not 1 <= last <= 9 or last.denominator != 1:
                raise _Unreadable(word)
            factor = {"belas": None, "puluh": 10, "ratus": 100}[word]
            group += 10 if factor is None else last * (factor - 1)
            last, open_for_value = Fraction(0), word != "belas"
        elif word in ONE_SCALES:
            total, group = _close(total, group, ONE_SCALES[word], one=True)
            scale_used = ONE_SCALES[word] if ONE_SCALES[word] >= 1000 else scale_used
            last, open_for_value = Fraction(0), True
        elif word in SCALES:
            if group == 0:
                raise _Unreadable(word)
            total, group = _close(total, group, SCALES[word], one=False)
            scale_used = SCALES[word]
            last, open_for_value = Fraction(0), True
        else:
            raise _Unreadable(word)
    return total + _trailing(group, scale_used)


def _trailing(group: Fraction, scale_used: int) -> Fraction:
    """`2 juta 500` is Rp2.500.000 as people say it: a bare group under 1000 after `juta` (or
    `miliar`) counts in the next scale down; after `ribu` it is plain rupiah."""
    if scale_used >= 10**6 and 0 < group < 1000:
        return group * (scale_used // 1000)
    return group


def _close(total: Fraction, group: Fraction, scale: int, *, one: bool) -> tuple[Fraction, Fraction]:
    """Multiply the open group by a scale word; `seratus` adds inside the group instead."""
    if one and scale == 100:
        return total, group + 100
    if one:
        return total + scale * (group or 1), Fraction(0)
    return total + group * scale, Fraction(0)
