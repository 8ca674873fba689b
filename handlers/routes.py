"""The one place that lists every journey, the menus in the order shown, and button actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.i18n import N_
from handlers import common, menu, mentor, start, status
from handlers.menu import MenuItem
from handlers.turn import Turn

Step = Callable[[Turn], Awaitable[None]]

# journey name → the function that takes the next message of that journey
JOURNEYS: dict[str, Step] = {
    "consent": start.consent_step,
    "link": start.link_step,
    "menu": menu.step,
    "language": common.language_step,
    "mentor_code": mentor.code_step,
}

# Journeys that expect a photo or document; elsewhere media gets the "please type" answer.
MEDIA_JOURNEYS: set[str] = set()

HOUSEHOLD_MENU = [
    MenuItem("status", N_("Aid status"), status.show),
    MenuItem("language", N_("Language / Bahasa"), common.choose_language),
    MenuItem("help", N_("Help"), common.help_text),
]

MENTOR_MENU = [
    MenuItem("link_code", N_("Link code for a family"), mentor.ask_household_for_code),
    MenuItem("language", N_("Language / Bahasa"), common.choose_language),
    MenuItem("help", N_("Help"), common.help_text),
]

menu.configure(household=HOUSEHOLD_MENU, mentor=MENTOR_MENU)


async def unlink(turn: Turn, arg: str) -> None:
    """A mentor's "undo this link" button."""
    if turn.identity.mentor_id is not None and arg.isdigit():
        await mentor.undo_link(turn, int(arg))
    else:
        await menu.show(turn)


# Buttons sent in notices (`act:NAME:ARG`) work whatever step the person is at.
ACTIONS: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    "unlink": unlink,
}
