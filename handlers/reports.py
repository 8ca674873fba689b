"""reports: menu → state → omzet → problem → (note) → (urgent) → photo → confirm (→ change) · RIWAYAT.

At most six questions. Answers are kept in the conversation and a draft row after each step, so
the household can stop and come back; a confirmed report replaces the month's earlier one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date

from bot.messages import Choice
from handlers import labels, menu, notices
from handlers.money import parse_rupiah
from handlers.turn import Turn
from locales.i18n import _, current_locale, rupiah
from storage import media, reports
from storage.models import Household
from storage.requests import LOCAL_TZ

QUESTIONS = ("state", "omzet", "problem", "problem_note", "urgent", "photo")
# An omzet below this, or this many times the last one, is read back before it is kept.
PLAUSIBLE_MIN = 10_000
PLAUSIBLE_JUMP = 10


def report_period(now: datetime, until_day: int) -> str:
    """The month a report made now is about: until `until_day` the one that just ended."""
    local = now.astimezone(LOCAL_TZ)
    if local.day > until_day:
        return f"{local:%Y-%m}"
    first = local.date().replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


def month_label(period: str) -> str:
    """`November 2026` in the active language."""
    year, month = (int(p) for p in period.split("-"))
    return format_date(date(year, month, 1), "LLLL y", locale=current_locale())


async def begin(turn: Turn) -> None:
    """A new report, the unfinished one continued, or the month's sent one offered for replacing."""
    household = await turn.household()
    if household is None:
        await menu.show(turn)
        return
    period = report_period(turn.now, turn.rules.report_previous_month_until_day)
    row = await reports.of_period(turn.session, household.id, period)
    if row is not None and row.status == "complete":
        turn.goto("report", "replace", period=period)
        turn.say(
            _(
                "You already sent the report for {month}:\n{summary}\n\nMake a new one to "
                "replace it?"
            ).format(month=month_label(period), summary=labels.report_summary(row)),
            [Choice("yes", _("Yes, make a new one")), Choice("no", _("No"))],
        )
        return
    answers = reports.answers_of(row) if row is not None else {}
    turn.goto("report", "", period=period, answers=answers)
    if answers:
        intro = _("Let us continue your report for {month}.").format(month=month_label(period))
    else:
        intro = _(
            "Business report for {month}: a few short questions. You can stop and "
            "continue later from the menu."
        ).format(month=month_label(period))
    await _ask_next(turn, intro)


async def step(turn: Turn) -> None:
    """Dispatch within the report journey; media is read only where a photo is asked."""
    if turn.step == "replace":
        await _replace(turn)
        return
    if turn.inbound.kind in ("location", "unsupported") or (
        turn.inbound.kind == "media" and turn.step != "photo"
    ):
        await _ask(turn, turn.step, _("That is not what I asked."))
        return
    handler = {
        "state": _state,
        "omzet": _omzet,
        "omzet_check": _omzet_check,
        "problem": _problem,
        "problem_note": _problem_note,
        "urgent": _urgent,
        "photo": _photo,
        "confirm": _confirm,
        "change": _change,
    }.get(turn.step)
    if handler is None:
        await begin(turn)
        return
    await handler(turn)


def _answers(turn: Turn) -> dict[str, Any]:
    """The answers given so far."""
    return dict(turn.data.get("answers") or {})


async def _answer(turn: Turn, key: str, value: Any, prefix: str | None = None, **more: Any) -> None:
    """Keep one answer (and the draft), then ask the next question or the confirmation."""
    answers = {**_answers(turn), key: value, **more}
    turn.remember(answers=answers)
    household = await turn.household()
    if household is not None and not turn.data.get("replace"):
        await reports.save_draft(
            turn.session,
            household_id=household.id,
            period=turn.data["period"],
            answers=answers,
            now=turn.now,
        )
    await _ask_next(turn, prefix)


def _next_question(answers: dict[str, Any]) -> str | None:
    """The first question not answered yet (some only follow from earlier answers)."""
    for key in QUESTIONS:
        if key in answers:
            continue
        if key == "omzet" and answers.get("state") == "tutup":
            continue
        if key == "problem_note" and answers.get("problem") != "lainnya":
            continue
        if key == "urgent" and answers.get("problem") in (None, "tidak_ada"):
            continue
        return key
    return None


async def _ask_next(turn: Turn, prefix: str | None = None) -> None:
    """The next question, or the summary to confirm (a changed answer asks only its follow-ups)."""
    await _ask(turn, _next_question(_answers(turn)) or "confirm", prefix)


async def _ask(turn: Turn, question: str, prefix: str | None = None) -> None:
    """Ask one question (with `prefix` before it in the same message)."""
    text, choices = _question(turn, question)
    turn.conversation.step = question
    turn.say((prefix + "\n\n" if prefix else "") + text, choices)


