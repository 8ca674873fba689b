"""mentor_ladder: who is silent (pages of 8) → family → record a visit | hand to Dinsos → note → sent.

The mentor's side of the silent-household ladder. Buttons in the daily digest (`act:visit:ID`,
`act:silent:PAGE`) land here from any step; the visit itself is the mentor_cases journey.
"""

from __future__ import annotations

from datetime import date

from bot.messages import Choice
from handlers import mentor_cases, menu
from handlers.turn import Turn
from locales.i18n import _, long_date
from storage import calendar, escalations, ladder, mentors, visits
from storage.models import Household
from storage.priority import is_vulnerable

PAGE = 8  # a WhatsApp list holds 10 rows: 8 families, "next" and "back"


def _today(turn: Turn) -> date:
    """Today, as the ladder counts days."""
    return calendar.period_day(turn.now)


async def silent(turn: Turn) -> None:
    """The mentor sees the first page of their households that have gone silent."""
    await show_page(turn, 0)


async def show_page(turn: Turn, page: int) -> None:
    """One page of silent households, longest silent first, each a button to open it."""
    mentor_id = turn.identity.mentor_id
    if mentor_id is None:
        await menu.show(turn)
        return
    found = await ladder.silent_of_mentor(turn.session, mentor_id, offset=page * PAGE, limit=PAGE)
    rows, total = found.rows, found.total
    turn.goto("menu", "choose")
    if total == 0:
        turn.say(_("All your families have been in touch. Nobody is silent now."))
        return
    pages = (total + PAGE - 1) // PAGE
    page = min(page, pages - 1)
    lines = [_line(row, _today(turn)) for row in rows]
    text = _("Families that have not reported: {total} (page {page} of {pages}).").format(
        total=total, page=page + 1, pages=pages
    )
    if found.never:
        text += "\n" + _("Went quiet: {quiet}. Never connected to Sinergi: {never}.").format(
            quiet=found.quiet, never=found.never
        )
    text += (
        "\n"
        + "\n".join(lines)
        + "\n\n"
        + _("Choose a family to record a visit or hand it to Dinsos.")
    )
    turn.say(text, _page_choices(rows, page, pages))


def _line(row: ladder.SilentHousehold, today: date) -> str:
    """`• Dewi Lestari (Rawa Makmur): 9 days` or `… cannot be reached`."""
    place = f" ({row.desa})" if row.desa else ""
    if not row.connected:
        state = _("not connected yet: no chat of the family has reached Sinergi")
    elif row.reason == "unreachable":
        state = _("cannot be reached by chat")
    else:
        state = _("{days} days without news").format(days=(today - row.since).days)
    flag = " ⚠️ Dinsos" if row.rung == "dinsos" else ""
    return f"• {row.name}{place}: {state}{flag}"


def _page_choices(rows: list[ladder.SilentHousehold], page: int, pages: int) -> list[Choice]:
    """A button per family, then next/previous page."""
    choices = [Choice(f"act:family:{row.household_id}", row.name[:24]) for row in rows]
    if page + 1 < pages:
        choices.append(Choice(f"act:silent:{page + 1}", _("Next page")))
    if page > 0:
        choices.append(Choice(f"act:silent:{page - 1}", _("Previous page")))
    return choices


async def page_action(turn: Turn, arg: str) -> None:
    """The "next page" / "whole list" buttons."""
    await show_page(turn, int(arg) if arg.isdigit() else 0)


async def _own(turn: Turn, arg: str) -> Household | None:
    """The household of a button, only if it is this mentor's."""
    if turn.identity.mentor_id is None or not arg.isdigit():
        return None
    return await visits.own_household(
        turn.session, mentor_id=turn.identity.mentor_id, household_id=int(arg)
    )


