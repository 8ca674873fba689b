"""requests: menu → kind → (training: topic → note | cooperative: conditions → yes | correction: what → words) → filed · list → cancel."""

from __future__ import annotations

from bot.messages import Choice
from handlers import menu, notices
from handlers.labels import (
    OBJECTION_TOPICS,
    TRAINING_TOPICS,
    request_kind,
    request_state,
    topic_by_key,
)
from handlers.turn import Turn
from locales.i18n import _, long_date
from storage import calendar, memberships, outbox, requests
from storage.models import Household, ServiceRequest


async def begin(turn: Turn) -> None:
    """The household sees the three kinds of request and its own list."""
    if await _household_or_menu(turn) is None:
        return
    turn.goto("request", "kind")
    turn.say(
        _("What would you like to ask for?"),
        [
            Choice("pelatihan", _("Training")),
            Choice("koperasi", _("Join the village cooperative")),
            Choice("sanggah", _("Correct my data / objection")),
            Choice("mine", _("My requests")),
        ],
    )


async def step(turn: Turn) -> None:
    """Dispatch within the request journey."""
    handler = {
        "kind": _kind,
        "topic": _topic,
        "note": _note,
        "coop": _coop,
        "what": _what,
        "words": _words,
        "list": _list_choice,
        "cancel": _cancel_confirm,
    }.get(turn.step, _kind)
    await handler(turn)


async def _household_or_menu(turn: Turn) -> Household | None:
    """The linked household; a mentor or unlinked chat goes back to its menu."""
    household = await turn.household()
    if household is None:
        await menu.show(turn)
    return household


async def _kind(turn: Turn) -> None:
    """Each kind asks its first question."""
    if turn.choice == "pelatihan":
        turn.goto("request", "topic")
        turn.say(
            _("Which training do you need? Choose a topic:"),
            [Choice(t.key, _(t.label)) for t in TRAINING_TOPICS],
        )
    elif turn.choice == "koperasi":
        await _explain_coop(turn)
    elif turn.choice == "sanggah":
        turn.goto("request", "what")
        turn.say(
            _("What is it about?"), [Choice(k, _(label)) for k, label in OBJECTION_TOPICS.items()]
        )
    elif turn.choice == "mine":
        await show_list(turn)
    else:
        await begin(turn)


async def _topic(turn: Turn) -> None:
    """A topic from the list leads to the optional note."""
    topic = topic_by_key(turn.choice)
    if topic is None:
        turn.say(
            _("Please choose a topic from the list."),
            [Choice(t.key, _(t.label)) for t in TRAINING_TOPICS],
        )
        return
    turn.goto("request", "note", topic=topic.key)
    turn.say(
        _(
            "You chose: {topic}.\nWrite a short note for the office (for example your "
            "business), or choose Skip."
        ).format(topic=_(topic.label)),
        [Choice("skip", _("Skip"))],
    )


async def _note(turn: Turn) -> None:
    """The note (or Skip) files the training request."""
    note = _free_text(turn)
    if note is None and turn.choice != "skip":
        turn.say(_("Please write the note as text, or choose Skip."), [Choice("skip", _("Skip"))])
        return
    await _file(turn, "pelatihan", turn.data.get("topic"), note)


async def _explain_coop(turn: Turn) -> None:
    """The household reads the cooperative's conditions before anything is filed."""
    household = await _household_or_menu(turn)
    if household is None:
        return
    turn.goto("request", "coop")
    desa = household.desa or _("your village")
    text = _(
        "Membership of the Koperasi Desa Merah Putih of {desa}.\n\n"
        "Conditions:\n"
        "- an e-KTP from this village\n"
        "- 17 years or older, or married\n"
        "- pay simpanan pokok once and simpanan wajib every month\n\n"
        "The cooperative officers check these conditions. "
        "Do you want to apply?"
    ).format(desa=desa)
    cooperative = await memberships.cooperative_for(turn.session, household.region_code)
    if cooperative is not None:  # its own name and amounts, where the cooperative gave them
        text = notices.cooperative_terms(cooperative) + "\n\n" + text
    turn.say(text, [Choice("yes", _("Yes, apply")), Choice("no", _("No"))])


async def _coop(turn: Turn) -> None:
    """Yes files the membership request for the household's own desa; No goes back."""
    household = await _household_or_menu(turn)
    if household is None:
        return
    if turn.choice == "yes":
        row = await _file(turn, "koperasi", household.region_code, None)
        cooperative = await memberships.cooperative_for(turn.session, household.region_code)
        if row is not None and cooperative is not None:
            # The cooperative's own pengurus verify it (their seat in the admin view).
            member, new = await memberships.apply(
                turn.session, household, cooperative, request_id=row.id, now=turn.now
            )
            if new:
                await notices.membership_applied(
                    turn.session, member, household, cooperative, now=turn.now
                )
    elif turn.choice == "no":
        await menu.show(turn)
    else:
        await _explain_coop(turn)


