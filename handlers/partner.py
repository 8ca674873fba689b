"""partner: the office's own chat — referrals waiting → one → accept (a date or a plan) |
decline (a reason) | close (an outcome), everyone told.

A partner's chat is linked to their staff account (`ChatIdentity.staff_id`) by the number on
it, as a mentor's is (handlers/start.py). Every step reads through the partner's `Seat`
(storage/partners.py): their organisation's referrals only, with the minimum to act (name,
desa, phone, what is asked and why), never a NIK, a program or a conversation. A referral of
another organisation, even pressed or typed by its number, looks like none at all.
"""

from __future__ import annotations

import re
from datetime import date

from bot.messages import Choice
from handlers import labels, menu
from handlers import referrals as handoffs
from handlers.turn import Turn
from locales.i18n import N_, _, long_date
from storage import partners, referrals
from storage.models import Referral
from storage.partners import Handoff, Seat
from storage.scope import NotFound

# How many referrals one list shows (a chat list, not a page).
LIST_SIZE = 9
# What one line of the list holds (a WhatsApp list row's description is 72 characters).
LINE = 72
# A date typed as the plan: 15-01-2027, 15/1/2027 or 2027-01-15.
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


async def seat(turn: Turn) -> Seat | None:
    """The chat's partner seat; a chat whose account was switched off is unlinked and told."""
    found = await partners.seat_of(turn.session, turn.identity.staff_id)
    if found is None and turn.identity.staff_id is not None:
        turn.identity.staff_id, turn.identity.link_method = None, None
        turn.goto("menu", "")
        turn.say(
            _(
                "This chat is no longer linked to a partner account. Please contact Dinsos "
                "if you still need it."
            )
        )
    return found


# What each list holds, and what it says above and when empty.
LISTS = {
    "dikirim": (
        N_("Referrals waiting for your answer. Choose a number:"),
        N_("No referral is waiting for your answer."),
    ),
    "diterima": (
        N_("Accepted referrals. Choose one to close it with its result:"),
        N_("No accepted referral is open."),
    ),
}


async def waiting(turn: Turn) -> None:
    """The partner sees their office's referrals waiting for an answer, oldest first, numbered."""
    await _listing(turn, "dikirim")


async def accepted(turn: Turn) -> None:
    """The partner sees the referrals they accepted, to close each with what came of it."""
    await _listing(turn, "diterima")


async def _listing(turn: Turn, state: str, intro: str = "") -> None:
    """One numbered list of the office's referrals in `state`; the menu when there is none."""
    found = await seat(turn)
    if found is None:
        return
    title, empty = LISTS[state]
    rows = await partners.queue(turn.session, found, state=state, limit=LIST_SIZE)
    if not rows:
        await menu.show(turn, _(empty) + "\n\n" + _("Partner menu. Choose a number:"))
        return
    turn.goto("partner", "pick", state=state)
    turn.say(intro + _(title), [Choice(f"ref:{r.id}", _line(r)) for r in rows])


def _line(row: Handoff) -> str:
    """`Siti Aminah, Sempaja: pelatihan menjahit`: name, desa and what is asked, on one line."""
    text = f"{row.name}, {row.desa or '-'}: {row.asked}"
    return text if len(text) <= LINE else text[: LINE - 1] + "…"


async def step(turn: Turn) -> None:
    """Dispatch within the partner's journey."""
    handler = {
        "pick": _picked,
        "act": _act,
        "plan": _plan,
        "reason": _reason,
        "outcome": _outcome,
    }.get(turn.step, _picked)
    await handler(turn)


async def _picked(turn: Turn) -> None:
    """A referral chosen from the list is shown with what can be done with it."""
    choice = turn.choice or ""
    if not choice.startswith("ref:") or not choice[4:].isdigit():
        state = turn.data.get("state")
        if state in LISTS:  # a number not on the list: the list again
            await _listing(turn, state, _("Please choose one of the numbers, or type BATAL.") + " ")
        else:
            await menu.show(turn)
        return
    row = await _handoff(turn, int(choice[4:]))
    if row is None:
        return
    moves = referrals.MOVES.get(row.state, set())
    options = []
    if "diterima" in moves:
        options.append(Choice("accept", _("Accept")))
    if "ditolak" in moves:
        options.append(Choice("decline", _("Decline")))
    if "selesai" in moves:
        options.append(Choice("close", _("Close with a result")))
    options.append(Choice("back", _("Back to the menu")))
    turn.goto("partner", "act", referral_id=row.id)
    turn.say(_details(row), options)


async def _handoff(turn: Turn, referral_id: int) -> Handoff | None:
    """The referral, only when it was sent to this partner's office; otherwise the menu."""
    found = await seat(turn)
    if found is None:
        return None
    try:
        return await partners.handoff(turn.session, found, referral_id)
    except NotFound:
        await menu.show(
            turn,
            _("This referral is not among your office's referrals.")
            + "\n\n"
            + _("Partner menu. Choose a number:"),
        )
        return None


