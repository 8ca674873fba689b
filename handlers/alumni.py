"""alumni: the graduates' community. A graduate lists its business (name → kind → phone? → agree)
or withdraws it (HAPUS IKLAN), offers to be a peer mentor; anyone linked searches ("cari usaha:
jahit Samarinda"); a mentor pairs a peer mentor with one of their families.

Nothing is listed without the household's own yes at the last step; the yes is dated in storage.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.messages import Choice
from handlers import menu, notices
from handlers.labels import BUSINESS_KIND_WORDS, BUSINESS_KINDS
from handlers.turn import Turn
from handlers.understand import normalise, stem
from locales.i18n import _
from storage import alumni
from storage.crypto import mask_name
from storage.models import Household

RESULTS = 5  # businesses shown for one search
PAGE = 8  # families or peers offered at once to a mentor
MATCH = 80  # how alike (0-100) a typed word must be to a kind's word or a place's name
# Words of a search that say "search", not what is searched for.
SEARCH_WORDS = frozenset(
    [
        "cari",
        "carikan",
        "mencari",
        "usaha",
        "alumni",
        "lulusan",
        "direktori",
        "iklan",
        "di",
        "yang",
        "ingin",
        "mau",
        "ada",
        "dong",
        "tolong",
        "find",
        "a",
        "business",
        "search",
        "untuk",
        "saya",
        "daerah",
        "kota",
        "kabupaten",
        "kab",
        "desa",
        "kecamatan",
        "kec",
        "sekitar",
    ]
)
LONG_SEARCH_WORDS = tuple(w for w in SEARCH_WORDS if len(w) >= 5)  # long enough for a typo


# Household: the hub ------------------------------------------------------------------------


async def show(turn: Turn) -> None:
    """A graduate sees its listing and peer-mentor offer with the choices to change them; any
    other family goes straight to searching; a mentor chooses to search or to pair a peer."""
    from handlers import start  # a cycle at import time otherwise: start shows the menu

    if turn.identity.mentor_id is not None:
        turn.goto("alumni", "hub")
        turn.say(
            _("The graduates' community: families who stand on their own, and their businesses.")
            + "\n\n"
            + _("Choose a number:"),
            [
                Choice("al:search", _("Find a business")),
                Choice("al:pairing", _("Pair a peer mentor")),
            ],
        )
        return
    household = await start.household_or_link(turn)
    if household is None:
        return
    if not await alumni.is_graduate(turn.session, household.id):
        await ask_search(turn)
        return
    row = await alumni.of_household(turn.session, household.id)
    listed = row is not None and row.listed_at is not None
    peer = row is not None and row.peer_at is not None
    lines = [_("The graduates' community: families who stand on their own, and their businesses.")]
    if listed and row is not None:
        lines.append(
            _("Your business {name} is listed. Type HAPUS IKLAN to remove it.").format(
                name=row.business_name
            )
        )
    else:
        lines.append(
            _("List your business so other families, mentors and cooperatives can find you.")
        )
    if peer:
        lines.append(_("You offered to be a peer mentor. Thank you."))
    choices = [
        Choice("al:unlist", _("Remove my listing"))
        if listed
        else Choice("al:list", _("List my business")),
        Choice("al:unpeer", _("Stop being a peer mentor"))
        if peer
        else Choice("al:peer", _("Offer to be a peer mentor")),
        Choice("al:search", _("Find a business")),
    ]
    turn.goto("alumni", "hub")
    turn.say("\n\n".join(lines) + "\n\n" + _("Choose a number:"), choices)


async def step(turn: Turn) -> None:
    """The next message of the alumni journey, by its step."""
    where = turn.step
    if turn.identity.mentor_id is not None and where in ("peer", "family", "pair"):
        await _mentor_step(turn)
    elif where == "search":
        await search(turn, turn.text)
    elif where == "name":
        await kind_question(turn)
    elif where == "kind":
        await phone_question(turn)
    elif where == "phone":
        await agree_question(turn)
    elif where == "agree":
        await agree(turn)
    elif where == "peer_agree":
        await peer_agree(turn)
    else:
        await _hub_choice(turn)


async def _hub_choice(turn: Turn) -> None:
    """A choice of the hub starts its step; anything else shows the hub again."""
    choice = turn.choice or ""
    if choice == "al:search":
        await ask_search(turn)
    elif choice == "al:list":
        turn.goto("alumni", "name")
        turn.say(_("What is your business called? For example: Jahitan Bu Siti."))
    elif choice == "al:unlist":
        await withdraw(turn)
    elif choice == "al:peer":
        turn.goto("alumni", "peer_agree")
        turn.say(
            _(
                "A peer mentor shares what they learned with a family starting out. Your mentor "
                "may pair you with a family: they will know your name, your desa and your "
                "business. Do you agree?"
            ),
            [Choice("yes", _("Yes, I offer")), Choice("no", _("No"))],
        )
    elif choice == "al:pairing" and turn.identity.mentor_id is not None:
        await peers(turn)
    elif choice == "al:unpeer":
        await _peer(turn, offer=False)
    elif turn.identity.mentor_id is not None:
        await menu.show(turn)
    else:
        await show(turn)


# Household: listing and withdrawing ----------------------------------------------------------


async def kind_question(turn: Turn) -> None:
    """The business's name kept; the kinds of business as numbered choices."""
    name = " ".join(turn.text.split())[: alumni.MAX_NAME]
    if len(name) < 2:
        turn.say(_("Please type the name of your business."))
        return
    turn.goto("alumni", "kind", name=name)
    turn.say(
        _("What kind of business is it? Choose a number:"),
        [Choice(f"kind:{code}", _(label)) for code, label in BUSINESS_KINDS.items()],
    )