async def _what(turn: Turn) -> None:
    """The kind of objection leads to the person's own words."""
    if turn.choice not in OBJECTION_TOPICS:
        turn.say(
            _("Please choose one:"), [Choice(k, _(label)) for k, label in OBJECTION_TOPICS.items()]
        )
        return
    turn.goto("request", "words", topic=turn.choice)
    turn.say(
        _(
            "Tell us in your own words what is wrong or what you should receive. "
            "We write down what you say; the village operator and Dinsos check it. "
            "This chat does not decide who receives aid."
        )
    )


async def _words(turn: Turn) -> None:
    """The person's words are recorded as they are and filed."""
    words = _free_text(turn)
    if words is None:
        turn.say(_("Please write it as text, in a few sentences."))
        return
    await _file(turn, "sanggah", turn.data.get("topic"), words)


def _free_text(turn: Turn) -> str | None:
    """Typed text that is not a button press, or None."""
    if turn.inbound.kind != "text" or turn.choice is not None or not turn.text.strip():
        return None
    return turn.text.strip()


async def _file(
    turn: Turn, kind: str, topic: str | None, details: str | None
) -> ServiceRequest | None:
    """The household gets its reference number, or the open request it already has."""
    household = await _household_or_menu(turn)
    if household is None:
        return None
    row, created = await requests.file_request(
        turn.session,
        household=household,
        kind=kind,
        topic=topic,
        details=details,
        actor=f"chat:{turn.identity.id}",
        now=turn.now,
    )
    if created:
        hours = outbox.within_hours(household.region_code, turn.rules.delivery_hours)
        await notices.request_filed(turn.session, row, household, now=turn.now, hours=hours)
        text = _(
            "Your request is filed. Number: {reference}.\nWe will tell you here when it changes."
        ).format(reference=row.reference)
    else:
        text = _("You already have an open request for this: {reference} ({state}).").format(
            reference=row.reference, state=request_state(row)
        )
    await menu.show(turn, text + "\n\n" + _("Main menu. Choose a number:"))
    return row


async def show_list(turn: Turn) -> None:
    """The household sees its requests and their state; ones still submitted can be cancelled."""
    household = await _household_or_menu(turn)
    if household is None:
        return
    rows = await requests.of_household(turn.session, household.id)
    if not rows:
        turn.goto("menu", "choose")
        turn.say(_("You have no requests yet. Type MENU and choose Make a request."))
        return
    cancellable = [r for r in rows if r.state == "diajukan"]
    turn.goto("request", "list")
    lines = "\n\n".join(describe(r) for r in rows)
    choices = [
        Choice(f"cancel:{r.id}", _("Cancel {reference}").format(reference=r.reference))
        for r in cancellable[:5]
    ]
    turn.say(_("Your requests:") + "\n\n" + lines + "\n\n" + _("Type MENU for the menu."), choices)


def describe(row: ServiceRequest) -> str:
    """Two lines about one request: number, kind and topic; state and date."""
    what = request_kind(row)
    topic = topic_by_key(row.topic) if row.kind == "pelatihan" else None
    if topic is not None:
        what += ": " + _(topic.label)
    elif row.kind == "sanggah" and row.topic in OBJECTION_TOPICS:
        what += ": " + _(OBJECTION_TOPICS[row.topic])
    text = _("{reference} · {what}\nState: {state} (since {date})").format(
        reference=row.reference,
        what=what,
        state=request_state(row),
        date=long_date(calendar.local_day(row.updated_at, row.region_code)),
    )
    if row.state == "dirujuk" and row.expected_on is not None:
        text += "\n" + _("The national data should change by {date}.").format(
            date=long_date(row.expected_on)
        )
    return text


async def _list_choice(turn: Turn) -> None:
    """A cancel button asks to confirm; anything else shows the list again."""
    if turn.choice and turn.choice.startswith("cancel:") and turn.choice[7:].isdigit():
        row = await turn.session.get(ServiceRequest, int(turn.choice[7:]))
        if row is not None and row.household_id == turn.identity.household_id:
            turn.goto("request", "cancel", request_id=row.id)
            turn.say(
                _("Cancel request {reference}?").format(reference=row.reference),
                [Choice("yes", _("Yes, cancel it")), Choice("no", _("No, keep it"))],
            )
            return
    await show_list(turn)


async def _cancel_confirm(turn: Turn) -> None:
    """Yes cancels the request if it is still only submitted."""
    household = await _household_or_menu(turn)
    if household is None:
        return
    if turn.choice != "yes":
        await show_list(turn)
        return
    try:
        row = await requests.cancel(
            turn.session,
            request_id=int(turn.data.get("request_id", 0)),
            household_id=household.id,
            actor=f"chat:{turn.identity.id}",
            now=turn.now,
        )
    except requests.RequestError:
        turn.say(_("This request can no longer be cancelled; the office has already taken it up."))
        await show_list(turn)
        return
    await menu.show(
        turn,
        _("Request {reference} is cancelled.").format(reference=row.reference)
        + "\n\n"
        + _("Main menu. Choose a number:"),
    )
