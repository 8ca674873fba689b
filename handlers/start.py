"""start: notice → SETUJU? → link (own contact | mentor's code | NIK + No. KK) → menu.

Nothing personal is asked or shown before consent. WhatsApp senders whose number is on the
roster are offered the link at once; everyone else picks one of the three ways. A mentor's
or a partner's staff number (known, or shared) gets their own notice and menu instead.
"""

from __future__ import annotations

import re

from bot.messages import Choice
from handlers import common, menu, notices, rights
from handlers.turn import Turn
from locales.i18n import _, use_locale
from storage import audit, households, identities, links, partners
from storage.crypto import mask_name
from storage.links import CODE_ALPHABET, CODE_LENGTH
from storage.models import Household, Mentor, Organisation, StaffUser
from storage.normalize import phone_e164, sixteen_digits, valid_nik

# A phone number as typed: `0812 3456 7890`, `+62 812-3456-7890`.
_PHONE = re.compile(r"\+?[\d\s.-]{9,17}")


async def ask_consent(turn: Turn, *, greeted: bool = False) -> None:
    """The person sees who we are, what we keep and why, and is asked to agree (a greeting
    is greeted back first); a mentor whose number we know reads the mentors' notice instead,
    and where the chat can share its number but it is not known yet, a mentor can say so (a
    partner's staff whose number is on their account read the partners' notice)."""
    phone = turn.identity.phone
    mentor = await households.mentor_by_phone(turn.session, phone) if phone else None
    if mentor is not None:
        ask_mentor_consent(turn, mentor.id, mentor.name)
        return
    staff = await partners.partner_by_phone(turn.session, phone) if phone else None
    if staff is not None:
        await ask_partner_consent(turn, staff)
        return
    turn.goto("consent", "ask")
    choices = [
        Choice("agree", _("SETUJU (I agree)")),
        Choice("decline", _("Do not agree")),
        Choice("language", "English / Bahasa"),
    ]
    if turn.inbound.shares_contact:
        choices.append(Choice("mentor", _("I am a mentor (pendamping) or partner staff")))
    hello = _("Hello, Bapak/Ibu! Thank you for contacting us.") + "\n\n" if greeted else ""
    turn.say(
        hello
        + _(
            "Welcome to Sinergi, the chat service of the Social Service Office (Dinsos).\n\n"
            "To help you, we use your family data from the social register: your name, "
            "No. KK, NIK, phone number, your programs and your business reports. We use "
            "them only to tell you about your aid, your requests and your business, and to "
            "connect you with your mentor and Dinsos.\n\n"
            "You can stop at any time by typing BERHENTI. Do you agree?"
        ),
        choices,
    )


def ask_mentor_consent(turn: Turn, mentor_id: int, name: str) -> None:
    """A mentor is thanked, told what Sinergi uses of theirs and why, and asked to agree."""
    turn.goto("consent", "mentor", mentor_id=mentor_id)
    turn.say(
        _(
            "Hello {name}, welcome to Sinergi. Thank you for your work as a mentor "
            "(pendamping).\n\n"
            "Sinergi uses your name, phone number and area from the Dinsos list of mentors, "
            "to send you news of your families and the families to visit.\n\n"
            "You can stop at any time by typing BERHENTI. Do you agree?"
        ).format(name=name),
        [Choice("agree", _("SETUJU (I agree)")), Choice("decline", _("Do not agree"))],
    )


async def ask_partner_consent(turn: Turn, staff: StaffUser) -> None:
    """Partner staff are told what Sinergi uses of theirs and why, and asked to agree."""
    organisation = (
        await turn.session.get(Organisation, staff.organisation_id)
        if staff.organisation_id
        else None
    )
    turn.goto("consent", "partner", staff_id=staff.id)
    turn.say(
        _(
            "Hello, welcome to Sinergi. This number is on the partner account {username} of "
            "{organisation}.\n\n"
            "Sinergi uses your phone number and that account, from the Dinsos list of partner "
            "staff, to send you the referrals for your office and to record your answers.\n\n"
            "You can stop at any time by typing BERHENTI. Do you agree?"
        ).format(username=staff.username, organisation=organisation.name if organisation else "-"),
        [Choice("agree", _("SETUJU (I agree)")), Choice("decline", _("Do not agree"))],
    )


