"""The conversation core: identity → consent → keywords → journey, then state and outbox saved.

The one place that knows the order of things. Channels hand it an Inbound; it returns the Turn,
whose replies are already in the outbox of the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Choice, Inbound
from handlers import common, menu, start, understand
from handlers.routes import (
    ACTIONS,
    DETOURS,
    INTENT_STEPS,
    JOURNEYS,
    MEDIA_JOURNEYS,
    TEXT_STEPS,
    TYPED_KEYWORDS,
    expects_text,
)
from handlers.turn import Rules, Turn
from locales.i18n import _, use_locale
from storage import alumni, identities, outbox
from storage.models import ChatIdentity

# Typed at any step, in any letter case (INTERFACES.md, "Conversation").
KEYWORDS = {
    "menu": "menu",
    "/menu": "menu",
    "/start": "start",
    "bantuan": "help",
    "/bantuan": "help",
    "/help": "help",
    "batal": "cancel",
    "/batal": "cancel",
    "status": "status",
    "/status": "status",
    "berhenti": "stop",
    "/berhenti": "stop",
    "stop": "stop",
    "/stop": "stop",
    "mulai": "resume",
    "/mulai": "resume",
}
# Steps that only make sense before consent; everything else waits for SETUJU.
PRE_CONSENT_JOURNEYS = {"consent", "language"}
# What an understood command does: the same as its keyword.
COMMAND_INTENTS = {"stop": "stop", "cancel": "cancel", "menu": "menu", "help": "help"}
# Offered keys that a typed yes or no answers ("iya bu" at "1. Ya 2. Tidak").
YES_KEYS = ("yes", "agree", "send")
# What a mentor's own words can open (the rest of the intents are a household's).
MENTOR_INTENTS = ("greeting", "thanks", "help", "find_business")
# What a partner's own words can open: their menu answers the rest.
PARTNER_INTENTS = ("greeting", "thanks", "help")
NO_KEYS = ("no", "decline")
# How much of the waiting question is kept to repeat after a detour.
MAX_ASKED = 900


async def sender_of(session: AsyncSession, inbound: Inbound, now: datetime) -> ChatIdentity:
    """The chat identity that sent `inbound` (made on first contact), stamped as heard from."""
    identity = await identities.get_or_create(
        session,
        channel=inbound.address.channel,
        external_id=inbound.address.external_id,
        now=now,
        phone=inbound.phone,
        alt_id=inbound.alt_id,
    )
    # WhatsApp's window, "heard from" and the timeline all count from when the person wrote.
    identities.heard_from(identity, inbound.sent_at, now)
    return identity


async def handle(
    session: AsyncSession, inbound: Inbound, *, now: datetime, rules: Rules, late: bool = False
) -> Turn:
    """Answer one inbound message inside the caller's transaction (`late`: after an outage)."""
    identity = await sender_of(session, inbound, now)
    identity.unreachable_at = identity.unreachable_reason = None
    with use_locale(identity.locale):
        conversation = await identities.conversation_of(session, identity, now)
        turn = Turn(
            session=session,
            identity=identity,
            conversation=conversation,
            inbound=inbound,
            now=now,
            rules=rules,
        )
        turn.text = " ".join(inbound.text.split())[: rules.max_text_length]
        offered = identities.offered_choices(conversation)
        if inbound.kind == "text" and turn.text:
            turn.heard = understand.hear(turn.text)
        turn.choice = resolve_choice(inbound, turn.text, offered, turn.heard)
        if inbound.kind == "system":
            return turn  # a changed number: updating the identity above is all there is to do
        await route(turn)
        if late and turn.replies:
            first = turn.replies[0]
            apology = _("Sorry for our late reply.")
            turn.replies[0] = replace(first, text=apology + "\n\n" + first.text)
        _save(turn)
    return turn


def resolve_choice(
    inbound: Inbound,
    text: str,
    offered: list[list[str]],
    heard: understand.Heard | None = None,
) -> str | None:
    """A button's key, or the key of the choice typed: its number (`2`, `dua`, `no 2`), its
    label, or yes/no in one's own words (`iya bu`) where Ya and Tidak are offered."""
    if inbound.choice:
        return inbound.choice
    typed = text.strip().lower().rstrip(".)")
    number = int(typed) if typed.isdigit() else heard.number if heard else None
    if number is not None and 1 <= number <= len(offered):
        return offered[number - 1][0]
    for key, label in offered:
        if typed and typed in (key.lower(), label.lower()):
            return key
    if heard is not None and heard.yes_no:
        wanted = YES_KEYS if heard.yes_no == "yes" else NO_KEYS
        for key, _label in offered:
            if key in wanted:
                return key
    return None