async def phone_question(turn: Turn) -> None:
    """The kind kept; may other people see the family's phone number?"""
    kind = (turn.choice or "").removeprefix("kind:")
    if kind not in BUSINESS_KINDS:
        turn.say(
            _("What kind of business is it? Choose a number:"),
            [Choice(f"kind:{code}", _(label)) for code, label in BUSINESS_KINDS.items()],
        )
        return
    turn.goto("alumni", "phone", name=turn.data.get("name", ""), kind=kind)
    turn.say(
        _("May people who find your business see your phone number?"),
        [Choice("yes", _("Yes, show my number")), Choice("no", _("No, do not show it"))],
    )


async def agree_question(turn: Turn) -> None:
    """What will be listed, in full, and the question to agree."""
    if turn.choice not in ("yes", "no"):
        turn.say(
            _("May people who find your business see your phone number?"),
            [Choice("yes", _("Yes, show my number")), Choice("no", _("No, do not show it"))],
        )
        return
    household = await turn.household()
    assert household is not None
    share = turn.choice == "yes"
    turn.remember(share=share)
    turn.conversation.step = "agree"
    shown = (
        _("phone {phone}").format(phone=household.phone or "-") if share else _("no phone number")
    )
    turn.say(
        _(
            "This will be listed for other families, mentors, cooperatives and partner offices "
            "to find:\n{name} ({kind}), desa {desa}, {phone}.\n\nYou can remove it at any time "
            "by typing HAPUS IKLAN. Do you agree?"
        ).format(
            name=turn.data.get("name", ""),
            kind=_(BUSINESS_KINDS[turn.data.get("kind", "jasa")]),
            desa=household.desa or "-",
            phone=shown,
        ),
        [Choice("yes", _("Yes, list it")), Choice("no", _("No, do not list it"))],
    )


async def agree(turn: Turn) -> None:
    """Yes lists the business with today's consent; no lists nothing."""
    household = await turn.household()
    assert household is not None
    if turn.choice != "yes":
        await menu.show(turn, _("Nothing was listed.") + "\n\n" + _("Main menu. Choose a number:"))
        return
    try:
        await alumni.list_business(
            turn.session,
            household,
            name=str(turn.data.get("name", "")),
            kind=str(turn.data.get("kind", "jasa")),
            share_phone=bool(turn.data.get("share")),
            now=turn.now,
        )
    except alumni.NotGraduate:
        await menu.show(turn, _not_graduate())
        return
    await menu.show(
        turn,
        _("Your business is listed. Type HAPUS IKLAN to remove it at any time.")
        + "\n\n"
        + _("Main menu. Choose a number:"),
    )


def _not_graduate() -> str:
    """Only graduates are listed."""
    return (
        _("Only families who stand on their own (mandiri) can be listed.")
        + "\n\n"
        + _("Main menu. Choose a number:")
    )


async def withdraw(turn: Turn) -> None:
    """HAPUS IKLAN: the family's business is no longer listed (or was not)."""
    from handlers import start

    household = await start.household_or_link(turn)
    if household is None:
        return
    removed = await alumni.withdraw(turn.session, household.id, now=turn.now)
    text = (
        _("Your business is no longer listed. Nobody will find it in a search.")
        if removed
        else _("Your business is not listed.")
    )
    await menu.show(turn, text + "\n\n" + _("Main menu. Choose a number:"))


