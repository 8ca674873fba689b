"""The households' own words: a labelled corpus and near-misses that must not trigger an intent."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parent


def corpus() -> list[tuple[str, str]]:
    """(utterance, intent) as households type them."""
    rows = []
    for line in (CORPUS / "corpus.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, intent = line.split("\t")
            rows.append((text, intent))
    return rows


def near_misses() -> list[str]:
    """Messages that mention our words but ask for nothing."""
    lines = (CORPUS / "near_misses.tsv").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]