def linked(identity: ChatIdentity) -> bool:
    """The chat belongs to someone: a household, a mentor or a partner's staff account."""
    return bool(identity.household_id or identity.mentor_id or identity.staff_id)


def keyword_of(turn: Turn) -> str | None:
    """The global keyword typed, if the whole message is one (`/start@MyBot` too), or the
    command understood in the person's own words (`CANCEL`, `gak jadi`, `tolong`, `stopp`)
    where the step is not waiting for words of its own."""
    if turn.inbound.kind != "text":
        return None
    word = turn.text.lower().split("@")[0]
    if word in KEYWORDS:
        return KEYWORDS[word]
    heard = turn.heard
    if heard is None or turn.choice is not None:
        return None
    command = COMMAND_INTENTS.get(heard.intent or "")
    if heard.intent == "restart":  # "mulai lagi": back in after BERHENTI, else the menu
        command = "resume" if turn.identity.opted_out else "start"
    if command is None or (_at_text_step(turn) and not heard.exact):
        return None
    return command


def _at_text_step(turn: Turn) -> bool:
    """The current step waits for the person's own words (a note, a NIK, an amount)."""
    return (turn.conversation.journey, turn.conversation.step) in TEXT_STEPS


async def route(turn: Turn) -> None:
    """Decide which journey answers this message."""
    keyword = keyword_of(turn)
    if keyword == "stop":
        await stop(turn)
    elif keyword == "resume":
        turn.identity.opted_out = False
        await start.ask_consent(turn)
    elif turn.identity.opted_out:
        await common.opted_out(turn)
    elif keyword == "help":
        await detour(turn, common.help_text)
    elif turn.identity.consent_at is None:
        await _before_consent(turn, keyword)
    elif turn.choice and turn.choice.startswith("act:"):
        name, _sep, arg = turn.choice[4:].partition(":")
        await ACTIONS.get(name, _menu_action)(turn, arg)
    elif keyword in ("menu", "start", "cancel"):
        await _to_menu(turn, cancelled=keyword == "cancel")
    elif not linked(turn.identity):
        await _unlinked(turn, keyword)
    elif keyword == "status" and turn.identity.household_id:
        await detour(turn, INTENT_STEPS["status"])
    elif (
        turn.inbound.kind == "text"
        and turn.text.lower() in TYPED_KEYWORDS
        and turn.identity.staff_id is None  # the words of families and mentors
    ):
        await TYPED_KEYWORDS[turn.text.lower()](turn)
    elif (intent := _global_intent(turn)) is not None:
        await _to_intent(turn, intent)
    elif (candidates := _candidates(turn)) and not expects_text(turn):
        await ask_which(turn, candidates)
    else:
        await _journey(turn)


def _global_intent(turn: Turn) -> str | None:
    """A clear intent that overrides the current step: the step's own answer wins when it fits
    (a number at a menu, an amount at the omzet question, words at a note)."""
    heard = turn.heard
    if heard is None or turn.choice is not None or heard.intent not in INTENT_STEPS:
        return None
    if expects_text(turn) and not (heard.exact or heard.switching):
        return None
    if turn.identity.staff_id is not None:  # a partner: their menu does the rest
        return heard.intent if heard.intent in PARTNER_INTENTS else None
    if turn.identity.household_id is None:  # a mentor: only the words for everyone
        return heard.intent if heard.intent in MENTOR_INTENTS else None
    if heard.intent == turn.conversation.journey or (
        heard.intent in ("training", "cooperative", "correction")
        and turn.conversation.journey == "request"
        and turn.conversation.step != "kind"
        and not heard.switching
    ):
        return None  # already in that journey: the step takes it
    return heard.intent


def _candidates(turn: Turn) -> tuple[str, ...]:
    """Two intents equally likely, for a household at a step that did not take the message."""
    heard = turn.heard
    if heard is None or turn.choice is not None or turn.identity.household_id is None:
        return ()
    return tuple(c for c in heard.candidates if c in INTENT_STEPS)


async def _to_intent(turn: Turn, intent: str) -> None:
    """The journey of an understood intent; a detour (status, help, thanks) keeps the step."""
    if intent in DETOURS:
        await detour(turn, INTENT_STEPS[intent])
    else:
        await INTENT_STEPS[intent](turn)


async def ask_which(turn: Turn, candidates: tuple[str, ...]) -> None:
    """Two close meanings: one short question with both as numbered choices."""
    turn.say(
        _("Do you mean:"),
        [Choice(f"act:intent:{name}", _(common.INTENT_LABELS[name])) for name in candidates],
    )


