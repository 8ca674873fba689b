"""One household's story for staff: every message, report, request step, ladder step, visit,
referral, graduation step, note, voice note and membership step, in one dated stream.

The stream is one UNION ALL of small (source, id, moment) rows per kind, each an index
lookup on the household (or its chats), ordered and cut to one page in SQL; only that page's
rows are then read in full, one query per source. A household with thousands of messages
costs one page of rows, not its whole history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, String, func, literal_column, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.households import VOICE_NOTE, household
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Escalation,
    EscalationNote,
    Household,
    InboxUpdate,
    LadderAction,
    LadderState,
    Membership,
    Mentor,
    MentorVisit,
    Organisation,
    OutboxMessage,
    ProgramEnrollment,
    ProgressReport,
    Referral,
    RequestEvent,
    ServiceRequest,
    StageTransition,
)
from storage.models.base import UTCDateTime
from storage.scope import Scope

PER_PAGE = 50
# The kinds an officer filters by, and the sources (tables and moments) each is made of.
KINDS: dict[str, tuple[str, ...]] = {
    "message": ("in", "out"),
    "report": ("report",),
    "request": ("request", "request_step"),
    "ladder": ("ladder",),
    "visit": ("visit",),
    "referral": ("referral_sent", "referral_received", "referral_closed"),
    "graduation": ("graduation",),
    "note": ("note",),
    "voice": ("voice",),
    "membership": ("membership", "membership_step"),
}
# The cooperative's steps on a membership, each its own line (audit lines of bot/web/admin/partner.py).
MEMBERSHIP_STEPS = (
    "membership.verify",
    "membership.refuse",
    "membership.pokok",
    "membership.wajib",
)
KIND_OF = {source: kind for kind, sources in KINDS.items() for source in sources}
# At one moment a person's message comes before the bot's answer, and both before the rest.
RANK = {"in": 0, "out": 1}


@dataclass
class Entry:
    """One line of the story: where it comes from, when, and the row it shows."""

    source: str
    at: datetime
    row: Any
    extra: Any = None  # the request of a step, the organisation's name of a referral or membership

    @property
    def kind(self) -> str:
        """The kind an officer filters by (`message`, `ladder`, …)."""
        return KIND_OF[self.source]


@dataclass
class Story:
    """One page of a household's story, oldest first within the page."""

    entries: list[Entry]
    page: int
    total: int
    per_page: int = PER_PAGE
    # The bot's last messages before the page: the buttons a press on the page answered.
    before: list[OutboxMessage] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages the whole story fills."""
        return max(1, -(-self.total // self.per_page))


def _part(source: str, id_: Any, at: Any, *where: Any) -> Select[Any]:
    """One source's (source, id, moment, rank) rows."""
    # Constants written into the SQL (our own names, never input): bound parameters in a
    # UNION's select list leave PostgreSQL guessing their type.
    return select(
        literal_column(f"'{source}'", String).label("source"),
        id_.label("id"),
        type_coerce(at, UTCDateTime()).label("at"),
        literal_column(str(RANK.get(source, 2)), Integer).label("rank"),
    ).where(*where)


