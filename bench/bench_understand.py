"""Understanding households' own words: accuracy per intent, confusions, and time per message.

    python -m bench understand

Runs the labelled corpus of tests/understanding (and its near-misses, as intent "none")
through `handlers.understand.hear`, and beside it through a plain keyword look-up (the whole
message, as typed, against the lexicon's exact forms) in the same run. Time per message is
measured with the message cache bypassed: `cold` with every cache emptied first (the first
message of a process), `warm` with the per-word caches filled (a running server).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from handlers import understand
from tests.understanding import corpus, near_misses

ROUNDS = 5


def labelled() -> list[tuple[str, str]]:
    """(utterance, intent) from the tests' corpus (one loader for both), near-misses as "none"."""
    return [*corpus(), *((line, "none") for line in near_misses())]


def _layer(text: str) -> str:
    """The layer's decision: an intent, "ask" between two, or "none"."""
    heard = understand.hear.__wrapped__(text)
    return heard.intent or ("ask" if heard.candidates else "none")


def _keywords(text: str) -> str:
    """The plain look-up's decision."""
    return understand.keyword_lookup(text) or "none"


def _times(fn: Callable[[str], str], texts: list[str]) -> list[float]:
    """Seconds per message over a few rounds."""
    spent = []
    for _round in range(ROUNDS):
        for text in texts:
            started = time.perf_counter()
            fn(text)
            spent.append(time.perf_counter() - started)
    return spent


def _pct(values: list[float], q: float) -> float:
    """The q-quantile, in microseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6


def run() -> list[dict[str, Any]]:
    """Accuracy per intent and overall, confusions, and p50/p99 of both ways."""
    rows = labelled()
    texts = [t for t, _ in rows]
    for cache in (understand.stem, understand._word_hits, understand._exact, understand.hear):
        cache.cache_clear()
    cold_started = time.perf_counter()
    for text in texts:
        _layer(text)
    cold = (time.perf_counter() - cold_started) / len(texts)
    results: list[dict[str, Any]] = []
    confusion: Counter[tuple[str, str]] = Counter()
    per_intent: dict[str, list[int]] = {}
    keyword_right = 0
    for text, want in rows:
        got = _layer(text)
        confusion[(want, got)] += 1
        per_intent.setdefault(want, []).append(int(got == want))
        keyword_right += int(_keywords(text) == want)
    for intent, hits in sorted(per_intent.items()):
        wrong = {g: n for (w, g), n in confusion.items() if w == intent and g != intent}
        results.append(
            {
                "case": f"accuracy {intent}",
                "n": len(hits),
                "layer": round(sum(hits) / len(hits), 3),
                "confused_with": ", ".join(f"{g}:{n}" for g, n in sorted(wrong.items())) or "-",
            }
        )
    layer_times, keyword_times = _times(_layer, texts), _times(_keywords, texts)
    results.append(
        {
            "case": "accuracy all",
            "n": len(rows),
            "layer": round(sum(n for (w, g), n in confusion.items() if w == g) / len(rows), 3),
            "keywords": round(keyword_right / len(rows), 3),
        }
    )
    results.append(
        {
            "case": "time per message (us)",
            "layer_p50": round(_pct(layer_times, 0.5), 1),
            "layer_p99": round(_pct(layer_times, 0.99), 1),
            "layer_mean": round(statistics.fmean(layer_times) * 1e6, 1),
            "layer_cold_mean": round(cold * 1e6, 1),
            "keywords_p50": round(_pct(keyword_times, 0.5), 2),
            "keywords_p99": round(_pct(keyword_times, 0.99), 2),
        }
    )
    return results


if __name__ == "__main__":
    for row in run():
        print(row)
