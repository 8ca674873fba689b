"""Every message a state change sends to someone who did not ask: the household, the mentor.

Storage changes the state and returns the row or the event; the caller (a journey, a job, an
admin route, the CLI) then calls one function here, which words the news in each reader's
language and queues it on each of their chats (`handlers/notify.py`). The dedupe keys are
stored with the outbox rows: keep them as they are, or a repeated call would send twice.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Attachment, Choice, Reply
from handlers import labels
from handlers.notify import tell_chats, tell_household, tell_mentor, tell_organisation
from locales.i18n import _, long_date, month_name, ngettext, rupiah
from storage import alumni, calendar, identities, memberships, outbox
from storage.crypto import mask_name
from storage.erasure import FAREWELL
from storage.media import LOCAL_PREFIX
from storage.models import (
    AlumniListing,
    ChatIdentity,
    Household,
    Membership,
    Mentor,
    Organisation,
    PeerPairing,
    ProgressReport,
    Proposal,
    Referral,
    RelapseSignal,
    RequestEvent,
    ServiceRequest,
)

# Requests --------------------------------------------------------------------------------------


async def request_moved(
    session: AsyncSession, row: ServiceRequest, event: RequestEvent, *, now: datetime
) -> int:
    """Each chat of the household hears that its request moved, and any note of the office."""
    mentor = await _mentor_of(session, row.household_id) if row.state == "ditolak" else None
    return await tell_household(
        session,
        row.household_id,
        lambda: Reply(text=request_moved_text(row, event, mentor)),
        now=now,
        dedupe_key=f"request:{row.id}:event:{event.id}",
    )


async def _mentor_of(session: AsyncSession, household_id: int) -> Mentor | None:
    """The household's mentor, the person to turn to after bad news."""
    household = await session.get(Household, household_id)
    if household is None or household.mentor_id is None:
        return None
    return await session.get(Mentor, household.mentor_id)


def request_moved_text(
    row: ServiceRequest, event: RequestEvent, mentor: Mentor | None = None
) -> str:
    """What the household reads when its request moves: the news first, then what comes next."""
    if row.kind == "hapus" and row.state == "ditolak":
        return erasure_refused_text(row, event, mentor)
    subject = _(labels.REQUEST_SUBJECTS.get(row.kind, labels.REQUEST_SUBJECTS["pelatihan"]))
    text = _request_news(row).format(
        request=subject,
        reference=row.reference,
        office=row.referred_to or "",
        state=labels.request_state(row),
    )
    if event.note:
        text += "\n" + _("Note from the office: {note}").format(note=event.note)
    if row.state == "disetujui":
        text += "\n" + _("The office or your mentor will contact you about the next step.")
    if row.state == "ditolak" and mentor is not None:
        text += "\n" + _("Questions? Ask your mentor, {name} ({phone}).").format(
            name=mentor.name, phone=mentor.phone
        )
    return text + "\n\n" + _("Type STATUS PENGAJUAN to see all your requests.")


def _request_news(row: ServiceRequest) -> str:
    """The first sentence for the request's new state: {request}, {reference}, {office}, {state}."""
    if row.state == "diproses":
        return _("{request} ({reference}) is being processed by the office.")
    if row.state == "disetujui":
        return _("Good news! {request} ({reference}) is approved.")
    if row.state == "ditolak":
        return _("We are sorry: {request} ({reference}) is not approved.")
    if row.state == "dirujuk" and row.referred_to:
        return _("{request} ({reference}) is passed on to {office}.")
    if row.state == "selesai":
        return _("{request} ({reference}) is finished.")
    return _("{request} ({reference}) is now: {state}.")


async def correction_outcome(
    session: AsyncSession, row: ServiceRequest, event: RequestEvent, *, now: datetime
) -> int:
    """Each chat of the household hears what became of its data correction, and any date."""
    mentor = await _mentor_of(session, row.household_id) if row.outcome == "rejected" else None
    return await tell_household(
        session,
        row.household_id,
        lambda: Reply(text=correction_outcome_text(row, event, mentor)),
        now=now,
        dedupe_key=f"request:{row.id}:event:{event.id}",
    )


