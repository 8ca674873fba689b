"""rights: DATA SAYA → the family's data · HAPUS DATA → restrict or erase → confirm · usul → consent → name → desa → phone → story → sent.

The family's rights under UU PDP No. 27/2022: to see its data (every look is audited), to
correct it (the sanggah request of handlers/requests.py), and to have Sinergi stop using it or
erase it (a `hapus` request that Dinsos answers within 3×24 hours; the erasure itself is
storage/erasure.py, run when staff approve).
"""

from __future__ import annotations

from bot.messages import Choice
from handlers import menu, notices, requests
from handlers.labels import (
    ERASURE_KINDS,
    PROGRAM_NAMES,
    PROGRAM_STATUS_NAMES,
    report_summary,
    request_kind,
    request_state,
)
from handlers.turn import Turn
from handlers.understand import normalise
from locales.i18n import _, long_date
from storage import audit, calendar, outbox, proposals
from storage import reports as report_store
from storage import requests as request_store
from storage.crypto import mask_name, mask_nik
from storage.households import programs_of
from storage.models import Household, Mentor, ProgramEnrollment, Region
from storage.normalize import phone_e164
from storage.requests import CLOSED

# Each message stays short enough to read on a cheap phone (and under WhatsApp's limits).
MAX_MESSAGE = 600


def mask_phone(phone: str | None) -> str:
    """`+62*******0001`: the last four digits, enough to recognise one's own number."""
    if not phone:
        return "-"
    keep = 4 if len(phone) > 6 else 0
    return phone[:3] + "*" * (len(phone) - 3 - keep) + phone[len(phone) - keep :]


async def show(turn: Turn) -> None:
    """DATA SAYA: the family sees what Sinergi keeps about it, where it came from, what it can do."""
    household = await turn.household()
    if household is None:
        turn.say(_("DATA SAYA shows a family's own data. It works in a family's chat."))
        await menu.show(turn)
        return
    sections = [
        _identity_section(household),
        await _programs_section(turn, household.id),
        await _requests_section(turn, household.id),
        await _reports_section(turn, household.id),
        await _mentor_section(turn, household.mentor_id),
    ]
    audit.record_on(
        turn.session,
        household,
        actor=f"chat:{turn.identity.id}",
        action="rights.data_seen",
        now=turn.now,
    )
    for text in split_messages([s for s in sections if s]):
        turn.say(text)
    turn.goto("rights", "next")
    turn.say(
        _(
            "What you can do:\n"
            "1. Something is wrong or missing: ask for a correction.\n"
            "2. Ask Sinergi to stop using or to erase your data (HAPUS DATA)."
        ),
        [
            Choice("sanggah", _("Correct my data")),
            Choice("hapus", _("Stop using or erase my data")),
        ],
    )