def _question(turn: Turn, question: str) -> tuple[str, list[Choice]]:
    """The words and buttons of one question."""
    if question == "state":
        return _("Is your business running?"), [
            Choice(key, _(label)) for key, label in labels.BUSINESS_STATES.items()
        ]
    if question == "omzet":
        return _(
            "How much did the business take in (omzet) in {month}, in rupiah? "
            "For example 1.500.000 or 1,5 juta."
        ).format(month=month_label(turn.data["period"])), []
    if question == "problem":
        return _("What is the main problem of your business now?"), [
            Choice(key, _(label)) for key, label in labels.PROBLEMS.items()
        ]
    if question == "problem_note":
        return _("Tell us the problem in a few words."), []
    if question == "urgent":
        return _("Do you need help from your mentor soon?"), [
            Choice("yes", _("Yes, it is urgent")),
            Choice("no", _("No, it can wait")),
        ]
    if question == "photo":
        return _("Send a photo of your business (optional), or choose Skip."), [
            Choice("skip", _("Skip"))
        ]
    return _confirmation(turn)


def _confirmation(turn: Turn) -> tuple[str, list[Choice]]:
    """The answers read back, to send or change."""
    answers = _answers(turn)
    lines = [_("Your report for {month}:").format(month=month_label(turn.data["period"]))]
    lines.append(
        _("Business: {state}").format(
            state=_(labels.BUSINESS_STATES.get(answers.get("state", ""), "-"))
        )
    )
    if answers.get("omzet") is not None:
        lines.append(_("Omzet: {amount}").format(amount=rupiah(int(answers["omzet"]))))
    problem = _(labels.PROBLEMS.get(answers.get("problem", ""), "-"))
    if answers.get("problem_note"):
        problem += " (" + str(answers["problem_note"])[:200] + ")"
    if answers.get("urgent"):
        problem += " - " + _("urgent")
    lines.append(_("Problem: {problem}").format(problem=problem))
    lines.append(_("Photo: {photo}").format(photo=_("yes") if answers.get("photo") else _("no")))
    lines.append("")
    lines.append(_("Is this right?"))
    return "\n".join(lines), [
        Choice("send", _("Yes, send the report")),
        Choice("change", _("Change an answer")),
    ]


async def _state(turn: Turn) -> None:
    """Running, stopped for now or closed."""
    if turn.choice not in labels.BUSINESS_STATES:
        await _ask(turn, "state", _("Please choose one of the answers."))
        return
    answers = _answers(turn)
    if answers.get("state") == "tutup" and turn.choice != "tutup":
        answers.pop("omzet", None)  # it was not asked for a closed business; ask it now
        turn.remember(answers=answers)
    more: dict[str, Any] = {"omzet": 0} if turn.choice == "tutup" else {}
    await _answer(turn, "state", turn.choice, **more)


async def _omzet(turn: Turn) -> None:
    """An amount in rupiah, read back formatted; anything unreadable is asked again."""
    amount = parse_rupiah(turn.text) if turn.inbound.kind == "text" else None
    if amount is None:
        await _ask(
            turn,
            "omzet",
            _(
                "Sorry, I could not read that amount. Please type only the "
                "number, for example 1.500.000 or 750 ribu."
            ),
        )
        return
    guess = await _implausible(turn, amount)
    if guess is not None:
        await _check_omzet(turn, amount, guess)
        return
    await _answer(turn, "omzet", amount, _("Noted: {amount}.").format(amount=rupiah(amount)))


async def _implausible(turn: Turn, amount: int) -> int | None:
    """What was more likely meant by an amount too small or too big to be sure of, or None."""
    if 0 < amount < PLAUSIBLE_MIN:
        return amount * 1000  # `300` for Rp300.000
    household = await turn.household()
    if household is None:
        return None
    earlier = [
        r.omzet
        for r in await reports.recent(turn.session, household.id, limit=3)
        if r.period != turn.data.get("period") and r.omzet
    ]
    if earlier and amount >= PLAUSIBLE_JUMP * earlier[0]:
        return amount
    return None


async def _check_omzet(turn: Turn, amount: int, guess: int) -> None:
    """ "Do you mean Rp300.000?" before an unlikely amount is kept."""
    turn.conversation.step = "omzet_check"
    turn.remember(omzet_typed=amount, omzet_guess=guess)
    if guess != amount:
        turn.say(
            _("Do you mean {guess}?").format(guess=rupiah(guess)),
            [
                Choice("yes", _("Yes, {guess}").format(guess=rupiah(guess))),
                Choice("typed", _("No, {amount} is right").format(amount=rupiah(amount))),
                Choice("no", _("No, type it again")),
            ],
        )
        return
    turn.say(
        _("{amount} is much more than your last report. Is it right?").format(
            amount=rupiah(amount)
        ),
        [Choice("yes", _("Yes")), Choice("no", _("No, type it again"))],
    )


async def _omzet_check(turn: Turn) -> None:
    """Yes keeps the amount read back; No asks the omzet again."""
    typed, guess = turn.data.get("omzet_typed"), turn.data.get("omzet_guess")
    if turn.choice in ("yes", "typed") and isinstance(typed, int) and isinstance(guess, int):
        amount = guess if turn.choice == "yes" else typed
        await _answer(turn, "omzet", amount, _("Noted: {amount}.").format(amount=rupiah(amount)))
    elif turn.choice == "no":
        await _ask(turn, "omzet")
    elif turn.inbound.kind == "text" and parse_rupiah(turn.text) is not None:
        await _omzet(turn)  # a new amount typed straight away
    else:
        await _ask(turn, "omzet", _("Please choose one of the answers."))