def correction_outcome_text(
    row: ServiceRequest, event: RequestEvent, mentor: Mentor | None = None
) -> str:
    """What the household reads: corrected here, sent on to DTSEN (and by when), or why not."""
    if row.outcome == "corrected":
        text = _(
            "Your data correction {reference} is done: the office has corrected your data."
        ).format(reference=row.reference)
    elif row.outcome == "forwarded" and row.expected_on is not None:
        text = _(
            "Your data correction {reference} is sent on to the national register "
            "(DTSEN, Kemensos). The national data should change by {date}. "
            "Until then, aid may still follow the old data."
        ).format(reference=row.reference, date=long_date(row.expected_on))
    else:
        text = _("We are sorry: your data correction {reference} is not accepted.").format(
            reference=row.reference
        )
    if event.note:
        label = (
            _("Reason: {note}") if row.outcome == "rejected" else _("Note from the office: {note}")
        )
        text += "\n" + label.format(note=event.note)
    if row.outcome == "rejected":
        text += "\n" + _("You can send a new correction with SANGGAH.")
        if mentor is not None:
            text += "\n" + _("Questions? Ask your mentor, {name} ({phone}).").format(
                name=mentor.name, phone=mentor.phone
            )
    return text + "\n\n" + _("Type STATUS PENGAJUAN to see all your requests.")


async def request_filed(
    session: AsyncSession,
    row: ServiceRequest,
    household: Household,
    *,
    now: datetime,
    hours: dict[str, str] | None,
) -> int:
    """The family's mentor hears of the new request once, in their delivery hours."""
    return await tell_mentor(
        session,
        household.mentor_id,
        lambda: Reply(request_filed_text(row, household)),
        now=now,
        dedupe_key=f"request-new:{row.id}",
        hours=hours,
    )


def request_filed_text(row: ServiceRequest, household: Household) -> str:
    """What the mentor reads: which family asked for what, and where to find it."""
    text = _("New request {reference} from {name} (No. KK ending {kk}): {kind}.").format(
        reference=row.reference,
        name=mask_name(household.name),
        kk=household.no_kk[-4:],
        kind=labels.request_kind(row),
    )
    return text + "\n" + _("Type MENU and choose New reports and requests to see it.")


async def data_restricted(
    session: AsyncSession, row: ServiceRequest, chats: list[ChatIdentity], *, now: datetime
) -> int:
    """Each former chat of the family hears that Sinergi no longer uses its data."""
    return await tell_chats(
        session,
        chats,
        lambda: Reply(text=data_restricted_text(row)),
        now=now,
        dedupe_key=f"request:{row.id}:restricted",
    )


def data_restricted_text(row: ServiceRequest) -> str:
    """What the family reads when Dinsos has granted HAPUS DATA's "stop using my data"."""
    return _(
        "Dinsos agreed to your request {reference}. Sinergi no longer uses your data and "
        "sends you no more messages. Your entry in the government's register (DTSEN) stays "
        "with the government; your aid does not change. Type MULAI to use Sinergi again."
    ).format(reference=row.reference)


async def data_erased(session: AsyncSession, row: ServiceRequest, *, now: datetime) -> int:
    """Each chat of the family hears, before its erasure, what went and what the office keeps.

    Queued under the erasure's last-word key, which the erasure spares and the sender empties
    once it is sent (storage/erasure.py `FAREWELL`).
    """
    return await tell_household(
        session,
        row.household_id,
        lambda: Reply(
            text=data_erased_text(row),
            template="data_erased",
            template_params=(row.reference,),
        ),
        now=now,
        dedupe_key=f"{FAREWELL}request:{row.id}",
    )