async def contact_before_consent(turn: Turn) -> None:
    """A contact shared before agreeing is only matched against the mentors and partner staff:
    they read their notice; anyone else the household notice (their number is not kept)."""
    phone = phone_e164(turn.inbound.contact_phone) if turn.inbound.contact_is_own else None
    mentor = await households.mentor_by_phone(turn.session, phone) if phone else None
    staff = await partners.partner_by_phone(turn.session, phone) if phone and not mentor else None
    if phone is not None and staff is not None:
        turn.identity.phone = phone
        await ask_partner_consent(turn, staff)
        return
    if phone is None or mentor is None:
        turn.say(
            _("This number is not on the list of mentors.")
            if turn.inbound.contact_is_own
            else _("Please send your own phone number with the button, not someone else's.")
        )
        await ask_consent(turn)
        return
    turn.identity.phone = phone
    ask_mentor_consent(turn, mentor.id, mentor.name)


async def consent_step(turn: Turn) -> None:
    """SETUJU records consent and moves on; a refusal is respected; anything else asks again."""
    if turn.step == "mentor":
        await _mentor_consent_step(turn)
    elif turn.step == "partner":
        await _partner_consent_step(turn)
    elif turn.choice == "mentor":
        await _ask_mentor_contact(turn)
    elif turn.choice == "agree" or _says_agree(turn):
        await identities.give_consent(turn.session, turn.identity, turn.now)
        turn.say(_("Thank you. Your agreement is saved."))
        await after_consent(turn)
    elif turn.choice == "decline" or turn.text.upper() in {"TIDAK", "NO"}:
        turn.goto("consent", "ask")
        turn.say(
            _(
                "All right, we respect that. Without your agreement we cannot help you in "
                "this chat. If you change your mind, type SETUJU.\n\n"
                "For help with your aid, please contact your mentor (pendamping) or the "
                "village office (kantor desa)."
            )
        )
    elif turn.choice == "language":
        await common.choose_language(turn)
    elif turn.step == "mentor_contact":
        await _ask_mentor_contact(turn)
    else:
        await ask_consent(turn)


def _says_agree(turn: Turn) -> bool:
    """SETUJU (or YA) typed."""
    return turn.text.upper() in {"SETUJU", "YA", "AGREE"}


async def _ask_mentor_contact(turn: Turn) -> None:
    """A mentor or partner is asked for their number, to be found on the Dinsos lists."""
    turn.goto("consent", "mentor_contact")
    turn.say(
        _(
            "Welcome! To recognise you as a mentor or partner staff, press the button below to "
            "send your phone number. We only look it up in the Dinsos lists of mentors and "
            "partner staff.\n\n"
            "Neither? Type MENU."
        ),
        ask_contact=True,
    )


async def _mentor_consent_step(turn: Turn) -> None:
    """A mentor's SETUJU records consent and opens the mentor menu; a refusal is respected."""
    mentor_id = turn.data.get("mentor_id")
    if mentor_id and (turn.choice == "agree" or _says_agree(turn)):
        mentor = await turn.session.get(Mentor, mentor_id)
        if mentor is not None:
            await identities.give_consent(
                turn.session, turn.identity, turn.now, version=identities.MENTOR_NOTICE_VERSION
            )
            await _link_mentor(turn, mentor.id, mentor.name, agreed=True)
            return
    if turn.choice == "decline" or turn.text.upper() in {"TIDAK", "NO"}:
        turn.say(
            _(
                "All right, we respect that. Without your agreement Sinergi cannot send you "
                "news of your families. Type SETUJU if you change your mind."
            )
        )
        return
    await ask_consent(turn)


async def _partner_consent_step(turn: Turn) -> None:
    """Partner staff's SETUJU records consent and opens the partner menu; a refusal is respected."""
    staff = await partners.partner_by_id(turn.session, turn.data.get("staff_id"))
    if staff is not None and (turn.choice == "agree" or _says_agree(turn)):
        await identities.give_consent(
            turn.session, turn.identity, turn.now, version=identities.PARTNER_NOTICE_VERSION
        )
        await _link_partner(turn, staff)
        return
    if turn.choice == "decline" or turn.text.upper() in {"TIDAK", "NO"}:
        turn.say(
            _(
                "All right, we respect that. Without your agreement Sinergi cannot send you "
                "the referrals for your office. Type SETUJU if you change your mind."
            )
        )
        return
    if staff is not None:
        await ask_partner_consent(turn, staff)
        return
    await ask_consent(turn)


