"""menu: main menu → choice → that journey's first step (household, mentor and partner menus)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.messages import Choice
from handlers.turn import Turn
from locales.i18n import _

Begin = Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True)
class MenuItem:
    """One menu line: the key a button sends, its label (marked for the catalog), its journey."""

    key: str
    label: str
    begin: Begin


# Filled once by handlers.routes, which lists every journey's entry in the order shown.
HOUSEHOLD_MENU: list[MenuItem] = []
MENTOR_MENU: list[MenuItem] = []
PARTNER_MENU: list[MenuItem] = []


def configure(
    *, household: list[MenuItem], mentor: list[MenuItem], partner: list[MenuItem]
) -> None:
    """Set the three menus (called by handlers.routes at import)."""
    HOUSEHOLD_MENU[:] = household
    MENTOR_MENU[:] = mentor
    PARTNER_MENU[:] = partner


def items_for(turn: Turn) -> list[MenuItem]:
    """The menu this person gets: partner staff, mentor or household."""
    if turn.identity.staff_id is not None:
        return PARTNER_MENU
    return MENTOR_MENU if turn.identity.mentor_id is not None else HOUSEHOLD_MENU


async def show(turn: Turn, intro: str | None = None) -> None:
    """The person sees the numbered main menu."""
    items = items_for(turn)
    title = intro or _("Main menu. Choose a number:")
    turn.goto("menu", "choose")
    turn.say(title, [Choice(item.key, _(item.label)) for item in items])


async def step(turn: Turn) -> None:
    """A menu choice starts its journey; anything else shows the menu again."""
    for item in items_for(turn):
        if turn.choice == item.key:
            await item.begin(turn)
            return
    await show(
        turn,
        _(
            "Sorry, I did not catch what you mean. You can write it in your own words, for "
            'example "cek bantuan" or "daftar pelatihan", or choose a number:'
        ),
    )