def data_erased_text(row: ServiceRequest) -> str:
    """What the family reads when Dinsos has granted HAPUS DATA's "erase my data"."""
    return _(
        "Dinsos agreed to your request {reference}. Sinergi has erased your chats, photos, "
        "voice messages, what you wrote in reports and requests, and your phone number. "
        "This chat is no longer connected to your family.\n\n"
        "What the office must keep: your family's entry in the government's register (DTSEN) "
        "and your aid programs. Sinergi cannot erase them, and your aid does not change.\n\n"
        "This is the last message from Sinergi. To use Sinergi again, type MULAI."
    ).format(reference=row.reference)


def erasure_refused_text(
    row: ServiceRequest, event: RequestEvent, mentor: Mentor | None = None
) -> str:
    """What the family reads when Dinsos refuses HAPUS DATA: why, and that nothing changed."""
    if row.topic == "restrict":
        text = _("Dinsos did not agree to stop using your data (request {reference}).")
    else:
        text = _("Dinsos did not agree to erase your data (request {reference}).")
    text = text.format(reference=row.reference)
    if event.note:
        text += "\n" + _("Reason: {note}").format(note=event.note)
    text += "\n" + _(
        "Your data stays as it was. Your entry in the government's register (DTSEN) is kept "
        "by the office in any case. You can ask again with HAPUS DATA."
    )
    if mentor is not None:
        text += "\n" + _("Questions? Ask your mentor, {name} ({phone}).").format(
            name=mentor.name, phone=mentor.phone
        )
    return text


async def proposal_moved(session: AsyncSession, row: Proposal, *, now: datetime) -> int:
    """The chat that proposed a family hears what the office decided (unless it has stopped)."""
    chat = await session.get(ChatIdentity, row.identity_id)
    if chat is None or chat.opted_out or chat.consent_at is None:
        return 0
    return await tell_chats(
        session,
        [chat],
        lambda: Reply(text=proposal_moved_text(row)),
        now=now,
        dedupe_key=f"proposal:{row.id}:{row.state}",
    )


def proposal_moved_text(row: Proposal) -> str:
    """What the person reads when the office visits, registers or declines a proposed family."""
    if row.state == "didaftarkan":
        text = _(
            "Good news: the family you proposed ({reference}) is now registered by the office."
        )
    elif row.state == "ditolak":
        text = _("We are sorry: the office did not accept proposal {reference}.")
    else:
        text = _("The office has visited or will visit the family of proposal {reference}.")
    text = text.format(reference=row.reference)
    if row.note:
        label = _("Reason: {note}") if row.state == "ditolak" else _("Note from the office: {note}")
        text += "\n" + label.format(note=row.note)
    return text


# Referrals -------------------------------------------------------------------------------------


async def referral_news(session: AsyncSession, row: Referral, *, now: datetime) -> int:
    """Each chat of the household hears where its referral stands now (made, answered, closed),
    and its mentor reads the same step."""
    office = await organisation_name(session, row)
    told = await tell_household(
        session,
        row.household_id,
        lambda: Reply(referral_news_text(row, office)),
        now=now,
        dedupe_key=f"referral:{row.id}:{row.state}",
    )
    household = await session.get(Household, row.household_id)
    if household is not None:
        await tell_mentor(
            session,
            household.mentor_id,
            lambda: Reply(referral_mentor_text(row, household, office)),
            now=now,
            dedupe_key=f"referral-mentor:{row.id}:{row.state}",
            hours=outbox.within_hours(household.region_code),
        )
    return told


async def organisation_name(session: AsyncSession, row: Referral) -> str | None:
    """The organisation's own name ("Disnakertrans Kaltim"); None for a referral of old, by kind."""
    if row.organisation_id is None:
        return None
    organisation = await session.get(Organisation, row.organisation_id)
    return organisation.name if organisation else None


def _office(row: Referral, name: str | None) -> str:
    """The office as the household reads it: its name, else the kind of office."""
    return name or _(labels.OFFICE_NAMES.get(row.office, row.office))


