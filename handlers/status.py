"""status: STATUS → each program of the household, its state, period, amount, and as of when;
then its cooperative membership and what it still owes."""

from __future__ import annotations

from handlers import notices
from handlers.common import mentor_title
from handlers.labels import PROGRAM_NAMES, PROGRAM_STATUS_NAMES
from handlers.turn import Turn
from locales.i18n import _, long_date, rupiah
from storage import calendar, households, memberships
from storage.crypto import mask_name
from storage.models import Mentor, ProgramEnrollment


async def show(turn: Turn) -> None:
    """A linked household sees its programs; an unlinked chat is asked to link first."""
    from handlers import start  # a cycle at import time otherwise: start shows the menu

    household = await start.household_or_link(turn)
    if household is None:
        return
    programs = await households.programs_of(turn.session, household.id)
    today = calendar.period_day(turn.now)
    cooperatives = [
        "\n".join(notices.membership_lines(row, coop, today))
        for row, coop in await memberships.of_household(turn.session, household.id)
    ]
    turn.goto("menu", "choose")
    if not programs and not cooperatives:
        turn.say(await _nothing_on_record(turn, household.mentor_id))
        return
    # The news first (each program and where it stands); whose aid it is closes the message.
    footer = _("Aid of the family of {name}. Type MENU for the menu.").format(
        name=mask_name(household.name)
    )
    turn.say("\n\n".join([*(describe(p) for p in programs), *cooperatives, footer]))


def describe(program: ProgramEnrollment) -> str:
    """Three short lines about one program: where it stands, how much for which period, and
    where the data comes from as of when."""
    name = (
        _(PROGRAM_NAMES[program.program]) if program.program in PROGRAM_NAMES else program.program
    )
    status = program.status
    if status in PROGRAM_STATUS_NAMES:
        status = _(PROGRAM_STATUS_NAMES[status])
    what = (
        _("{amount} for {period}").format(amount=rupiah(program.amount), period=program.period)
        if program.amount
        else _("For {period}").format(period=program.period)
    )
    source = _("(data from {source} as of {date})").format(
        source=program.source, date=long_date(program.as_of)
    )
    return "\n".join([_("{program}: {status}").format(program=name, status=status), what, source])


async def _nothing_on_record(turn: Turn, mentor_id: int | None) -> str:
    """Nothing on record, and whom to ask."""
    mentor = await turn.session.get(Mentor, mentor_id) if mentor_id else None
    if mentor is not None:
        return _(
            "We have no program on record for your family yet. Please ask your mentor, "
            "{name} ({phone})."
        ).format(name=mentor_title(mentor), phone=mentor.phone)
    return _(
        "We have no program on record for your family yet. Please ask the village "
        "office or the Social Service Office (Dinsos)."
    )