async def detour(turn: Turn, step: Callable[[Turn], Awaitable[None]]) -> None:
    """Help, status or thanks in the middle of something: answered, then the waiting question
    is repeated and its choices stay valid."""
    conversation = turn.conversation
    journey, current, data = conversation.journey, conversation.step, dict(conversation.data or {})
    await step(turn)
    conversation.journey, conversation.step, conversation.data = journey, current, data
    turn.detour = True
    asked = data.get("_asked")
    if asked and journey != "menu":
        offered = tuple(Choice(key, label) for key, label in data.get(identities.OFFERED, []))
        again = _("Back to the question that is waiting:") + "\n\n" + asked
        last = turn.replies[-1] if turn.replies else None
        if last is not None and not last.choices and not last.ask_contact:
            # One message, not two: the answer, then the question again.
            turn.replies[-1] = replace(last, text=last.text + "\n\n" + again, choices=offered)
        else:
            turn.say(again, offered)


async def _before_consent(turn: Turn, keyword: str | None) -> None:
    """Only the notice, its answer and the language choice happen before consent."""
    journey = turn.conversation.journey
    if turn.inbound.kind == "contact":
        await start.contact_before_consent(turn)  # a mentor recognising themselves
    elif keyword is None and journey in PRE_CONSENT_JOURNEYS:
        await JOURNEYS[journey](turn)
    else:
        await start.ask_consent(turn, greeted=_greeted(turn))


def _greeted(turn: Turn) -> bool:
    """The first message was a greeting: the notice answers it warmly."""
    return turn.heard is not None and turn.heard.intent == "greeting"


async def _unlinked(turn: Turn, keyword: str | None) -> None:
    """A consented but unlinked chat can link, change language, or ask for help."""
    if turn.inbound.kind == "contact":
        await start.by_contact(turn)
    elif turn.conversation.journey in ("link", "language", "propose") or (
        turn.conversation.journey == "consent" and turn.conversation.step == "partner"
    ):  # a partner found after the household notice reads their own before linking
        await JOURNEYS[turn.conversation.journey](turn)
    else:
        await start.after_consent(turn)


async def _journey(turn: Turn) -> None:
    """The current journey takes the message; a voice note goes to the mentor; other media only
    where a journey expects it."""
    journey = turn.conversation.journey
    media = turn.inbound.media
    if turn.inbound.kind == "media" and media is not None and media.kind in ("audio", "voice"):
        await detour(turn, INTENT_STEPS["voice"])
        return
    if turn.inbound.kind in ("media", "location", "unsupported") and journey not in MEDIA_JOURNEYS:
        await detour(turn, common.not_understood)
        return
    await JOURNEYS.get(journey, menu.step)(turn)


async def _to_menu(turn: Turn, *, cancelled: bool) -> None:
    """MENU, /start and BATAL all lead back to the menu."""
    intro = (
        _("All right, that step is cancelled.") + "\n\n" + _("Main menu. Choose a number:")
        if cancelled
        else None
    )
    if linked(turn.identity):
        await menu.show(turn, intro)
    else:
        await start.after_consent(turn)


async def _menu_action(turn: Turn, _arg: str) -> None:
    """An old or unknown button: back to the menu."""
    await menu.show(turn)


async def stop(turn: Turn) -> None:
    """BERHENTI: consent withdrawn, waiting messages cancelled, one confirmation sent."""
    await identities.opt_out(turn.session, turn.identity, turn.now)
    if turn.identity.household_id is not None:  # nobody finds the family's business any more
        await alumni.forget(turn.session, turn.identity.household_id)
    turn.goto("menu", "")
    turn.say(
        _(
            "You will get no more messages from Sinergi. Your data is no longer used for "
            "messages. Type MULAI to start again."
        )
    )


def _save(turn: Turn) -> None:
    """Save the offered choices and the waiting question with the state (a detour keeps the
    ones before it), and put every reply in the outbox."""
    if not turn.detour:
        offered = next((r.choices for r in reversed(turn.replies) if r.choices), ())
        identities.remember_offered(turn.conversation, [[c.key, c.label] for c in offered])
        turn.remember(_asked=turn.replies[-1].text[:MAX_ASKED] if turn.replies else None)
    turn.conversation.updated_at = turn.now
    for index, reply in enumerate(turn.replies):
        extra = dict(reply.extra)
        if index == 0 and turn.inbound.callback_id:
            extra["callback_id"] = turn.inbound.callback_id
        if turn.inbound.kind == "contact" and not reply.ask_contact:
            extra["remove_keyboard"] = True
        if reply.ask_contact:
            extra["contact_label"] = _("Send my phone number")
        payload = replace(reply, extra=extra).to_payload()
        outbox.enqueue(turn.session, turn.identity, payload, now=turn.now)