def referral_news_text(row: Referral, office_name: str | None = None) -> str:
    """What the household reads when a referral is made or answered: the news first."""
    office = _office(row, office_name)
    news = {
        "dikirim": _("Dinsos has passed your request on to {office}: {asked}."),
        "diterima": _("Good news! {office} accepted your referral: {asked}."),
        "selesai": _("Your referral to {office} is done: {asked}."),
        "ditolak": _("Sorry, {office} did not accept your referral: {asked}."),
    }
    text = news.get(row.state, _("{office}: {asked}.")).format(office=office, asked=row.asked[:120])
    text += "".join("\n" + line for line in _referral_details(row))
    if row.state == "dikirim":
        text += "\n" + _("We will tell you here when the office answers.")
    elif row.state == "ditolak":
        text += "\n" + _("Your mentor will help you find another way.")
    return text


def _referral_details(row: Referral) -> list[str]:
    """The partner's date or plan, reason, outcome and note, one line each, as far as given."""
    lines = []
    if row.state == "diterima" and row.plan_date:
        lines.append(_("Date: {date}").format(date=long_date(row.plan_date)))
    if row.state == "diterima" and row.plan:
        lines.append(_("Plan: {plan}").format(plan=row.plan))
    if row.state == "ditolak" and row.reason:
        lines.append(_("Reason: {note}").format(note=row.reason))
    if row.state == "selesai" and row.outcome:
        outcome = _(labels.OUTCOME_NAMES.get(row.outcome, row.outcome))
        lines.append(_("Result: {outcome}").format(outcome=outcome))
    if row.note:
        lines.append(_("Note from the office: {note}").format(note=row.note))
    return lines


def referral_mentor_text(row: Referral, household: Household, office_name: str | None) -> str:
    """What the mentor reads at each step of a referral of one of their families."""
    state = _(labels.REFERRAL_STATE_NAMES.get(row.state, row.state))
    text = _("Referral of {name} (No. KK ending {kk}) to {office}: {asked}.").format(
        name=mask_name(household.name),
        kk=household.no_kk[-4:],
        office=_office(row, office_name),
        asked=row.asked[:120],
    )
    text += "\n" + _("Status: {state}.").format(state=state)
    return text + "".join("\n" + line for line in _referral_details(row))


async def referral_received(
    session: AsyncSession,
    row: Referral,
    household: Household,
    organisation: Organisation,
    *,
    now: datetime,
) -> int:
    """The organisation's linked chats hear of a new referral, in delivery hours; how many."""
    return await tell_organisation(
        session,
        organisation,
        lambda: Reply(referral_received_text(row, household)),
        now=now,
        dedupe_key=f"referral-partner:{row.id}",
        hours=outbox.within_hours(organisation.region_code),
    )


def referral_received_text(row: Referral, household: Household) -> str:
    """What the partner reads in the chat: a new referral, whose (masked), what, and where to answer."""
    text = _("New referral from Dinsos: {name} ({desa}) asks for {asked}.").format(
        name=mask_name(household.name), desa=household.desa or "-", asked=row.asked[:120]
    )
    if row.answer_by:
        text += "\n" + _("Please answer by {date}.").format(date=long_date(row.answer_by))
    return text + "\n" + _("Open Sinergi (Referrals to us) to accept or decline it.")


def referral_overdue_reply(args: dict[str, Any]) -> Reply:
    """The partner's one reminder of a referral left without an answer (a deferred message)."""
    text = _("Reminder: the referral of {name} ({desa}) has had no answer since {date}.").format(
        name=mask_name(str(args.get("name") or "")),
        desa=args.get("desa") or "-",
        date=long_date(date.fromisoformat(str(args["sent"])[:10])),
    )
    return Reply(text + "\n" + _("Open Sinergi (Referrals to us) to accept or decline it."))


def referral_line(row: Referral, office_name: str | None = None) -> str:
    """One line for the household: which office, what was asked, where it stands, since when."""
    office = _office(row, office_name)
    state = _(labels.REFERRAL_STATE_NAMES.get(row.state, row.state))
    return _("{office}: {asked}. Status: {state} ({date}).").format(
        office=office,
        asked=row.asked[:120],
        state=state,
        date=long_date(calendar.local_day(row.updated_at, row.region_code)),
    )


# Reports ---------------------------------------------------------------------------------------