def split_messages(sections: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Sections joined into as few messages as fit under `limit`; a long section is cut at lines."""
    pieces: list[str] = []
    for section in sections:
        pieces += _cut(section, limit)
    messages: list[str] = []
    for piece in pieces:
        if messages and len(messages[-1]) + 2 + len(piece) <= limit:
            messages[-1] += "\n\n" + piece
        else:
            messages.append(piece)
    return messages


def _cut(section: str, limit: int) -> list[str]:
    """One section in parts of whole lines, each under `limit`."""
    parts: list[str] = []
    for line in section.split("\n"):
        line = line[:limit]
        if parts and len(parts[-1]) + 1 + len(line) <= limit:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts


def _identity_section(household: Household) -> str:
    """Who the family is in Sinergi's data, masked."""
    place = ", ".join(p for p in (household.desa, household.kecamatan, household.kabupaten) if p)
    return "\n".join(
        [
            _("The data Sinergi keeps about your family:"),
            _("Name: {name}").format(name=mask_name(household.name)),
            _("No. KK: {kk}").format(kk=mask_nik(household.no_kk)),
            _("NIK: {nik}").format(nik=household.nik_masked),
            _("Village: {place}").format(place=place or "-"),
            _("Phone: {phone}").format(phone=mask_phone(household.phone)),
        ]
    )


async def _programs_section(turn: Turn, household_id: int) -> str:
    """Each program, its state, and where the data came from and as of when."""
    programs = await programs_of(turn.session, household_id)
    if not programs:
        return _("Programs: none on record.")
    return "\n".join([_("Programs:"), *(_program_line(p) for p in programs)])


def _program_line(program: ProgramEnrollment) -> str:
    """`- PKH: sudah disalurkan (data dari DTSEN Kemensos per 10 November 2026)`."""
    name = (
        _(PROGRAM_NAMES[program.program]) if program.program in PROGRAM_NAMES else program.program
    )
    status = program.status
    if status in PROGRAM_STATUS_NAMES:
        status = _(PROGRAM_STATUS_NAMES[status])
    return _("- {program}: {status} (data from {source} as of {date})").format(
        program=name, status=status, source=program.source, date=long_date(program.as_of)
    )


async def _requests_section(turn: Turn, household_id: int) -> str:
    """The family's requests that are still open."""
    rows = [
        r
        for r in await request_store.of_household(turn.session, household_id)
        if r.state not in CLOSED
    ]
    if not rows:
        return _("Open requests: none.")
    lines = [
        _("- {reference} · {what}: {state}").format(
            reference=r.reference, what=request_kind(r), state=request_state(r)
        )
        for r in rows
    ]
    return "\n".join([_("Open requests:"), *lines])


async def _reports_section(turn: Turn, household_id: int) -> str:
    """The last three business reports, one line each."""
    rows = await report_store.recent(turn.session, household_id, limit=3)
    if not rows:
        return _("Business reports: none yet.")
    lines = [f"- {r.period}: {report_summary(r)}" for r in rows]
    return "\n".join([_("Last business reports:"), *lines])


async def _mentor_section(turn: Turn, mentor_id: int | None) -> str:
    """Who the family's mentor is."""
    mentor = await turn.session.get(Mentor, mentor_id) if mentor_id else None
    if mentor is None:
        return _("Mentor: none yet.")
    return _("Mentor: {name} ({phone})").format(name=mentor.name, phone=mentor.phone)


async def step(turn: Turn) -> None:
    """Dispatch within the rights journey."""
    handler = {"next": _next, "erase_kind": _erase_kind, "erase_confirm": _erase_confirm}.get(
        turn.step, _next
    )
    await handler(turn)


async def _next(turn: Turn) -> None:
    """After DATA SAYA: a correction or HAPUS DATA; anything else is the menu's."""
    if turn.choice == "sanggah":
        turn.goto("request", "kind")
        turn.choice = "sanggah"
        await requests.step(turn)
    elif turn.choice == "hapus":
        await begin_erase(turn)
    else:
        turn.goto("menu", "choose")
        await menu.step(turn)


async def begin_erase(turn: Turn) -> None:
    """HAPUS DATA: the family chooses to have its data no longer used, or erased."""
    if await turn.household() is None:
        turn.say(_("HAPUS DATA is for a family's own data. It works in a family's chat."))
        await menu.show(turn)
        return
    turn.goto("rights", "erase_kind")
    turn.say(
        _(
            "You can ask Sinergi to stop using your data, or to erase it. "
            "Dinsos answers within 3 days (3×24 hours).\n\n"
            "Your entry in the government's register (DTSEN) is not Sinergi's to erase. "
            "It stays with the government, and your aid does not change.\n\n"
            "What do you want?"
        ),
        [Choice(key, _(label)) for key, label in ERASURE_KINDS.items()],
    )


async def _erase_kind(turn: Turn) -> None:
    """The choice made, the family reads what will happen and confirms."""
    if turn.choice not in ERASURE_KINDS:
        await begin_erase(turn)
        return
    turn.goto("rights", "erase_confirm", kind=turn.choice)
    if turn.choice == "restrict":
        what = _(
            "Sinergi will stop using your data and send you no more messages. "
            "Your data stays stored, unused."
        )
    else:
        what = _(
            "Sinergi will erase your chats, photos, voice messages, what you wrote in "
            "reports and requests, and your phone number. This chat will be disconnected."
        )
    turn.say(
        what + "\n\n" + _("Send this request to Dinsos?"),
        [Choice("yes", _("Yes")), Choice("no", _("No"))],
    )


async def _erase_confirm(turn: Turn) -> None:
    """Yes files the request in the region's Dinsos queue, with its deadline; No goes back."""
    household = await turn.household()
    kind = turn.data.get("kind")
    if household is None or kind not in ERASURE_KINDS or turn.choice == "no":
        await menu.show(turn, _("Nothing was sent.") + "\n\n" + _("Main menu. Choose a number:"))
        return
    if turn.choice != "yes":
        turn.say(
            _("Please choose 1 (Yes) or 2 (No)."), [Choice("yes", _("Yes")), Choice("no", _("No"))]
        )
        return
    row, created = await request_store.file_request(
        turn.session,
        household=household,
        kind="hapus",
        topic=kind,
        details=None,
        actor=f"chat:{turn.identity.id}",
        now=turn.now,
    )
    if created:
        hours = outbox.within_hours(household.region_code, turn.rules.delivery_hours)
        await notices.request_filed(turn.session, row, household, now=turn.now, hours=hours)
    due = row.due_at or turn.now
    text = _(
        "Your request is sent to Dinsos. Number: {reference}.\n"
        "Dinsos answers by {date}. If Dinsos does not agree, we tell you why here."
    ).format(reference=row.reference, date=long_date(calendar.local_day(due, row.region_code)))
    await menu.show(turn, text + "\n\n" + _("Main menu. Choose a number:"))


# Usul: a family not on the roster ----------------------------------------------------------

# Words that say "my family is not on the list" at the linking step (normalised like messages).
NOT_REGISTERED = (
    "belum terdaftar",
    "tidak terdaftar",
    "belum terdata",
    "tidak terdata",
    "tidak ada di data",
    "belum ada di data",
    "tidak ada di daftar",
    "belum masuk data",
    "not registered",
)
MAX_NAME = 120


def says_not_registered(text: str) -> bool:
    """ "saya belum terdaftar", "keluarga saya tidak ada di data"."""
    words = f" {normalise(text)} "
    return any(f" {normalise(p)} " in words for p in NOT_REGISTERED)


async def begin_proposal(turn: Turn) -> None:
    """The person hears what a proposal is and what is asked, and agrees first."""
    if turn.identity.household_id is not None:
        turn.say(_("Your family is already registered. To correct your data, type SANGGAH."))
        await menu.show(turn)
        return
    if (
        await proposals.recent_count(
            turn.session, identity_id=turn.identity.id, phone=None, now=turn.now
        )
        >= proposals.LIMIT
    ):
        await _too_many(turn)
        return
    turn.goto("propose", "consent")
    turn.say(
        _(
            "You can propose your family to the village office and Dinsos. We ask four "
            "things: the name, the village, a phone number and a short story of your "
            "situation. No NIK is needed.\n\n"
            "The village operator and Dinsos of your area read it, and may visit you. "
            "This chat does not decide who receives aid.\n\n"
            "Do you agree to send these data?"
        ),
        [Choice("yes", _("Yes")), Choice("no", _("No"))],
    )


async def _too_many(turn: Turn) -> None:
    """The limit reached: the office already has the proposals; nothing more is taken."""
    from handlers import start  # a cycle at import time otherwise: start shows the menu

    turn.say(
        _(
            "A proposal was already sent from this chat or for this number. "
            "The office will contact you. Please wait for their answer."
        )
    )
    await start.offer_ways(turn)


async def proposal_step(turn: Turn) -> None:
    """Dispatch within the proposal journey."""
    handler = {
        "consent": _proposal_consent,
        "name": _proposal_name,
        "desa": _proposal_desa,
        "phone": _proposal_phone,
        "about": _proposal_about,
        "confirm": _proposal_confirm,
    }.get(turn.step, _proposal_consent)
    await handler(turn)


async def _proposal_consent(turn: Turn) -> None:
    """Yes asks the name; No goes back to the ways of linking."""
    from handlers import start  # a cycle at import time otherwise

    if turn.choice == "yes":
        turn.goto("propose", "name")
        turn.say(_("Please type the name of the head of the family."))
    elif turn.choice == "no":
        turn.say(_("Nothing was sent."))
        await start.offer_ways(turn)
    else:
        await begin_proposal(turn)


def _typed(turn: Turn, limit: int) -> str | None:
    """Words typed (not a button), trimmed to `limit`, or None."""
    if turn.inbound.kind != "text" or turn.choice is not None or len(turn.text.strip()) < 3:
        return None
    return turn.text.strip()[:limit]


async def _proposal_name(turn: Turn) -> None:
    """The name, then the village."""
    name = _typed(turn, MAX_NAME)
    if name is None:
        turn.say(_("Please type the name as text."))
        return
    turn.goto("propose", "desa", name=name)
    turn.say(_("Which village (desa or kelurahan) do you live in?"))


async def _proposal_desa(turn: Turn) -> None:
    """The village found on Sinergi's map (one of a few shown to choose), then the phone."""
    if turn.choice and turn.choice.startswith("desa:"):
        region = await turn.session.get(Region, turn.choice[5:])
        found = [region] if region is not None and region.level == proposals.DESA_LEVEL else []
    else:
        found = await proposals.desa_named(turn.session, turn.text) if _typed(turn, 120) else []
    if not found:
        turn.say(_("We cannot find that village. Please type its name again, as on your KTP."))
        return
    if len(found) > 1:
        turn.say(_("Which one is it?"), [Choice(f"desa:{r.code}", r.name) for r in found])
        return
    turn.goto("propose", "phone", **turn.data, region=found[0].code, desa=found[0].name)
    turn.say(_("Which phone number can the office call? For example 0812 3456 7890."))


async def _proposal_phone(turn: Turn) -> None:
    """A phone number (checked against the limit), then the short story."""
    phone = phone_e164(turn.text) if turn.inbound.kind == "text" else None
    if phone is None:
        turn.say(_("Please type a phone number, for example 0812 3456 7890."))
        return
    if (
        await proposals.recent_count(
            turn.session, identity_id=turn.identity.id, phone=phone, now=turn.now
        )
        >= proposals.LIMIT
    ):
        await _too_many(turn)
        return
    turn.goto("propose", "about", **turn.data, phone=phone)
    turn.say(
        _(
            "In a few sentences: what is your family's situation? For example work, "
            "children, illness, house."
        )
    )


async def _proposal_about(turn: Turn) -> None:
    """The story, then everything read back before it is sent."""
    about = _typed(turn, proposals.MAX_TEXT)
    if about is None:
        turn.say(_("Please write it as text, in a few sentences."))
        return
    turn.goto("propose", "confirm", **turn.data, about=about)
    data = turn.data
    turn.say(
        _("Please check:\nName: {name}\nVillage: {desa}\nPhone: {phone}\nStory: {about}").format(
            name=data["name"], desa=data["desa"], phone=data["phone"], about=about[:200]
        )
        + "\n\n"
        + _("Send this proposal?"),
        [Choice("yes", _("Yes, send it")), Choice("no", _("No"))],
    )


async def _proposal_confirm(turn: Turn) -> None:
    """Yes files the proposal in the village's queue; No sends nothing."""
    from handlers import start  # a cycle at import time otherwise

    data = turn.data
    if turn.choice != "yes" or not data.get("region"):
        turn.say(_("Nothing was sent."))
        await start.offer_ways(turn)
        return
    row = await proposals.file_proposal(
        turn.session,
        identity_id=turn.identity.id,
        name=str(data["name"]),
        phone=data.get("phone"),
        region_code=str(data["region"]),
        about=data.get("about"),
        now=turn.now,
    )
    audit.record(
        turn.session,
        actor=f"chat:{turn.identity.id}",
        action="proposal.filed",
        now=turn.now,
        region_code=row.region_code,
        reference=row.reference,
    )
    turn.goto("link", "choose")
    turn.say(
        _(
            "Your proposal is sent. Number: {reference}.\n"
            "The village operator and Dinsos will read it. We will tell you here what they decide."
        ).format(reference=row.reference)
    )
