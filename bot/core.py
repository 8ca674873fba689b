"""The conversation core: identity → consent → keywords → journey, then state and outbox saved.

The one place that knows the order of things. Channels hand it an Inbound; it returns the Turn,
whose replies are already in the outbox of the caller's unit of work.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Inbound, Reply
from handlers import common, menu, start, status
from handlers.routes import ACTIONS, JOURNEYS, MEDIA_JOURNEYS, TYPED_KEYWORDS
from handlers.turn import Rules, Turn
from locales.i18n import _, use_locale
from storage import identities, outbox

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


async def handle(
    session: AsyncSession, inbound: Inbound, *, now: datetime, rules: Rules, late: bool = False
) -> Turn:
    """Answer one inbound message inside the caller's transaction (`late`: after an outage)."""
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
        turn.choice = resolve_choice(inbound, turn.text, offered)
        if inbound.kind == "system":
            return turn  # a changed number: updating the identity above is all there is to do
        await route(turn)
        if late and turn.replies:
            first = turn.replies[0]
            apology = _("Sorry for our late reply.")
            turn.replies[0] = replace(first, text=apology + "\n\n" + first.text)
        _save(turn)
    return turn


def resolve_choice(inbound: Inbound, text: str, offered: list[list[str]]) -> str | None:
    """A button's key, or the key of the choice whose number or label was typed."""
    if inbound.choice:
        return inbound.choice
    typed = text.strip().lower().rstrip(".)")
    if typed.isdigit() and 1 <= int(typed) <= len(offered):
        return offered[int(typed) - 1][0]
    for key, label in offered:
        if typed and typed in (key.lower(), label.lower()):
            return key
    return None


def keyword_of(turn: Turn) -> str | None:
    """The global keyword typed, if the whole message is one (`/start@MyBot` too)."""
    if turn.inbound.kind != "text":
        return None
    word = turn.text.lower().split("@")[0]
    return KEYWORDS.get(word)


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
        await common.help_text(turn)
    elif turn.identity.consent_at is None:
        await _before_consent(turn, keyword)
    elif turn.choice and turn.choice.startswith("act:"):
        name, _sep, arg = turn.choice[4:].partition(":")
        await ACTIONS.get(name, _menu_action)(turn, arg)
    elif keyword in ("menu", "start", "cancel"):
        await _to_menu(turn, cancelled=keyword == "cancel")
    elif not (turn.identity.household_id or turn.identity.mentor_id):
        await _unlinked(turn, keyword)
    elif keyword == "status" and turn.identity.household_id:
        await status.show(turn)
    elif turn.inbound.kind == "text" and turn.text.lower() in TYPED_KEYWORDS:
        await TYPED_KEYWORDS[turn.text.lower()](turn)
    else:
        await _journey(turn)


async def _before_consent(turn: Turn, keyword: str | None) -> None:
    """Only the notice, its answer and the language choice happen before consent."""
    journey = turn.conversation.journey
    if keyword is None and journey in PRE_CONSENT_JOURNEYS:
        await JOURNEYS[journey](turn)
    else:
        await start.ask_consent(turn)


async def _unlinked(turn: Turn, keyword: str | None) -> None:
    """A consented but unlinked chat can link, change language, or ask for help."""
    if turn.inbound.kind == "contact":
        await start.by_contact(turn)
    elif turn.conversation.journey in ("link", "language"):
        await JOURNEYS[turn.conversation.journey](turn)
    else:
        await start.after_consent(turn)


async def _journey(turn: Turn) -> None:
    """The current journey takes the message; media only where a journey expects it."""
    journey = turn.conversation.journey
    if turn.inbound.kind in ("media", "location", "unsupported") and journey not in MEDIA_JOURNEYS:
        await common.not_understood(turn)
        return
    await JOURNEYS.get(journey, menu.step)(turn)


async def _to_menu(turn: Turn, *, cancelled: bool) -> None:
    """MENU, /start and BATAL all lead back to the menu."""
    intro = _("Cancelled.") + "\n\n" + _("Main menu. Choose a number:") if cancelled else None
    if turn.identity.household_id or turn.identity.mentor_id:
        await menu.show(turn, intro)
    else:
        await start.after_consent(turn)


async def _menu_action(turn: Turn, _arg: str) -> None:
    """An old or unknown button: back to the menu."""
    await menu.show(turn)


async def stop(turn: Turn) -> None:
    """BERHENTI: consent withdrawn, waiting messages cancelled, one confirmation sent."""
    await identities.opt_out(turn.session, turn.identity, turn.now)
    turn.goto("menu", "")
    turn.say(
        _(
            "You will get no more messages from Sinergi. Your data is no longer used for "
            "messages. Type MULAI to start again."
        )
    )


def _save(turn: Turn) -> None:
    """Save the offered choices with the state, and put every reply in the outbox."""
    offered = next((r.choices for r in reversed(turn.replies) if r.choices), ())
    identities.remember_offered(turn.conversation, [[c.key, c.label] for c in offered])
    turn.conversation.updated_at = turn.now
    for index, reply in enumerate(turn.replies):
        extra = dict(reply.extra)
        if index == 0 and turn.inbound.callback_id:
            extra["callback_id"] = turn.inbound.callback_id
        if turn.inbound.kind == "contact" and not reply.ask_contact:
            extra["remove_keyboard"] = True
        if reply.ask_contact:
            extra["contact_label"] = _("Send my phone number")
        payload = Reply(
            reply.text,
            reply.choices,
            reply.ask_contact,
            reply.template,
            reply.template_params,
            extra,
        ).to_payload()
        outbox.enqueue(turn.session, turn.identity, payload, now=turn.now)
