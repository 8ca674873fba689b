"""common: help, language, greetings and thanks, the mentor's contact, voice notes, opted-out."""

from __future__ import annotations

from bot.messages import Choice
from handlers import menu, notices
from handlers.turn import Turn
from locales.i18n import N_, _, use_locale
from storage import audit, media
from storage.models import Household, Mentor

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}

# How "Do you mean: 1. … 2. …?" names each intent.
INTENT_LABELS = {
    "status": N_("Aid status"),
    "training": N_("Sign up for training"),
    "cooperative": N_("Join the village cooperative"),
    "report": N_("Business report"),
    "correction": N_("Correct my data / objection"),
    "my_data": N_("See my data"),
    "erase": N_("Stop using or erase my data"),
    "mentor": N_("Contact my mentor"),
    "help": N_("Help"),
    "find_business": N_("Find a graduate's business"),
    "greeting": N_("Main menu"),
    "thanks": N_("Main menu"),
}


def honorific(household: Household | None) -> str:
    """`Bu Siti`, `Pak Slamet`, or `Bapak/Ibu` when the gender is not known."""
    if household is None:
        return _("Bapak/Ibu")
    return address(household.name, household.gender)


def address(name: str, gender: object) -> str:
    """How to greet the head of household: `Bu Siti` (P), `Pak Slamet` (L), else `Bapak/Ibu`."""
    first = name.split()[0].title() if name.split() else ""
    if gender == "P" and first:
        return _("Bu {name}").format(name=first)
    if gender == "L" and first:
        return _("Pak {name}").format(name=first)
    return _("Bapak/Ibu")


def mentor_title(mentor: Mentor) -> str:
    """How a household reads its mentor's name: `Ibu Rina` (P), `Bapak Budi` (L), else the name."""
    first = mentor.name.split()[0].title() if mentor.name.split() else mentor.name
    if mentor.gender == "P":
        return _("Ibu {name}").format(name=first)
    if mentor.gender == "L":
        return _("Bapak {name}").format(name=first)
    return mentor.name


async def _mentor_of(turn: Turn) -> tuple[Household | None, Mentor | None]:
    """The household of this chat and its mentor, when there are."""
    household = await turn.household()
    if household is None or household.mentor_id is None:
        return household, None
    return household, await turn.session.get(Mentor, household.mentor_id)


async def help_text(turn: Turn) -> None:
    """The person sees what they can type at any time (a mentor or a partner: only the words
    for them), and a household the person to turn to."""
    if turn.identity.staff_id is not None:
        turn.say(
            _(
                "You can type these words at any time:\n"
                "MENU - partner menu\n"
                "BATAL - cancel this step\n"
                "BANTUAN - this help\n"
                "BERHENTI - stop all messages\n\n"
                "You can also type the number of a choice."
            )
        )
        return
    if turn.identity.mentor_id is not None:
        turn.say(
            _(
                "You can type these words at any time:\n"
                "MENU - mentor menu\n"
                "BATAL - cancel this step\n"
                "BANTUAN - this help\n"
                "BERHENTI - stop all messages\n\n"
                "You can also type the number of a choice."
            )
        )
        return
    text = _(
        "You can type these words at any time:\n"
        "MENU - main menu\n"
        "STATUS - status of your aid\n"
        "BATAL - cancel this step\n"
        "BANTUAN - this help\n"
        "BERHENTI - stop all messages\n"
        "MULAI - start again\n\n"
        'You can also write in your own words, for example "cek bantuan" or '
        '"daftar pelatihan", or type the number of a choice.'
    )
    _household, mentor = await _mentor_of(turn)
    if mentor is not None:
        text += "\n\n" + _("Your mentor: {name}, {phone}.").format(
            name=mentor_title(mentor), phone=mentor.phone
        )
    turn.say(text)


async def choose_language(turn: Turn) -> None:
    """The person sees the two languages to choose from."""
    turn.goto("language", "choose")
    turn.say(_("Choose a language:"), [Choice(code, name) for code, name in LANGUAGES.items()])


def set_language(turn: Turn) -> bool:
    """The chosen language is saved and said in itself; False when none was chosen."""
    if turn.choice not in LANGUAGES:
        return False
    turn.identity.locale = turn.choice
    with use_locale(turn.choice):
        turn.say(_("Language changed to English."))
    return True


async def greet(turn: Turn) -> None:
    """A greeting gets a warm greeting back, with the menu."""
    household = await turn.household()
    if turn.identity.mentor_id is not None:
        mentor = await turn.mentor()
        name = mentor.name.split()[0] if mentor is not None and mentor.name else ""
        await menu.show(
            turn,
            _("Hello {name}! Thank you for your work.").format(name=name).replace("  ", " ")
            + "\n\n"
            + _("Mentor menu. Choose a number:"),
        )
        return
    await menu.show(
        turn,
        _("Hello {name}! What can I help with? Choose a number:").format(name=honorific(household)),
    )


async def thanks(turn: Turn) -> None:
    """Thanks gets a short warm answer."""
    household = await turn.household()
    turn.say(
        _("You are welcome, {name}. Type MENU whenever you need something.").format(
            name=honorific(household) if turn.identity.mentor_id is None else _("Bapak/Ibu")
        )
    )


async def my_mentor(turn: Turn) -> None:
    """The household sees its mentor's name and number, or where else to ask."""
    _household, mentor = await _mentor_of(turn)
    if mentor is None:
        turn.say(
            _(
                "Your family has no mentor in our data yet. Please ask the village office "
                "(kantor desa) or the Social Service Office (Dinsos)."
            )
        )
        return
    turn.say(
        _("Your mentor: {name}, {phone}. You can call or message them.").format(
            name=mentor_title(mentor), phone=mentor.phone
        )
    )


async def voice_note(turn: Turn) -> None:
    """A household's voice note is kept and goes to its mentor; the household is told to whom."""
    household, mentor = await _mentor_of(turn)
    found = turn.inbound.media
    if household is None or found is None:
        await not_understood(turn)
        return
    reference = found.path or media.remote_reference(turn.inbound.address.channel, found.file_id)
    audit.record(
        turn.session,
        actor=f"chat:{turn.identity.id}",
        action="voice_note",
        now=turn.now,
        household_id=household.id,
        region_code=household.region_code,
        media=reference,
        mime_type=found.mime_type,
    )
    if mentor is None:
        turn.say(
            _(
                "Thank you, your voice message is saved. Your family has no mentor yet, so "
                "please also write in a few words what you need."
            )
        )
        return
    told = await notices.voice_note(
        turn.session,
        household,
        mentor.id,
        key=f"{turn.identity.id}:{turn.inbound.message_id}",
        reference=reference,
        mime_type=found.mime_type,
        now=turn.now,
        hours=turn.rules.delivery_hours,
    )
    if told:
        turn.say(
            _("Your voice message has been passed on to your mentor, {name}.").format(
                name=mentor_title(mentor)
            )
        )
    else:
        turn.say(
            _(
                "Thank you, your voice message is saved. Your mentor {name} ({phone}) will hear it."
            ).format(name=mentor_title(mentor), phone=mentor.phone)
        )


async def opted_out(turn: Turn) -> None:
    """A person who said BERHENTI hears only how to come back."""
    turn.say(_("You have stopped messages from Sinergi. Type MULAI to start again."))


async def not_understood(turn: Turn) -> None:
    """Something we cannot read here (a sticker, a video, a file): politely, never an error."""
    turn.say(
        _(
            "Thank you. I can read only written messages here (and a photo where I ask for "
            "one). Please type in your own words, or choose a number."
        )
    )