async def language_step(turn: Turn) -> None:
    """The chosen language is saved, and the person goes on where they were going, in it: the
    privacy notice before consent, the ways to link, or the menu."""
    if not common.set_language(turn):
        await common.choose_language(turn)
        return
    with use_locale(turn.identity.locale):
        if turn.identity.consent_at is None:
            await ask_consent(turn)
        else:
            await after_consent(turn)


async def after_consent(turn: Turn) -> None:
    """A linked person gets their menu; a known phone is offered the link; others choose a way."""
    if turn.identity.household_id or turn.identity.mentor_id or turn.identity.staff_id:
        await menu.show(turn)
        return
    if turn.identity.phone and await _offer_phone_link(turn, turn.identity.phone):
        return
    await offer_ways(turn)


async def household_or_link(turn: Turn) -> Household | None:
    """The chat's household; an unlinked chat is asked to connect first (None)."""
    household = await turn.household()
    if household is None:
        turn.say(_("First, let us connect this chat to your family data."))
        await offer_ways(turn)
    return household


async def offer_ways(turn: Turn) -> None:
    """The person sees the three ways to connect this chat to their family data."""
    turn.goto("link", "choose")
    ways = [
        Choice("code", _("I have a code from my mentor")),
        Choice("nik", _("Use NIK and No. KK")),
        Choice("usul", _("My family is not registered yet")),
    ]
    if turn.inbound.shares_contact:
        ways.insert(0, Choice("contact", _("Send my phone number")))
    turn.say(_("Let us connect this chat to your family data. Choose one way:"), ways)


async def link_step(turn: Turn) -> None:
    """Dispatch within the linking journey."""
    if turn.inbound.kind == "contact":
        await by_contact(turn)
        return
    handler = {
        "choose": _choose_way,
        "code": _enter_code,
        "nik": _enter_nik,
        "kk": _enter_kk,
        "phone": _confirm_phone,
    }.get(turn.step, _choose_way)
    await handler(turn)


async def _choose_way(turn: Turn) -> None:
    """The chosen way asks its first question; a NIK, a code or a phone number typed straight
    away is taken as that way."""
    if turn.choice is None and await _typed_straight_away(turn):
        return
    if turn.choice == "contact":
        turn.goto("link", "contact")
        turn.say(_("Press the button below to send your phone number."), ask_contact=True)
    elif turn.choice == "code":
        turn.goto("link", "code")
        turn.say(_("Type the code from your mentor, for example ABCD-2345."))
    elif turn.choice == "nik":
        await _ask_nik(turn)
    elif turn.choice == "usul" or (turn.choice is None and rights.says_not_registered(turn.text)):
        await rights.begin_proposal(turn)
    else:
        await offer_ways(turn)


async def _typed_straight_away(turn: Turn) -> bool:
    """A NIK starts the NIK path (the No. KK is asked next), a mentor's code is used, a phone
    number is answered; False when the text is none of these."""
    if turn.inbound.kind != "text":
        return False
    if valid_nik(turn.text) is not None:
        if await _nik_path_open(turn):
            await _enter_nik(turn)
        return True
    if looks_like_code(turn.text):
        await _enter_code(turn)
        return True
    phone = phone_e164(turn.text) if _PHONE.fullmatch(turn.text.strip()) else None
    if phone is not None:
        await _typed_phone(turn, phone)
        return True
    return False


def looks_like_code(text: str) -> bool:
    """`ABCD-2345`, `abcd 2345`, `ABCD2345`: eight letters and digits of a link code."""
    compact = re.sub(r"[\s-]", "", text.strip()).upper()
    return (
        len(compact) == CODE_LENGTH
        and all(c in CODE_ALPHABET for c in compact)
        and any(c.isdigit() for c in compact)
        and any(c.isalpha() for c in compact)
    )


async def _typed_phone(turn: Turn, phone: str) -> None:
    """The chat's own number is offered as the link; any other number cannot link a chat."""
    if phone == turn.identity.phone and await _offer_phone_link(turn, phone):
        return
    turn.say(
        _(
            "Thank you. For your safety a typed phone number cannot connect this chat. "
            "Please use one of these ways:"
        )
    )
    await offer_ways(turn)