async def report_flagged(
    session: AsyncSession,
    row: ProgressReport,
    household: Household,
    *,
    now: datetime,
    hours: tuple[str, str] | None = None,
) -> int:
    """The household's mentor hears the same day, in their delivery hours (a report sent at
    night waits for the morning), why this report needs a look; how many chats."""
    if not row.flags:
        return 0
    stamp = f"{row.submitted_at or now:%Y%m%d%H%M%S}"
    return await tell_mentor(
        session,
        household.mentor_id,
        lambda: Reply(text=report_flagged_text(row, household)),
        now=now,
        dedupe_key=f"report-flag:{row.id}:{stamp}",
        hours=outbox.within_hours(household.region_code, hours),
    )


def report_flagged_text(row: ProgressReport, household: Household) -> str:
    """What the mentor reads: whose report, why it was flagged, the answers, a phone to call."""
    text = _("Report of {name} (No. KK ending {kk}) needs your attention: {reasons}.").format(
        name=mask_name(household.name), kk=household.no_kk[-4:], reasons=labels.report_flags(row)
    )
    text += "\n" + labels.report_summary(row)
    if household.phone:
        text += "\n" + _("Phone: {phone}").format(phone=household.phone)
    return text + "\n\n" + _("Type MENU and choose Record a visit after you meet them.")


# Voice notes -----------------------------------------------------------------------------------


async def voice_note(
    session: AsyncSession,
    household: Household,
    mentor_id: int,
    *,
    key: str,
    reference: str,
    mime_type: str | None,
    now: datetime,
    hours: tuple[str, str],
) -> int:
    """The mentor hears the household's voice note itself (when it was downloaded), then reads
    who sent it, with buttons to open the family or record a visit; how many chats."""
    window = outbox.within_hours(household.region_code, hours)
    if reference.startswith(LOCAL_PREFIX):
        audio = Attachment("voice", reference, mime_type)
        await tell_mentor(
            session,
            mentor_id,
            # The family's id marks the row, so that erasing the family empties it too.
            lambda: Reply(text="", media=audio, extra={"about": f"household:{household.id}"}),
            now=now,
            dedupe_key=f"voice-audio:{key}"[:128],
            hours=window,
        )
    return await tell_mentor(
        session,
        mentor_id,
        lambda: voice_note_reply(household, with_audio=reference.startswith(LOCAL_PREFIX)),
        now=now,
        dedupe_key=f"voice:{key}"[:128],
        hours=window,
    )


def voice_note_reply(household: Household, *, with_audio: bool = True) -> Reply:
    """The mentor reads who sent the voice message just above, with buttons to see the family
    or record a visit."""
    text = (
        _("{name} ({desa}) sent you this voice message. Call back on {phone}, or record a visit.")
        if with_audio
        else _(
            "{name} ({desa}) sent a voice message. Listen to it on the family's page, call "
            "back on {phone}, or record a visit."
        )
    )
    return Reply(
        text=text.format(
            name=household.name, desa=household.desa or "-", phone=household.phone or "-"
        ),
        choices=(
            Choice(f"act:family:{household.id}", _("Open this family")),
            Choice(f"act:visit:{household.id}", _("Record a visit")),
        ),
    )


# Linking ---------------------------------------------------------------------------------------


async def linked_by_nik(
    session: AsyncSession, household: Household, identity_id: int, *, now: datetime
) -> int:
    """The household's mentor reads that a chat was linked by NIK, with a button to undo it."""
    return await tell_mentor(
        session, household.mentor_id, lambda: linked_by_nik_reply(household, identity_id), now=now
    )


async def kept_for_new_mentor(session: AsyncSession, chat: ChatIdentity, *, now: datetime) -> int:
    """A mentor's first chat hears of the NIK links made before it existed (each can be undone).

    The notice of a link finds no chat while the mentor has never opened Sinergi; the link
    itself is the record, so the notices are made again from it when the mentor arrives.
    """
    if chat.mentor_id is None or not await identities.first_chat_of_mentor(
        session, chat.mentor_id, chat.id
    ):
        return 0
    told = 0
    for household, identity_id in await identities.nik_links_of_mentor(session, chat.mentor_id):
        told += await tell_chats(
            session,
            [chat],
            partial(linked_by_nik_reply, household, identity_id),
            now=now,
        )
    return told