async def _problem(turn: Turn) -> None:
    """The main problem; Something else asks for words, any problem asks if it is urgent."""
    if turn.choice not in labels.PROBLEMS:
        await _ask(turn, "problem", _("Please choose one of the answers."))
        return
    answers = {k: v for k, v in _answers(turn).items() if k not in ("problem_note", "urgent")}
    turn.remember(answers=answers)
    more: dict[str, Any] = {"urgent": False} if turn.choice == "tidak_ada" else {}
    await _answer(turn, "problem", turn.choice, **more)


async def _problem_note(turn: Turn) -> None:
    """The problem in the household's words."""
    if turn.inbound.kind != "text" or turn.choice or not turn.text.strip():
        await _ask(turn, "problem_note", _("Please write it as text."))
        return
    await _answer(turn, "problem_note", turn.text.strip()[: reports.MAX_NOTE])


async def _urgent(turn: Turn) -> None:
    """Urgent or it can wait."""
    if turn.choice not in ("yes", "no"):
        await _ask(turn, "urgent", _("Please choose one of the answers."))
        return
    await _answer(turn, "urgent", turn.choice == "yes")


async def _photo(turn: Turn) -> None:
    """A photo is kept by reference; Skip goes on without; anything else asks again."""
    found = turn.inbound.media
    if (
        turn.inbound.kind == "media"
        and found is not None
        and _is_image(found.kind, found.mime_type)
    ):
        # The channel downloads at once where it can (`path`); else the platform's id is kept.
        reference = found.path or media.remote_reference(
            turn.inbound.address.channel, found.file_id
        )
        await _answer(turn, "photo", reference, _("Thank you, the photo is received."))
    elif turn.choice == "skip" or turn.text.lower() in ("lewati", "skip", "tidak", "tidak ada"):
        await _answer(turn, "photo", None)
    else:
        await _ask(turn, "photo", _("Please send a photo, or choose Skip."))


def _is_image(kind: str, mime_type: str | None) -> bool:
    """A photo, or a document that is an image."""
    return kind in ("photo", "image") or (mime_type or "").startswith("image/")


async def _confirm(turn: Turn) -> None:
    """Send saves the report (and alerts the mentor when flagged); Change asks which answer."""
    if turn.choice == "change":
        turn.conversation.step = "change"
        turn.say(
            _("Which answer do you want to change?"),
            [
                Choice("state", _("Business")),
                Choice("omzet", _("Omzet")),
                Choice("problem", _("Problem")),
                Choice("photo", _("Photo")),
            ],
        )
    elif turn.choice == "send":
        await _send(turn)
    else:
        await _ask(turn, "confirm", _("Please choose one of the answers."))


async def _change(turn: Turn) -> None:
    """The chosen question is asked again; the rest of the answers stay."""
    if turn.choice not in ("state", "omzet", "problem", "photo"):
        await _ask(turn, "confirm")
        return
    await _ask(turn, turn.choice)


async def _send(turn: Turn) -> None:
    """The household hears the report is saved (and that its mentor was told, when so)."""
    household = await turn.household()
    if household is None:
        await menu.show(turn)
        return
    period = turn.data["period"]
    row = await reports.submit(
        turn.session, household_id=household.id, period=period, answers=_answers(turn), now=turn.now
    )
    text = _("Thank you. Your report for {month} is saved.").format(month=month_label(period))
    told = row.flagged and await notices.report_flagged(
        turn.session, row, household, now=turn.now, hours=turn.rules.delivery_hours
    )
    if told:
        text += "\n" + _("Your mentor has been told and will contact you.")
    await menu.show(turn, text + "\n\n" + _("Main menu. Choose a number:"))


async def _replace(turn: Turn) -> None:
    """Yes starts a new report that replaces this month's once it is sent; No goes back."""
    if turn.choice == "yes":
        turn.goto(
            "report",
            "",
            period=turn.data.get("period")
            or report_period(turn.now, turn.rules.report_previous_month_until_day),
            answers={},
            replace=True,
        )
        await _ask_next(turn)
    else:
        await menu.show(turn)


async def history(turn: Turn) -> None:
    """RIWAYAT: the household sees its last reports, newest first."""
    household: Household | None = await turn.household()
    if household is None:
        await menu.show(turn)
        return
    rows = await reports.recent(turn.session, household.id)
    turn.goto("menu", "choose")
    if not rows:
        turn.say(
            _("You have not sent a business report yet. Type MENU and choose Business report.")
        )
        return
    lines = []
    for row in rows:
        line = month_label(row.period) + ": " + labels.report_summary(row)
        if row.status == "partial":
            line += " " + _("(not finished)")
        lines.append(line)
    turn.say(
        _("Your last reports:") + "\n\n" + "\n".join(lines) + "\n\n" + _("Type MENU for the menu.")
    )