async def by_contact(turn: Turn) -> None:
    """A shared contact links the chat when it is the sender's own and on the roster."""
    if not turn.inbound.contact_is_own:
        turn.say(
            _("Please send your own phone number with the button, not someone else's."),
            ask_contact=True,
        )
        return
    phone = phone_e164(turn.inbound.contact_phone)
    turn.identity.phone = phone
    if phone and await _link_known_phone(turn, phone, method="contact"):
        return
    turn.say(_("We could not find your number in our data."))
    await offer_ways(turn)


async def _offer_phone_link(turn: Turn, phone: str) -> bool:
    """A mentor's number links at once; partner staff read their notice; one household with
    this number is asked to confirm."""
    mentor = await households.mentor_by_phone(turn.session, phone)
    if mentor is not None:
        await _link_mentor(turn, mentor.id, mentor.name)
        return True
    if await _partner_asked(turn, phone):
        return True
    found = await households.households_by_phone(turn.session, phone)
    if len(found) != 1:
        return False
    turn.goto("link", "phone", household_id=found[0].id)
    turn.say(
        _("Is this the family of {name}?").format(name=mask_name(found[0].name)),
        [Choice("yes", _("Yes")), Choice("no", _("No"))],
    )
    return True


async def _confirm_phone(turn: Turn) -> None:
    """`Yes` links the household offered by phone; `No` leads to the other ways."""
    household_id = turn.data.get("household_id")
    if turn.choice == "yes" and household_id:
        household = await turn.session.get(Household, household_id)
        if household is not None:
            await _link_household(turn, household, method="phone")
            return
    await offer_ways(turn)


async def _link_known_phone(turn: Turn, phone: str, *, method: str) -> bool:
    """Link to the mentor or the single household with this phone (partner staff are asked
    to agree to their notice first); False when there is none."""
    mentor = await households.mentor_by_phone(turn.session, phone)
    if mentor is not None:
        await _link_mentor(turn, mentor.id, mentor.name)
        return True
    if await _partner_asked(turn, phone):
        return True
    found = await households.households_by_phone(turn.session, phone)
    if len(found) == 1:
        await _link_household(turn, found[0], method=method)
        return True
    return False


async def _partner_asked(turn: Turn, phone: str) -> bool:
    """Partner staff with this number are asked to agree to their own notice; False if none."""
    staff = await partners.partner_by_phone(turn.session, phone)
    if staff is None:
        return False
    await ask_partner_consent(turn, staff)
    return True


async def _enter_code(turn: Turn) -> None:
    """A valid code links the chat; a wrong or used one says so and asks again."""
    household_id = await links.try_link_code(
        turn.session,
        turn.text,
        identity_id=turn.identity.id,
        now=turn.now,
        per_chat=turn.rules.nik_tries_per_chat,
        window=turn.rules.nik_window,
    )
    if isinstance(household_id, links.TooManyTries):
        await _too_many(turn)
        return
    if household_id is None:
        turn.say(
            _(
                "This code is wrong, already used or expired. Check it, or ask your mentor "
                "for a new one. Type BATAL to go back."
            )
        )
        return
    household = await turn.session.get(Household, household_id)
    assert household is not None
    await _link_household(turn, household, method="code")


async def _nik_path_open(turn: Turn) -> bool:
    """Whether this chat may try a NIK now; if not, the person is sent to their mentor."""
    if not await links.chat_tries_left(
        turn.session,
        identity_id=turn.identity.id,
        now=turn.now,
        per_chat=turn.rules.nik_tries_per_chat,
        window=turn.rules.nik_window,
    ):
        await _too_many(turn)
        return False
    return True


async def _ask_nik(turn: Turn) -> None:
    """The person is asked for the NIK of the head of the family, unless tries are used up."""
    if not await _nik_path_open(turn):
        return
    turn.goto("link", "nik")
    turn.say(_("Type the NIK of the head of the family (16 digits, as on the e-KTP)."))