async def family(turn: Turn, arg: str) -> None:
    """The mentor sees one silent family, its phone, and what they can do."""
    household = await _own(turn, arg)
    if household is None:
        await menu.show(turn)
        return
    state = await ladder.state_of(turn.session, household.id)
    text = household.name + (f" ({household.desa})" if household.desa else "")
    if state is not None and state.rung in ladder.SILENT:
        contact = (await mentors.last_contacts(turn.session, [household.id])).get(household.id)
        day = calendar.period_day(contact) if contact else state.cycle_start
        text += "\n" + _("No news since {day}.").format(day=long_date(day))
    if household.phone:
        text += "\n" + _("Phone: {phone}").format(phone=household.phone)
    turn.goto("menu", "choose")
    turn.say(
        text,
        [
            Choice(f"act:visit:{household.id}", _("Record a visit")),
            Choice(f"act:handoff:{household.id}", _("Hand to Dinsos")),
            Choice("act:silent:0", _("Back to the list")),
        ],
    )


async def visit(turn: Turn, arg: str) -> None:
    """A family's "record a visit" button: the visit journey, at "did you meet?"."""
    if await _own(turn, arg) is None:
        await menu.show(turn)
        return
    turn.goto("visit", "pick")
    turn.choice = f"hh:{arg}"
    await mentor_cases.visit_step(turn)


async def begin_handoff(turn: Turn) -> None:
    """The mentor is asked which family to hand to Dinsos."""
    turn.goto("handoff", "which")
    turn.say(_("Which family should Dinsos take up? Type its No. KK or part of the name."))


async def handoff(turn: Turn, arg: str) -> None:
    """A family's "hand to Dinsos" button: the mentor is asked for a note."""
    household = await _own(turn, arg)
    if household is None:
        await menu.show(turn)
        return
    _ask_note(turn, household)


def _ask_note(turn: Turn, household: Household) -> None:
    """What should Dinsos know?"""
    turn.goto("handoff", "note", household_id=household.id)
    turn.say(
        _(
            "Hand {name} to Dinsos. Write a short note: what happened, what the family needs."
        ).format(name=household.name)
    )


async def handoff_step(turn: Turn) -> None:
    """Which family (typed or chosen), then the note that goes with it."""
    if turn.step == "note":
        await _send(turn)
        return
    mentor_id = turn.identity.mentor_id
    if mentor_id is None:
        await menu.show(turn)
        return
    if turn.choice and turn.choice.startswith("hh:"):
        household = await _own(turn, turn.choice[3:])
        if household is not None:
            _ask_note(turn, household)
            return
    found = await visits.find_households(turn.session, mentor_id=mentor_id, text=turn.text)
    if len(found) == 1:
        _ask_note(turn, found[0])
    elif found:
        turn.goto("handoff", "which")
        turn.say(
            _("Which family?"), [Choice(f"hh:{h.id}", h.name[:24], h.no_kk[-4:]) for h in found]
        )
    else:
        turn.say(_("None of your families matches. Type the No. KK or a name, or BATAL."))


async def _send(turn: Turn) -> None:
    """The note goes to Dinsos of the family's kabupaten, with a due date in working days."""
    household = await _own(turn, str(turn.data.get("household_id", "")))
    note = turn.text.strip()
    if household is None or turn.identity.mentor_id is None:
        await menu.show(turn)
        return
    if len(note) < 3 or turn.inbound.kind != "text":
        turn.say(_("Please write a short note for Dinsos (or BATAL)."))
        return
    rules = turn.rules
    days = rules.vulnerable_sla_working_days if is_vulnerable(household) else rules.sla_working_days
    due = calendar.add_working_days(_today(turn), days)
    await escalations.hand_up(
        turn.session,
        household=household,
        mentor_id=turn.identity.mentor_id,
        note=note,
        now=turn.now,
        sla_due=due,
    )
    office = household.kabupaten or household.region_code[:4]
    await menu.show(
        turn,
        _("Sent to Dinsos {office}. They should follow up by {day}.").format(
            office=office, day=long_date(due)
        )
        + "\n\n"
        + _("Mentor menu:"),
    )