def _parts(hh: int, keys: list[str], chats: list[int]) -> dict[str, Select[Any]]:
    """Every source's rows for the household `hh` with these chats."""
    inbound_at = func.coalesce(InboxUpdate.processed_at, InboxUpdate.received_at)
    request_of = select(ServiceRequest.id).where(ServiceRequest.household_id == hh)
    escalation_of = select(Escalation.id).where(Escalation.household_id == hh)
    ref = Referral
    return {
        "in": _part("in", InboxUpdate.id, inbound_at, InboxUpdate.chat_key.in_(keys or [""])),
        "out": _part(
            "out",
            OutboxMessage.id,
            OutboxMessage.created_at,
            OutboxMessage.identity_id.in_(chats or [0]),
        ),
        "report": _part(
            "report",
            ProgressReport.id,
            ProgressReport.submitted_at,
            ProgressReport.household_id == hh,
            ProgressReport.submitted_at.is_not(None),
        ),
        "request": _part(
            "request",
            ServiceRequest.id,
            ServiceRequest.created_at,
            ServiceRequest.household_id == hh,
        ),
        # The filing is the request's own line; its steps are the moves after it.
        "request_step": _part(
            "request_step",
            RequestEvent.id,
            RequestEvent.at,
            RequestEvent.request_id.in_(request_of),
            RequestEvent.from_state.is_not(None),
        ),
        "ladder": _part(
            "ladder", LadderAction.id, LadderAction.at, LadderAction.household_id == hh
        ),
        "visit": _part("visit", MentorVisit.id, MentorVisit.at, MentorVisit.household_id == hh),
        "referral_sent": _part("referral_sent", ref.id, ref.sent_at, ref.household_id == hh),
        "referral_received": _part(
            "referral_received",
            ref.id,
            ref.received_at,
            ref.household_id == hh,
            ref.received_at.is_not(None),
        ),
        "referral_closed": _part(
            "referral_closed",
            ref.id,
            ref.closed_at,
            ref.household_id == hh,
            ref.closed_at.is_not(None),
        ),
        "graduation": _part(
            "graduation", StageTransition.id, StageTransition.at, StageTransition.household_id == hh
        ),
        "note": _part(
            "note",
            EscalationNote.id,
            EscalationNote.at,
            EscalationNote.escalation_id.in_(escalation_of),
        ),
        "voice": _part(
            "voice",
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.household_id == hh,
            AuditEvent.action == VOICE_NOTE,
        ),
        "membership": _part(
            "membership", Membership.id, Membership.applied_at, Membership.household_id == hh
        ),
        "membership_step": _part(
            "membership_step",
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.household_id == hh,
            AuditEvent.action.in_(MEMBERSHIP_STEPS),
        ),
    }


def kinds_of(chosen: Iterable[str]) -> list[str]:
    """The known kinds among those asked for (all of them when none is)."""
    known = [k for k in dict.fromkeys(chosen) if k in KINDS]
    return known or list(KINDS)


async def story(
    session: AsyncSession,
    scope: Scope,
    household_id: int,
    *,
    kinds: Sequence[str] = (),
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Story:
    """One page of a household of the scope's story, newest page first; NotFound outside it."""
    hh = await household(session, scope, household_id)
    chats = list(
        await session.scalars(select(ChatIdentity).where(ChatIdentity.household_id == hh.id))
    )
    parts = _parts(hh.id, [f"{c.channel}:{c.external_id}" for c in chats], [c.id for c in chats])
    sources = [s for k in kinds_of(kinds) for s in KINDS[k]]
    stream = union_all(*(parts[s] for s in sources)).subquery()
    total = await session.scalar(select(func.count()).select_from(stream)) or 0
    rows = (
        await session.execute(
            select(stream.c.source, stream.c.id, stream.c.at)
            .order_by(stream.c.at.desc(), stream.c.rank.desc(), stream.c.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ).all()
    found = await _rows(session, rows)
    entries = [
        Entry(source, at, *found[source][id_])
        for source, id_, at in reversed(rows)
        if id_ in found[source]
    ]
    messages = "message" in kinds_of(kinds)
    before = await _before(session, [c.id for c in chats], entries) if messages else []
    return Story(entries, page, total, per_page, before)


async def _before(
    session: AsyncSession, chats: list[int], entries: list[Entry], limit: int = 3
) -> list[OutboxMessage]:
    """The bot's last messages before the page's first line (a press answers one of them)."""
    if not chats or not entries:
        return []
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.identity_id.in_(chats), OutboxMessage.created_at < entries[0].at)
        .order_by(OutboxMessage.created_at.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


async def _rows(
    session: AsyncSession, rows: Sequence[Any]
) -> dict[str, dict[int, tuple[Any, Any]]]:
    """The page's rows in full, by source and id (one query per source on the page)."""
    wanted: dict[str, set[int]] = {s: set() for s in KIND_OF}
    for source, id_, _at in rows:
        wanted[source].add(id_)
    referral_ids = wanted["referral_sent"] | wanted["referral_received"] | wanted["referral_closed"]
    plain: dict[str, Any] = {
        "in": InboxUpdate,
        "out": OutboxMessage,
        "report": ProgressReport,
        "request": ServiceRequest,
        "ladder": LadderAction,
        "visit": MentorVisit,
        "graduation": StageTransition,
        "note": EscalationNote,
        "voice": AuditEvent,
    }
    found: dict[str, dict[int, tuple[Any, Any]]] = {s: {} for s in KIND_OF}
    for source, model in plain.items():
        if wanted[source]:
            for row in await session.scalars(select(model).where(model.id.in_(wanted[source]))):
                found[source][row.id] = (row, None)
    if wanted["request_step"]:
        steps = await session.execute(
            select(RequestEvent, ServiceRequest)
            .join(ServiceRequest, ServiceRequest.id == RequestEvent.request_id)
            .where(RequestEvent.id.in_(wanted["request_step"]))
        )
        found["request_step"] = {step.id: (step, req) for step, req in steps.all()}
    if referral_ids:
        refs = await session.execute(
            select(Referral, Organisation.name)
            .outerjoin(Organisation, Organisation.id == Referral.organisation_id)
            .where(Referral.id.in_(referral_ids))
        )
        by_id = {ref.id: (ref, name) for ref, name in refs.all()}
        for source in ("referral_sent", "referral_received", "referral_closed"):
            found[source] = {i: by_id[i] for i in wanted[source] if i in by_id}
    if wanted["membership"]:
        joined = await session.execute(
            select(Membership, Organisation.name)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.id.in_(wanted["membership"]))
        )
        found["membership"] = {m.id: (m, name) for m, name in joined.all()}
    if wanted["membership_step"]:
        found["membership_step"] = await _membership_steps(session, wanted["membership_step"])
    return found


async def _membership_steps(session: AsyncSession, ids: set[int]) -> dict[int, tuple[Any, Any]]:
    """The cooperative's steps (audit lines), each with its cooperative's name."""
    events = list(await session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids))))
    org_of = {e.id: (e.detail or {}).get("organisation") for e in events}
    orgs = [o for o in org_of.values() if isinstance(o, int)]
    query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(orgs))
    names: dict[Any, str] = {id_: name for id_, name in (await session.execute(query)).all()}
    return {e.id: (e, names.get(org_of[e.id], "")) for e in events}