async def _enter_nik(turn: Turn) -> None:
    """A well-formed NIK is kept only as a hash while the No. KK is asked."""
    nik = valid_nik(turn.text)
    if nik is None:
        turn.say(
            _(
                "A NIK has 16 digits, for example 6472015001900001. Please check and type it "
                "again, or type BATAL."
            )
        )
        return
    turn.goto("link", "kk", nik_hash=turn.rules.vault.hash(nik))
    turn.say(_("Now type the No. KK (the 16-digit number on your family card)."))


async def _enter_kk(turn: Turn) -> None:
    """NIK and No. KK together link the chat; a mismatch gets the same answer whatever failed."""
    no_kk = sixteen_digits(turn.text)
    if no_kk is None:
        turn.say(_("A No. KK has 16 digits. Please check and type it again, or type BATAL."))
        return
    nik_hash = turn.data.get("nik_hash", "")
    if not await links.nik_tries_allowed(
        turn.session,
        identity_id=turn.identity.id,
        nik_hash=nik_hash,
        now=turn.now,
        per_chat=turn.rules.nik_tries_per_chat,
        window=turn.rules.nik_window,
        per_nik_per_day=turn.rules.nik_tries_per_nik_per_day,
        kk_hash=turn.rules.vault.hash(no_kk),
    ):
        await _too_many(turn)
        return
    household = await households.household_by_nik_and_kk(turn.session, nik_hash, no_kk)
    links.record_attempt(
        turn.session,
        identity_id=turn.identity.id,
        nik_hash=nik_hash,
        now=turn.now,
        success=household is not None,
        kk_hash=turn.rules.vault.hash(no_kk),
    )
    if household is None:
        turn.goto("link", "nik")
        turn.say(_("The NIK and No. KK do not match our data. Type the NIK again, or type BATAL."))
        return
    await _link_household(turn, household, method="nik")


async def _too_many(turn: Turn) -> None:
    """After too many tries the person is sent to their mentor, not told what was wrong."""
    turn.goto("link", "choose")
    turn.say(
        _(
            "Too many tries. Please contact your mentor (pendamping) or the village office "
            "for help, or try again later."
        )
    )


async def _link_household(turn: Turn, household: Household, *, method: str) -> None:
    """The chat is linked; the NIK path also tells the household's mentor, who can undo it."""
    turn.identity.household_id, turn.identity.mentor_id = household.id, None
    turn.identity.link_method = method
    audit.record_on(
        turn.session,
        household,
        actor=f"chat:{turn.identity.id}",
        action="link",
        now=turn.now,
        method=method,
    )
    if method == "nik":
        await notices.linked_by_nik(turn.session, household, turn.identity.id, now=turn.now)
    await menu.show(
        turn,
        _(
            "Done. This chat is now connected to the family of {name}.\n\n"
            "Main menu. Choose a number:"
        ).format(name=mask_name(household.name)),
    )


async def _link_mentor(turn: Turn, mentor_id: int, name: str, *, agreed: bool = False) -> None:
    """A mentor's chat is recognised by phone and gets the mentor menu (thanked when they
    have just agreed to the mentors' notice)."""
    turn.identity.mentor_id, turn.identity.household_id = mentor_id, None
    turn.identity.link_method = "phone"
    mentor = await turn.session.get(Mentor, mentor_id)
    if mentor is not None and mentor.gender:  # "Bu Rina", as a household is greeted
        name = common.address(mentor.name, mentor.gender)
    await notices.kept_for_new_mentor(turn.session, turn.identity, now=turn.now)
    hello = (
        _("Thank you, {name}. You are registered as a mentor (pendamping).")
        if agreed
        else _("Hello {name}. You are registered as a mentor (pendamping).")
    )
    await menu.show(turn, hello.format(name=name) + "\n\n" + _("Mentor menu. Choose a number:"))


async def _link_partner(turn: Turn, staff: StaffUser) -> None:
    """A partner's chat is recognised by the number on their account and gets the partner menu."""
    identities.link_partner(turn.identity, staff.id)
    organisation = (
        await turn.session.get(Organisation, staff.organisation_id)
        if staff.organisation_id
        else None
    )
    hello = _("Thank you. This chat now answers the referrals sent to {organisation}.").format(
        organisation=organisation.name if organisation else "-"
    )
    await menu.show(turn, hello + "\n\n" + _("Partner menu. Choose a number:"))