def linked_by_nik_reply(household: Household, identity_id: int) -> Reply:
    """The words and the undo button the mentor gets when a chat is linked by NIK."""
    return Reply(
        text=_(
            "A chat was linked to the family of {name} (No. KK ending {kk}) using NIK. "
            "If this was not the family, undo it."
        ).format(name=mask_name(household.name), kk=household.no_kk[-4:]),
        choices=(Choice(f"act:unlink:{identity_id}", _("Undo this link")),),
    )


# Graduation ------------------------------------------------------------------------------------


async def relapse_signal(
    session: AsyncSession, signal: RelapseSignal, household: Household, stage: str, *, now: datetime
) -> int:
    """The mentor hears once per household, kind and period that a family may be slipping."""
    return await tell_mentor(
        session,
        household.mentor_id,
        lambda: relapse_signal_reply(signal, household, stage),
        now=now,
        dedupe_key=f"graduation:{signal.household_id}:{signal.kind}:{signal.period}",
        once=True,  # the relapse job may run again at the same moment
    )


def relapse_signal_reply(signal: RelapseSignal, household: Household, stage: str) -> Reply:
    """What the mentor reads: which family, why it may be slipping, its stage now, what to do."""
    reason = _(labels.SIGNAL_NAMES.get(signal.kind, signal.kind))
    text = _("{name} (No. KK ending {kk}) may need help again: {reason}.").format(
        name=mask_name(household.name), kk=household.no_kk[-4:], reason=reason
    )
    stage_name = _(labels.STAGE_NAMES.get(stage, stage))
    text += "\n" + _("Stage now: {stage}.").format(stage=stage_name)
    if household.phone:
        text += "\n" + _("Phone: {phone}").format(phone=household.phone)
    text += "\n\n" + _("Please visit the family and record the visit.")
    return Reply(text, (Choice(f"act:visit:{household.id}", _("Record a visit")),))


# Messages staff write ---------------------------------------------------------------------------


async def from_dinsos(session: AsyncSession, household_id: int, body: str, *, now: datetime) -> int:
    """Each chat of the household reads a message an officer wrote, under the office's name."""
    return await tell_household(
        session,
        household_id,
        lambda: Reply(
            _("Message from the social-service office (Dinsos):\n{text}").format(text=body)
        ),
        now=now,
    )


# Cooperative membership ------------------------------------------------------------------------


async def membership_applied(
    session: AsyncSession,
    row: Membership,
    household: Household,
    cooperative: Organisation,
    *,
    now: datetime,
) -> int:
    """The cooperative's linked chats hear of a new application, in delivery hours; how many."""
    return await tell_organisation(
        session,
        cooperative,
        lambda: Reply(
            _(
                "New membership application: {name} ({desa}). "
                "Open Sinergi (Referrals to us) to verify it."
            ).format(name=mask_name(household.name), desa=household.desa or "-")
        ),
        now=now,
        dedupe_key=f"membership-new:{row.id}:{row.applied_at.isoformat()}",
        hours=outbox.within_hours(cooperative.region_code),
    )


async def membership_news(
    session: AsyncSession, row: Membership, cooperative: Organisation, *, today: date, now: datetime
) -> int:
    """The household hears each step of its membership: accepted or not, and each saving recorded."""
    return await tell_household(
        session,
        row.household_id,
        lambda: Reply("\n".join(membership_lines(row, cooperative, today))),
        now=now,
        dedupe_key=f"membership:{row.id}:{row.state}:{row.pokok_paid_on}:{row.wajib_paid_through}",
    )