async def peer_agree(turn: Turn) -> None:
    """Yes makes the graduate a peer mentor; no changes nothing."""
    if turn.choice == "yes":
        await _peer(turn, offer=True)
    else:
        await menu.show(turn)


async def _peer(turn: Turn, *, offer: bool) -> None:
    """The offer to be a peer mentor made or taken back."""
    household = await turn.household()
    assert household is not None
    try:
        await alumni.offer_peer(turn.session, household, offer=offer, now=turn.now)
    except alumni.NotGraduate:
        await menu.show(turn, _not_graduate())
        return
    text = (
        _("Thank you. Your mentor may ask you to accompany a family starting out.")
        if offer
        else _("You are no longer offered as a peer mentor.")
    )
    await menu.show(turn, text + "\n\n" + _("Main menu. Choose a number:"))


# Searching (households and mentors) ----------------------------------------------------------


async def find(turn: Turn) -> None:
    """ "cari usaha: jahit Samarinda": the businesses found, or the question what to look for."""
    if not terms(turn.text):
        await ask_search(turn)
    else:
        await search(turn, turn.text)


async def ask_search(turn: Turn) -> None:
    """The person is asked what business to look for, with an example."""
    turn.goto("alumni", "search")
    turn.say(
        _(
            "What business are you looking for? Type the kind and the place, for example: "
            "jahit Samarinda."
        )
    )


def terms(text: str) -> list[str]:
    """The words of a search that say what is searched for (`jahit`, `samarinda`)."""
    words = normalise(text).split()
    return [w for w in words if len(w) > 2 and not _searching(w)]


def _searching(word: str) -> bool:
    """The word says "search" (`cari`, `usaha`), as written, as another form, or with a typo."""
    if word in SEARCH_WORDS or stem(word) in SEARCH_WORDS:
        return True
    typo = process.extractOne(word, LONG_SEARCH_WORDS, scorer=fuzz.ratio, score_cutoff=85)
    return len(word) >= 5 and typo is not None


def kind_of(word: str) -> str | None:
    """The kind of business a word names, typed right, as another form, or with a typo."""
    for code, words in BUSINESS_KIND_WORDS.items():
        if word in words or stem(word) in words:
            return code
    choices = {w: code for code, words in BUSINESS_KIND_WORDS.items() for w in words}
    best = process.extractOne(word, list(choices), scorer=fuzz.ratio, score_cutoff=MATCH)
    return choices[best[0]] if best and len(word) >= 4 else None


def place_of(word: str, places: list[str]) -> str:
    """The listed place a word means (`samrinda` → `samarinda`), or the word itself."""
    best = process.extractOne(word, places, scorer=fuzz.ratio, score_cutoff=MATCH)
    return str(best[0]) if best and len(word) >= 4 else word


async def search(turn: Turn, text: str) -> None:
    """Up to RESULTS listed businesses matching the words; the phone only when shared."""
    wanted = terms(text)
    if not wanted:
        await ask_search(turn)
        return
    kinds: list[str] = []
    words: list[str] = []
    places = await alumni.places(turn.session)
    for word in wanted:
        kind = kind_of(word)
        if kind is not None:
            kinds.append(kind)
        else:
            words.append(place_of(word, places))
    found = await alumni.search(turn.session, kinds=kinds, words=words, limit=RESULTS)
    turn.goto("menu", "choose")
    if not found:
        turn.say(
            _(
                "No listed business matches “{words}”. Try other words, for example only the "
                "kind (jahit, kue, warung) or only the place."
            ).format(words=" ".join(wanted))
            + "\n\n"
            + _("Type MENU for the menu.")
        )
        return
    lines = [_("Businesses of graduates ({count}):").format(count=len(found))]
    for number, business in enumerate(found, start=1):
        lines.append(f"{number}. {business_line(business)}")
    turn.say("\n".join(lines) + "\n\n" + _("Type MENU for the menu."))


def business_line(business: alumni.Business) -> str:
    """`Jahitan Bu Siti: Sewing and tailoring, desa Rawa Makmur (Kota Samarinda), 0812…`."""
    place = business.desa or "-"
    if business.kabupaten:
        place += f" ({business.kabupaten})"
    line = _("{name}: {kind}, desa {place}").format(
        name=business.name, kind=_(BUSINESS_KINDS.get(business.kind, business.kind)), place=place
    )
    return f"{line}, {business.phone}" if business.phone else line


