"""The one place that lists every journey, the menus in the order shown, and button actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import (
    alumni,
    common,
    graduation,
    mentor,
    mentor_cases,
    mentor_graduation,
    mentor_ladder,
    menu,
    partner,
    reports,
    requests,
    rights,
    start,
    status,
)
from handlers.menu import MenuItem
from handlers.money import parse_rupiah
from handlers.turn import Turn
from locales.i18n import N_

Step = Callable[[Turn], Awaitable[None]]

# journey name → the function that takes the next message of that journey
JOURNEYS: dict[str, Step] = {
    "consent": start.consent_step,
    "link": start.link_step,
    "menu": menu.step,
    "language": start.language_step,
    "mentor_code": mentor.code_step,
    "request": requests.step,
    "report": reports.step,
    "visit": mentor_cases.visit_step,
    "handoff": mentor_ladder.handoff_step,
    "mentor_journey": mentor_graduation.step,
    "rights": rights.step,
    "propose": rights.proposal_step,
    "alumni": alumni.step,
    "partner": partner.step,
}

# Journeys that expect a photo or document; elsewhere media gets the "please type" answer.
MEDIA_JOURNEYS: set[str] = {"report"}

# Typed words (whole message, any case) that open a journey from any step, once linked.
TYPED_KEYWORDS: dict[str, Step] = {
    "riwayat": reports.history,
    "status pengajuan": requests.show_list,
    "pengajuan": requests.show_list,
    "perjalanan usaha": graduation.show,
    "lapor": reports.begin,
    "data saya": rights.show,
    "hapus data": rights.begin_erase,
    "hapus iklan": alumni.withdraw,
    "alumni": alumni.show,
}

HOUSEHOLD_MENU = [
    MenuItem("status", N_("Aid status"), status.show),
    MenuItem("request", N_("Make a request"), requests.begin),
    MenuItem("report", N_("Business report"), reports.begin),
    MenuItem("history", N_("My reports"), reports.history),
    MenuItem("journey", N_("My business journey"), graduation.show),
    MenuItem("alumni", N_("Graduates' community"), alumni.show),
    MenuItem("language", N_("Language / Bahasa"), common.choose_language),
    MenuItem("help", N_("Help"), common.help_text),
]

MENTOR_MENU = [
    MenuItem("link_code", N_("Link code for a family"), mentor.ask_household_for_code),
    MenuItem("cases_new", N_("New reports and requests"), mentor_cases.new_items),
    MenuItem("cases_flagged", N_("Families that need a look"), mentor_cases.flagged),
    MenuItem("visit", N_("Record a visit"), mentor_cases.begin_visit),
    MenuItem("silent", N_("Who has not reported"), mentor_ladder.silent),
    MenuItem("handoff", N_("Hand a family to Dinsos"), mentor_ladder.begin_handoff),
    MenuItem("stages", N_("Families' business stages"), mentor_graduation.show),
    MenuItem("alumni", N_("Graduates' community"), alumni.show),
    MenuItem("language", N_("Language / Bahasa"), common.choose_language),
    MenuItem("help", N_("Help"), common.help_text),
]

# Partner staff of an organisation (an office, a cooperative) answer the referrals sent to it.
PARTNER_MENU = [
    MenuItem("referrals_waiting", N_("Referrals waiting for an answer"), partner.waiting),
    MenuItem("referrals_accepted", N_("Accepted referrals (to close)"), partner.accepted),
    MenuItem("language", N_("Language / Bahasa"), common.choose_language),
    MenuItem("help", N_("Help"), common.help_text),
]

menu.configure(household=HOUSEHOLD_MENU, mentor=MENTOR_MENU, partner=PARTNER_MENU)


async def unlink(turn: Turn, arg: str) -> None:
    """A mentor's "undo this link" button."""
    if turn.identity.mentor_id is not None and arg.isdigit():
        await mentor.undo_link(turn, int(arg))
    else:
        await menu.show(turn)


async def report_now(turn: Turn, _arg: str) -> None:
    """The check-in's "report now" button starts the progress report."""
    if turn.identity.household_id is not None:
        await reports.begin(turn)
    else:
        await menu.show(turn)


# Buttons sent in notices (`act:NAME:ARG`) work whatever step the person is at.
ACTIONS: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    "unlink": unlink,
    "report": report_now,
    "silent": mentor_ladder.page_action,
    "family": mentor_ladder.family,
    "visit": mentor_ladder.visit,
    "handoff": mentor_ladder.handoff,
}


async def _request_kind(turn: Turn, kind: str) -> None:
    """A request of one kind opened at once, as if chosen from "What would you like to ask for?"."""
    turn.goto("request", "kind")
    turn.choice = kind
    await requests.step(turn)


async def training(turn: Turn) -> None:
    """ "pengen ikut kursus jahit": the training topics."""
    await _request_kind(turn, "pelatihan")


async def cooperative(turn: Turn) -> None:
    """ "daftar koperasi": the cooperative's conditions and the question to apply."""
    await _request_kind(turn, "koperasi")


async def correction(turn: Turn) -> None:
    """ "nama sy salah di data": what the objection is about."""
    await _request_kind(turn, "sanggah")


# What each understood intent opens (handlers.understand decides which one was meant).
INTENT_STEPS: dict[str, Step] = {
    "status": status.show,
    "training": training,
    "cooperative": cooperative,
    "report": reports.begin,
    "correction": correction,
    "mentor": common.my_mentor,
    "help": common.help_text,
    "greeting": common.greet,
    "thanks": common.thanks,
    "voice": common.voice_note,
    "my_data": rights.show,
    "erase": rights.begin_erase,
    "find_business": alumni.find,
}
# Intents answered on the side: the waiting question is repeated after them.
DETOURS: set[str] = {"status", "mentor", "help", "greeting", "thanks"}

# Steps that wait for the person's own words: there a long message is an answer, not an intent.
TEXT_STEPS: set[tuple[str, str]] = {
    ("report", "omzet"),
    ("report", "problem_note"),
    ("request", "note"),
    ("request", "words"),
    ("link", "code"),
    ("link", "nik"),
    ("link", "kk"),
    ("visit", "note"),
    ("handoff", "note"),
    ("propose", "name"),
    ("propose", "desa"),
    ("propose", "phone"),
    ("propose", "about"),
    ("alumni", "name"),
    ("alumni", "search"),
    ("partner", "plan"),
    ("partner", "reason"),
}


def expects_text(turn: Turn) -> bool:
    """The current step waits for words of the person's own (and the message fits it)."""
    where = (turn.conversation.journey, turn.conversation.step)
    if where == ("report", "omzet"):
        return parse_rupiah(turn.text) is not None
    return where in TEXT_STEPS or turn.conversation.journey in ("visit", "handoff")


async def choose_intent(turn: Turn, arg: str) -> None:
    """ "Do you mean: 1. … 2. …?" answered: that intent's journey."""
    step = INTENT_STEPS.get(arg)
    await (step(turn) if step is not None else menu.show(turn))


ACTIONS["intent"] = choose_intent
