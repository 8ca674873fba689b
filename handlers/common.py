"""common: help, language, opted-out answers and the keywords that work at any step."""

from __future__ import annotations

from bot.messages import Choice
from handlers import menu
from handlers.turn import Turn
from locales.i18n import _, use_locale

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}


async def help_text(turn: Turn) -> None:
    """The person sees what they can type at any time."""
    turn.say(
        _(
            "You can type these words at any time:\n"
            "MENU - main menu\n"
            "STATUS - status of your aid\n"
            "BATAL - cancel this step\n"
            "BANTUAN - this help\n"
            "BERHENTI - stop all messages\n"
            "MULAI - start again\n\n"
            "You can also type the number of a choice."
        )
    )


async def choose_language(turn: Turn) -> None:
    """The person sees the two languages to choose from."""
    turn.goto("language", "choose")
    turn.say(_("Choose a language:"), [Choice(code, name) for code, name in LANGUAGES.items()])


async def language_step(turn: Turn) -> None:
    """The chosen language is saved and the menu comes back in it."""
    if turn.choice not in LANGUAGES:
        await choose_language(turn)
        return
    turn.identity.locale = turn.choice
    # The rest of this turn already speaks the new language.
    with use_locale(turn.choice):
        turn.say(_("Language changed to English."))
        if turn.identity.consent_at is None:
            turn.goto("consent", "ask")
            return
        await menu.show(turn)


async def opted_out(turn: Turn) -> None:
    """A person who said BERHENTI hears only how to come back."""
    turn.say(_("You have stopped messages from Sinergi. Type MULAI to start again."))


async def not_understood(turn: Turn) -> None:
    """Something we cannot read (a sticker, a voice note where text was asked)."""
    turn.say(_("Sorry, I can only read text here. Please type, or choose a number."))
