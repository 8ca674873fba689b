"""Who goes first: women heads of household, people with disabilities, the elderly, the poorest decile.

The programs name these households, so their `kategori` and `desil` change what happens, not
only what is shown: they sort first in the staff queues, their ladder reaches the mentor and
Dinsos sooner, and their escalations have a shorter SLA (settings in `bot.config`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_
from sqlalchemy.sql import ColumnElement

from storage.models import Household
from storage.roster.rules import CATEGORIES

POOREST_DESIL = 1  # DTSEN's first decile


def is_vulnerable(household: Household) -> bool:
    """Whether the household is one the programs put first."""
    categories = set(filter(None, (household.categories or "").split(";")))
    return bool(categories & set(CATEGORIES)) or household.desil == POOREST_DESIL


def vulnerable(hh: Any = Household) -> ColumnElement[bool]:
    """SQL twin of `is_vulnerable` (the roster keeps only known categories, `;`-joined)."""
    return or_(func.coalesce(hh.categories, "") != "", hh.desil == POOREST_DESIL)


def first(hh: Any = Household) -> Any:
    """An ORDER BY key that puts the vulnerable first."""
    return case((vulnerable(hh), 0), else_=1)


def in_category(category: str, hh: Any = Household) -> ColumnElement[bool]:
    """SQL: the household has `category` (one of the roster's, or `desil1` for the poorest decile)."""
    if category == "desil1":
        return hh.desil == POOREST_DESIL
    if category not in CATEGORIES:
        raise ValueError(category)
    # No category name is part of another, so a substring of the `;`-joined list is exact.
    return func.coalesce(hh.categories, "").contains(category)
