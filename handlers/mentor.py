"""mentor: link code (No. KK or name → code) · undo a NIK link.

The mentor menu grows with the visit and silent-household journeys.
"""

from __future__ import annotations

from bot.messages import Choice
from handlers import menu
from handlers.turn import Turn
from locales.i18n import _
from storage import audit, households, links
from storage.crypto import mask_name
from storage.models import ChatIdentity, Household
from storage.normalize import sixteen_digits


async def ask_household_for_code(turn: Turn) -> None:
    """The mentor is asked which household needs a link code."""
    turn.goto("mentor_code", "which")
    turn.say(_("Which family needs a link code? Type its No. KK or part of the name."))


async def code_step(turn: Turn) -> None:
    """A No. KK or name of one of the mentor's households gets a fresh code; several get a list."""
    if turn.step == "pick" and turn.choice and turn.choice.startswith("hh:"):
        household = await _own_household(turn, int(turn.choice[3:]))
        if household is not None:
            await _give_code(turn, household)
            return
    found = await _search(turn, turn.text)
    if len(found) == 1:
        await _give_code(turn, found[0])
    elif found:
        turn.goto("mentor_code", "pick")
        turn.say(
            _("Which family?"), [Choice(f"hh:{h.id}", h.name, h.no_kk[-4:]) for h in found[:9]]
        )
    else:
        turn.say(_("None of your families matches. Type the No. KK or a name, or BATAL."))


async def _search(turn: Turn, text: str) -> list[Household]:
    """The mentor's own households matching a No. KK or part of a name (3 letters at least)."""
    kk = sixteen_digits(text)
    name = text.strip()[:60] if len(text.strip()) >= 3 else ""
    return await households.mentor_households_matching(
        turn.session, turn.identity.mentor_id, no_kk=kk, name=name
    )


async def _own_household(turn: Turn, household_id: int) -> Household | None:
    """The household, only if this mentor is its mentor."""
    return await households.household_of_mentor(turn.session, turn.identity.mentor_id, household_id)


async def _give_code(turn: Turn, household: Household) -> None:
    """The mentor sees the single-use code to pass on, and how long it lasts."""
    code = await links.new_link_code(
        turn.session,
        household_id=household.id,
        mentor_id=turn.identity.mentor_id,
        now=turn.now,
        ttl=turn.rules.link_code_ttl,
    )
    audit.record_on(
        turn.session,
        household,
        actor=f"mentor:{turn.identity.mentor_id}",
        action="link_code",
        now=turn.now,
    )
    hours = int(turn.rules.link_code_ttl.total_seconds() // 3600)
    await menu.show(
        turn,
        _(
            "Link code for {name}: {code}\nIt works once, for {hours} hours. The family "
            "types it in Sinergi after agreeing.\n\nMentor menu:"
        ).format(name=household.name, code=code, hours=hours),
    )


async def undo_link(turn: Turn, identity_id: int) -> None:
    """The mentor undoes a NIK link of one of their households; the chat must link again."""
    chat = await turn.session.get(ChatIdentity, identity_id)
    household = (
        await turn.session.get(Household, chat.household_id) if chat and chat.household_id else None
    )
    if chat is None or household is None or household.mentor_id != turn.identity.mentor_id:
        turn.say(_("This link no longer exists."))
        return
    chat.household_id, chat.link_method = None, None
    audit.record_on(
        turn.session,
        household,
        actor=f"mentor:{turn.identity.mentor_id}",
        action="unlink",
        now=turn.now,
    )
    turn.say(
        _("The link to the family of {name} was undone.").format(name=mask_name(household.name))
    )