# The escalation page -----------------------------------------------------------------------


@dataclass
class CaseFile:
    """What an officer needs beside an escalation: programs, last report, ladder, mentor, chats."""

    household: Household
    mentor: Mentor | None
    programs: list[ProgramEnrollment]
    last_report: ProgressReport | None
    ladder: LadderState | None
    steps: list[LadderAction]
    visits: list[MentorVisit]
    chats: list[ChatIdentity]

    @property
    def history(self) -> list[tuple[datetime, str, Any]]:
        """Ladder steps and mentor visits together, newest first: (moment, `ladder`|`visit`, row)."""
        lines = [(a.at, "ladder", a) for a in self.steps] + [
            (v.at, "visit", v) for v in self.visits
        ]
        return sorted(lines, key=lambda line: line[0], reverse=True)


async def case_file(session: AsyncSession, scope: Scope, escalation: Escalation) -> CaseFile:
    """The escalated household's file, read through the scope (NotFound outside it)."""
    hh = await household(session, scope, escalation.household_id)
    mentor = await session.get(Mentor, hh.mentor_id) if hh.mentor_id else None
    programs = await session.scalars(
        select(ProgramEnrollment)
        .where(ProgramEnrollment.household_id == hh.id)
        .order_by(ProgramEnrollment.as_of.desc())
        .limit(20)
    )
    last_report = await session.scalar(
        select(ProgressReport)
        .where(ProgressReport.household_id == hh.id, ProgressReport.submitted_at.is_not(None))
        .order_by(ProgressReport.period.desc())
        .limit(1)
    )
    steps = await session.scalars(
        select(LadderAction)
        .where(LadderAction.household_id == hh.id)
        .order_by(LadderAction.at.desc(), LadderAction.id.desc())
        .limit(20)
    )
    visits = await session.scalars(
        select(MentorVisit)
        .where(MentorVisit.household_id == hh.id)
        .order_by(MentorVisit.at.desc())
        .limit(10)
    )
    chats = await session.scalars(
        select(ChatIdentity).where(ChatIdentity.household_id == hh.id).limit(10)
    )
    return CaseFile(
        hh,
        mentor,
        list(programs),
        last_report,
        await session.get(LadderState, hh.id),
        list(steps),
        list(visits),
        list(chats),
    )
