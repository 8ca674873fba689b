"""status: STATUS → each program of the household, its state, period, amount, and as of when."""

from __future__ import annotations

from handlers.labels import PROGRAM_NAMES, PROGRAM_STATUS_NAMES
from handlers.turn import Turn
from locales.i18n import _, long_date, rupiah
from storage import households
from storage.crypto import mask_name
from storage.models import Mentor, ProgramEnrollment


async def show(turn: Turn) -> None:
    """A linked household sees its programs; an unlinked chat is asked to link first."""
    from handlers import start  # a cycle at import time otherwise: start shows the menu

    household = await start.household_or_link(turn)
    if household is None:
        return
    programs = await households.programs_of(turn.session, household.id)
    turn.goto("menu", "choose")
    if not programs:
        turn.say(await _nothing_on_record(turn, household.mentor_id))
        return
    header = _("Aid status for the family of {name}:").format(name=mask_name(household.name))
    turn.say(
        "\n\n".join([header, *(describe(p) for p in programs)])
        + "\n\n"
        + _("Type MENU for the menu.")
    )


def describe(program: ProgramEnrollment) -> str:
    """Four short lines about one program: name and status, period, amount, as of when."""
    name = (
        _(PROGRAM_NAMES[program.program]) if program.program in PROGRAM_NAMES else program.program
    )
    status = program.status
    if status in PROGRAM_STATUS_NAMES:
        status = _(PROGRAM_STATUS_NAMES[status])
    lines = [
        _("{program}: {status}").format(program=name, status=status),
        _("Period: {period}").format(period=program.period),
    ]
    if program.amount:
        lines.append(_("Amount: {amount}").format(amount=rupiah(program.amount)))
    lines.append(
        _("as of {date} ({source})").format(date=long_date(program.as_of), source=program.source)
    )
    return "\n".join(lines)


async def _nothing_on_record(turn: Turn, mentor_id: int | None) -> str:
    """Nothing on record, and whom to ask."""
    mentor = await turn.session.get(Mentor, mentor_id) if mentor_id else None
    if mentor is not None:
        return _(
            "We have no program on record for your family yet. Please ask your mentor, "
            "{name} ({phone})."
        ).format(name=mentor.name, phone=mentor.phone)
    return _(
        "We have no program on record for your family yet. Please ask the village "
        "office or the Social Service Office (Dinsos)."
    )
