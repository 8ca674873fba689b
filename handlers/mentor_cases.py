"""mentor_cases: new reports and requests · families that need a look · visit: which → met? → business → note → saved."""

from __future__ import annotations

from datetime import timedelta

from bot.messages import Choice
from handlers import labels, menu
from handlers.reports import month_label
from handlers.requests import describe as describe_request
from handlers.turn import Turn
from locales.i18n import _
from storage import reports, requests, visits
from storage.models import Household

NEW_WINDOW = timedelta(days=30)
FLAG_WINDOW = timedelta(days=90)
VISIT_STATES = {**labels.BUSINESS_STATES}


async def new_items(turn: Turn) -> None:
    """The mentor sees the last month's reports and the open requests of their households."""
    mentor_id = turn.identity.mentor_id
    if mentor_id is None:
        await menu.show(turn)
        return
    sent = await reports.new_of_mentor(
        turn.session, mentor_id=mentor_id, since=turn.now - NEW_WINDOW
    )
    asked = await requests.open_of_mentor(turn.session, mentor_id=mentor_id)
    parts = [_("Reports of the last 30 days:")]
    parts += [_report_line(r, h) for r, h in sent] or [_("(none)")]
    parts += ["", _("Open requests:")]
    parts += [f"{h.name}: {describe_request(r)}" for r, h in asked] or [_("(none)")]
    turn.goto("menu", "choose")
    turn.say("\n".join(parts) + "\n\n" + _("Type MENU for the menu."))


def _report_line(report: reports.ProgressReport, household: Household) -> str:
    """`Siti Aminah (…0001), November 2026: Running · omzet Rp1.500.000`."""
    line = _("{name} (No. KK ending {kk}), {month}: {summary}").format(
        name=household.name,
        kk=household.no_kk[-4:],
        month=month_label(report.period),
        summary=labels.report_summary(report),
    )
    return ("⚠️ " + line) if report.flagged else line


async def flagged(turn: Turn) -> None:
    """The mentor sees flagged families not visited since, and can record a visit to one."""
    mentor_id = turn.identity.mentor_id
    if mentor_id is None:
        await menu.show(turn)
        return
    rows = await reports.flagged_of_mentor(
        turn.session, mentor_id=mentor_id, since=turn.now - FLAG_WINDOW
    )
    if not rows:
        turn.goto("menu", "choose")
        turn.say(_("No family needs a look now. Type MENU for the menu."))
        return
    lines = [_report_line(r, h) + _flag_reasons(r) + _phone(h) for r, h in rows]
    turn.goto("visit", "pick")
    turn.say(
        _("These families need a look (no visit recorded since their report):")
        + "\n\n"
        + "\n\n".join(lines)
        + "\n\n"
        + _("Choose one to record a visit, or type MENU."),
        [Choice(f"hh:{h.id}", h.name, h.no_kk[-4:]) for _r, h in rows],
    )


def _flag_reasons(report: reports.ProgressReport) -> str:
    """Why the report was flagged, on its own line."""
    reasons = labels.report_flags(report)
    return ("\n" + _("Why: {reasons}").format(reasons=reasons)) if reasons else ""


def _phone(household: Household) -> str:
    """The family's phone, to call."""
    return ("\n" + _("Phone: {phone}").format(phone=household.phone)) if household.phone else ""


async def begin_visit(turn: Turn) -> None:
    """The mentor is asked which family they visited."""
    turn.goto("visit", "which")
    turn.say(_("Which family did you visit? Type its No. KK or part of the name."))


async def visit_step(turn: Turn) -> None:
    """Dispatch within the visit journey."""
    handler = {"which": _which, "pick": _which, "met": _met, "state": _state, "note": _note}.get(
        turn.step, _which
    )
    await handler(turn)


async def _which(turn: Turn) -> None:
    """A button or a single match chooses the family; several matches give a list."""
    mentor_id = turn.identity.mentor_id
    if mentor_id is None:
        await menu.show(turn)
        return
    if turn.choice and turn.choice.startswith("hh:") and turn.choice[3:].isdigit():
        household = await visits.own_household(
            turn.session, mentor_id=mentor_id, household_id=int(turn.choice[3:])
        )
        if household is not None:
            await _ask_met(turn, household)
            return
    found = await visits.find_households(turn.session, mentor_id=mentor_id, text=turn.text)
    if len(found) == 1:
        await _ask_met(turn, found[0])
    elif found:
        turn.goto("visit", "pick")
        turn.say(_("Which family?"), [Choice(f"hh:{h.id}", h.name, h.no_kk[-4:]) for h in found])
    else:
        turn.goto("visit", "which")
        turn.say(_("None of your families matches. Type the No. KK or a name, or BATAL."))


async def _ask_met(turn: Turn, household: Household) -> None:
    """Did the mentor meet the family?"""
    turn.goto("visit", "met", household_id=household.id, name=household.name)
    turn.say(
        _("Visit to {name}. Did you meet the family?").format(name=household.name),
        [Choice("met", _("Yes, we met")), Choice("not_met", _("No, nobody was there"))],
    )


async def _met(turn: Turn) -> None:
    """Met asks about the business; not met goes straight to the note."""
    if turn.choice not in ("met", "not_met"):
        turn.say(
            _("Please choose one of the answers."),
            [Choice("met", _("Yes, we met")), Choice("not_met", _("No, nobody was there"))],
        )
        return
    turn.remember(met=turn.choice == "met")
    if turn.choice == "met":
        turn.conversation.step = "state"
        turn.say(_("How is the business?"), _state_choices())
    else:
        await _ask_note(turn)


def _state_choices() -> list[Choice]:
    """Running, stopped, closed, or not known."""
    return [Choice(k, _(label)) for k, label in VISIT_STATES.items()] + [
        Choice("unknown", _("I do not know"))
    ]


async def _state(turn: Turn) -> None:
    """The business state as the mentor saw it."""
    if turn.choice not in (*VISIT_STATES, "unknown"):
        turn.say(_("Please choose one of the answers."), _state_choices())
        return
    turn.remember(business_state=None if turn.choice == "unknown" else turn.choice)
    await _ask_note(turn)


async def _ask_note(turn: Turn) -> None:
    """A short note, or Skip."""
    turn.conversation.step = "note"
    turn.say(_("Write a short note about the visit, or choose Skip."), [Choice("skip", _("Skip"))])


async def _note(turn: Turn) -> None:
    """The visit is saved and the mentor is back at the menu."""
    note = turn.text.strip() if turn.inbound.kind == "text" and turn.choice is None else None
    if not note and turn.choice != "skip":
        await _ask_note(turn)
        return
    mentor_id, household_id = turn.identity.mentor_id, turn.data.get("household_id")
    if mentor_id is None or not isinstance(household_id, int):
        await menu.show(turn)
        return
    try:
        await visits.record_visit(
            turn.session,
            mentor_id=mentor_id,
            household_id=household_id,
            met=bool(turn.data.get("met")),
            business_state=turn.data.get("business_state"),
            note=note,
            now=turn.now,
        )
    except PermissionError:
        await menu.show(
            turn, _("This family is no longer yours.") + "\n\n" + _("Main menu. Choose a number:")
        )
        return
    await menu.show(
        turn,
        _("Visit to {name} recorded. Thank you.").format(name=turn.data.get("name", ""))
        + "\n\n"
        + _("Main menu. Choose a number:"),
    )