def membership_lines(row: Membership, cooperative: Organisation, today: date) -> list[str]:
    """Where the household's membership stands, and what it still has to pay (for STATUS too)."""
    name = cooperative.name
    if row.state == "diajukan":
        return [
            _("{coop}: the pengurus are checking your membership application.").format(coop=name)
        ]
    if row.state == "ditolak":
        return [
            _("{coop} could not accept your membership: {reason}").format(
                coop=name, reason=row.reason or "-"
            ),
            _("Ask your mentor if you have a question."),
        ]
    lines = [
        _("{coop}: you are a member since {date}.").format(
            coop=name, date=long_date(row.member_since or today)
        )
    ]
    due = memberships.owed(row, cooperative, today)
    if not due.pokok_due:
        lines.append(_("Simpanan pokok: paid."))
    elif due.pokok:
        lines.append(_("Simpanan pokok: not yet paid ({amount}).").format(amount=rupiah(due.pokok)))
    else:
        lines.append(_("Simpanan pokok: not yet paid."))
    if not due.wajib_months:
        lines.append(
            _("Simpanan wajib: paid up to {month}.").format(
                month=month_name(row.wajib_paid_through or today.strftime("%Y-%m"))
            )
        )
    else:
        count = len(due.wajib_months)
        text = ngettext(
            "Simpanan wajib: {n} month not yet paid, since {month}",
            "Simpanan wajib: {n} months not yet paid, since {month}",
            count,
        ).format(n=count, month=month_name(due.wajib_months[0]))
        lines.append(text + (f" ({rupiah(due.wajib)})." if due.wajib else "."))
    return lines


def cooperative_terms(cooperative: Organisation) -> str:
    """What joining costs, as the household reads it before applying."""
    lines = [_("The cooperative here is {coop}.").format(coop=cooperative.name)]
    if cooperative.simpanan_pokok:
        lines.append(
            _("Simpanan pokok: {amount}, paid once.").format(
                amount=rupiah(cooperative.simpanan_pokok)
            )
        )
    if cooperative.simpanan_wajib:
        lines.append(
            _("Simpanan wajib: {amount} every month.").format(
                amount=rupiah(cooperative.simpanan_wajib)
            )
        )
    return "\n".join(lines)


# The graduates' community ----------------------------------------------------------------------


async def peer_paired(session: AsyncSession, pairing: PeerPairing, *, now: datetime) -> int:
    """The peer mentor and the family each hear who the mentor paired them with."""
    peer = await session.get(Household, pairing.peer_household_id)
    family = await session.get(Household, pairing.household_id)
    mentor = await session.get(Mentor, pairing.mentor_id)
    listing = await alumni.of_household(session, pairing.peer_household_id)
    if peer is None or family is None or mentor is None:
        return 0
    key = f"peer:{pairing.id}"
    told = await tell_household(
        session,
        peer.id,
        lambda: Reply(text=peer_paired_peer_text(family, mentor)),
        now=now,
        dedupe_key=f"{key}:peer",
    )
    return told + await tell_household(
        session,
        family.id,
        lambda: Reply(text=peer_paired_family_text(peer, listing, mentor)),
        now=now,
        dedupe_key=f"{key}:family",
    )


def peer_paired_peer_text(family: Household, mentor: Mentor) -> str:
    """To the peer mentor: which family, where, and that the mentor will arrange the meeting."""
    return _(
        "Your mentor {mentor} asks you to be the peer mentor of the family of {family} "
        "(desa {desa}). Thank you! Your mentor will arrange the first meeting."
    ).format(mentor=mentor.name, family=mask_name(family.name), desa=family.desa or "-")


def peer_paired_family_text(peer: Household, listing: AlumniListing | None, mentor: Mentor) -> str:
    """To the family: who will accompany it, their business, their phone if they share it."""
    text = _(
        "Your mentor {mentor} found you a peer mentor: {peer} from desa {desa}, a family who "
        "now stands on its own."
    ).format(mentor=mentor.name, peer=mask_name(peer.name), desa=peer.desa or "-")
    if listing is not None and listing.listed_at is not None and listing.business_name:
        text += " " + _("Their business: {name}.").format(name=listing.business_name)
    if listing is not None and listing.share_phone and peer.phone:
        text += " " + _("Their number: {phone}.").format(phone=peer.phone)
    return text