# Mentor: pairing a peer mentor with a family -------------------------------------------------


async def peers(turn: Turn) -> None:
    """The mentor sees the graduates near them who offered to mentor, each a button."""
    mentor = await turn.mentor()
    assert mentor is not None
    found = await alumni.peers_near(turn.session, mentor.region_code, limit=PAGE)
    if not found:
        await menu.show(
            turn,
            _("No graduate near you has offered to be a peer mentor yet.")
            + "\n\n"
            + _("Main menu. Choose a number:"),
        )
        return
    lines = [_("Graduates who offer to be peer mentors. Choose one:")]
    for number, peer in enumerate(found, start=1):
        business = f", {peer.business}" if peer.business else ""
        lines.append(f"{number}. {mask_name(peer.name)} ({peer.desa or '-'}{business})")
    turn.goto("alumni", "peer")
    turn.say(
        "\n".join(lines),
        [Choice(f"al:peer:{p.household_id}", mask_name(p.name)[:24]) for p in found],
    )


async def _mentor_step(turn: Turn) -> None:
    """A peer chosen → the mentor's families; a family chosen → confirm; yes → paired, both told."""
    kind, _sep, arg = (turn.choice or "").removeprefix("al:").partition(":")
    if turn.step == "peer" and kind == "peer" and arg.isdigit():
        await _families(turn, int(arg))
    elif turn.step == "family" and kind == "hh" and arg.isdigit():
        await _ask_pair(turn, int(arg))
    elif turn.step == "pair" and turn.choice == "yes":
        await _pair(turn)
    else:
        await peers(turn)


async def _families(turn: Turn, peer_id: int) -> None:
    """The mentor's own families (not the peer), each a button."""
    assert turn.identity.mentor_id is not None
    families = await alumni.mentees(turn.session, turn.identity.mentor_id, but=peer_id, limit=PAGE)
    if not families:
        await menu.show(
            turn,
            _("You have no family to pair yet.") + "\n\n" + _("Main menu. Choose a number:"),
        )
        return
    turn.goto("alumni", "family", peer=peer_id)
    turn.say(
        _("Which of your families should this peer mentor accompany?"),
        [Choice(f"al:hh:{h.id}", mask_name(h.name)[:24]) for h in families],
    )


async def _own(turn: Turn, household_id: int) -> Household | None:
    """The household, only if this mentor is its mentor."""
    household = await turn.session.get(Household, household_id)
    return household if household and household.mentor_id == turn.identity.mentor_id else None


async def _ask_pair(turn: Turn, household_id: int) -> None:
    """The mentor is asked to be sure; both families will be told."""
    peer = await turn.session.get(Household, int(turn.data.get("peer", 0)))
    family = await _own(turn, household_id)
    if peer is None or family is None:
        await peers(turn)
        return
    turn.goto("alumni", "pair", peer=peer.id, household=family.id)
    turn.say(
        _(
            "Pair {peer} as peer mentor of the family of {family}? Both families will be told."
        ).format(peer=mask_name(peer.name), family=mask_name(family.name)),
        [Choice("yes", _("Yes, pair them")), Choice("no", _("No, back"))],
    )


async def _pair(turn: Turn) -> None:
    """The pairing recorded; the peer and the family each hear of the other."""
    assert turn.identity.mentor_id is not None
    peer = await turn.session.get(Household, int(turn.data.get("peer", 0)))
    family = await _own(turn, int(turn.data.get("household", 0)))
    if peer is None or family is None:
        await peers(turn)
        return
    try:
        pairing, new = await alumni.pair(
            turn.session,
            peer_household_id=peer.id,
            household_id=family.id,
            mentor_id=turn.identity.mentor_id,
            now=turn.now,
        )
    except alumni.NotGraduate:
        await menu.show(
            turn,
            _("This graduate no longer offers to be a peer mentor.")
            + "\n\n"
            + _("Main menu. Choose a number:"),
        )
        return
    if new:
        await notices.peer_paired(turn.session, pairing, now=turn.now)
    await menu.show(
        turn,
        _("Done. {peer} and the family of {family} are told.").format(
            peer=mask_name(peer.name), family=mask_name(family.name)
        )
        + "\n\n"
        + _("Main menu. Choose a number:"),
    )
