"""Training topics a household can ask for, and the office that usually gives them.

Change this list to change the menu; keys are stored with each request, so keep old keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from locales.i18n import N_


@dataclass(frozen=True)
class Topic:
    """One training topic: the stored key, the label shown, the office that usually runs it."""

    key: str
    label: str
    office: str


TRAINING_TOPICS = (
    Topic("olahan_pangan", N_("Food processing"), "Disnakertrans"),
    Topic("kemasan_label", N_("Packaging and labels"), "Disperindagkop"),
    Topic("pemasaran_digital", N_("Selling online"), "Disperindagkop"),
    Topic("pembukuan", N_("Simple bookkeeping"), "Disperindagkop"),
    Topic("peternakan", N_("Raising livestock"), "Dinas Peternakan"),
    Topic("menjahit", N_("Sewing"), "Disnakertrans"),
    Topic("lainnya", N_("Other topic"), "Dinsos"),
)


def topic_by_key(key: str | None) -> Topic | None:
    """The topic with this key, if it is on the list."""
    return next((t for t in TRAINING_TOPICS if t.key == key), None)