def _details(row: Handoff) -> str:
    """What the partner needs to answer: who, where, their number, what is asked and why, by when."""
    lines = [
        _("Referral for {name} ({desa}).").format(name=row.name, desa=row.desa or "-"),
        _("Asks for: {asked}").format(asked=row.asked),
    ]
    if row.why:
        lines.append(_("Why: {why}").format(why=row.why))
    if row.phone:
        lines.append(_("Phone: {phone}").format(phone=row.phone))
    state = _(labels.REFERRAL_STATE_NAMES.get(row.state, row.state))
    lines.append(_("Status: {state}.").format(state=state))
    if row.state == "dikirim" and row.answer_by:
        lines.append(_("Please answer by {date}.").format(date=long_date(row.answer_by)))
    if row.state == "diterima" and (row.plan or row.plan_date):
        plan = row.plan or (long_date(row.plan_date) if row.plan_date else "")
        lines.append(_("Plan: {plan}").format(plan=plan))
    return "\n".join(lines)


async def _act(turn: Turn) -> None:
    """Accept asks for a date or a plan, decline for a reason, close for the result."""
    referral_id = int(turn.data.get("referral_id") or 0)
    if turn.choice == "accept":
        turn.goto("partner", "plan", referral_id=referral_id)
        turn.say(
            _(
                "When or how will you help? Type a date (for example 15-01-2027) or a short "
                "plan. Type BATAL to go back."
            )
        )
    elif turn.choice == "decline":
        turn.goto("partner", "reason", referral_id=referral_id)
        turn.say(
            _(
                "Why can your office not take it on? Type a short reason; the family and "
                "their mentor will read it. Type BATAL to go back."
            )
        )
    elif turn.choice == "close":
        turn.goto("partner", "outcome", referral_id=referral_id)
        turn.say(
            _("What came of it? Choose a number:"),
            [
                Choice(key, _(labels.OUTCOME_NAMES[key]))
                for key in referrals.OUTCOMES
                if key in labels.OUTCOME_NAMES
            ],
        )
    else:
        await menu.show(turn)


def typed_date(text: str) -> date | None:
    """The date typed as the whole answer (15-01-2027, 15/1/2027, 2027-01-15), or None."""
    text = text.strip()
    dmy, ymd = _DMY.fullmatch(text), _YMD.fullmatch(text)
    try:
        if dmy:
            return date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
        if ymd:
            return date(int(ymd[1]), int(ymd[2]), int(ymd[3]))
    except ValueError:
        return None
    return None


async def _plan(turn: Turn) -> None:
    """A date or a plan accepts the referral; the family and its mentor hear it."""
    words = turn.text.strip()
    if turn.inbound.kind != "text" or len(words) < 2:
        turn.say(_("Please type a date or a short plan, or BATAL."))
        return
    day = typed_date(words)
    await _answer(turn, "accept", plan="" if day else words, plan_date=day)


async def _reason(turn: Turn) -> None:
    """A reason declines the referral; the family and its mentor hear it."""
    words = turn.text.strip()
    if turn.inbound.kind != "text" or len(words) < 3:
        turn.say(_("Please type a short reason, or BATAL."))
        return
    await _answer(turn, "decline", reason=words)


async def _outcome(turn: Turn) -> None:
    """A result chosen closes the accepted referral; the family and its mentor hear it."""
    if turn.choice not in referrals.OUTCOMES:
        turn.say(_("Please choose one of the numbers, or type BATAL."))
        return
    await _answer(turn, "close", outcome=turn.choice)


async def _answer(
    turn: Turn,
    action: str,
    *,
    plan: str = "",
    plan_date: date | None = None,
    reason: str = "",
    outcome: str = "",
) -> None:
    """The step recorded through the partner's seat, as the admin view records it; the
    household, its mentor and the audit trail are told, and the partner sees the menu."""
    found = await seat(turn)
    if found is None:
        return
    referral_id = int(turn.data.get("referral_id") or 0)
    try:
        row = await _record(turn, found, referral_id, action, plan, plan_date, reason, outcome)
    except NotFound:
        await _handoff(turn, referral_id)  # says it is not theirs
        return
    except referrals.ReferralError:
        await menu.show(
            turn,
            _("This referral was already answered.") + "\n\n" + _("Partner menu. Choose a number:"),
        )
        return
    await handoffs.answered(
        turn.session, row, actor=found.username, action=action, now=turn.now, via="chat"
    )
    done = {
        "accept": _("Accepted."),
        "decline": _("Declined."),
        "close": _("Closed."),
    }[action]
    await menu.show(
        turn,
        done
        + " "
        + _("The family and their mentor are told.")
        + "\n\n"
        + _("Partner menu. Choose a number:"),
    )


async def _record(
    turn: Turn,
    found: Seat,
    referral_id: int,
    action: str,
    plan: str,
    plan_date: date | None,
    reason: str,
    outcome: str,
) -> Referral:
    """The referral moved through storage/partners.py, the admin seat's own functions."""
    session, now = turn.session, turn.now
    if action == "accept":
        return await partners.accept(
            session, found, referral_id, plan=plan, plan_date=plan_date, now=now
        )
    if action == "decline":
        return await partners.decline(session, found, referral_id, reason=reason, now=now)
    return await partners.close(session, found, referral_id, outcome=outcome, note="", now=now)
