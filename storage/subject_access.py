"""The access right (UU PDP): everything Sinergi holds about one household, as rows of a file.

One long table (section, number, field, value) fits every kind of record in one CSV or one
sheet. Read through the region scope (NotFound outside it); the NIK only masked; keys and
hashes left out (they say nothing to the family and would help nobody else either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.households import household as household_in_scope
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Escalation,
    EscalationNote,
    GraduationStage,
    Household,
    LadderState,
    Mentor,
    MentorVisit,
    ProgramEnrollment,
    ProgressReport,
    Referral,
    RelapseSignal,
    RequestEvent,
    ServiceRequest,
    StageTransition,
)
from storage.scope import Scope

# Columns that are keys, hashes or ciphertext: not the family's data as a person reads it.
HIDDEN = {
    "id",
    "household_id",
    "nik_hash",
    "nik_encrypted",
    "open_key",
    "identity_id",
    "request_id",
    "escalation_id",
    "external_id",
    "alt_id",
    "mentor_id",
}
# Each section of the file and the model whose rows of this household it lists, oldest first.
SECTIONS: tuple[tuple[str, Any], ...] = (
    ("program", ProgramEnrollment),
    ("request", ServiceRequest),
    ("report", ProgressReport),
    ("visit", MentorVisit),
    ("escalation", Escalation),
    ("stage", StageTransition),
    ("signal", RelapseSignal),
    ("referral", Referral),
    ("graduation_stage", GraduationStage),
    ("ladder", LadderState),
)
Row = tuple[str, int, str, object]


@dataclass
class SubjectRecord:
    """One household's data: the household row, its chats, and the file's rows."""

    household: Household
    chats: list[ChatIdentity]
    rows: list[Row]


def cell(value: object) -> object:
    """A value as a spreadsheet cell: dates as ISO text, None empty."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return value


def _fields(section: str, number: int, record: Any) -> list[Row]:
    """Every shown column of one record."""
    return [
        (section, number, column.key, cell(getattr(record, column.key)))
        for column in inspect(type(record)).columns
        if column.key not in HIDDEN
    ]


async def _of_household(session: AsyncSession, model: Any, household_id: int) -> list[Any]:
    """The household's rows of one model, in the order they were made."""
    rows = await session.scalars(
        select(model)
        .where(model.household_id == household_id)
        .order_by(*inspect(model).primary_key)
    )
    return list(rows)


async def household_record(session: AsyncSession, scope: Scope, household_id: int) -> SubjectRecord:
    """What Sinergi holds about one household of the scope, or NotFound."""
    household = await household_in_scope(session, scope, household_id)
    rows = _fields("household", 1, household)
    mentor = await session.get(Mentor, household.mentor_id) if household.mentor_id else None
    if mentor is not None:
        rows += [
            ("household", 1, "mentor", mentor.name),
            ("household", 1, "mentor_phone", mentor.phone),
        ]
    for section, model in SECTIONS:
        for number, record in enumerate(await _of_household(session, model, household.id), 1):
            rows += _fields(section, number, record)
    rows += await _request_steps(session, household.id)
    rows += await _escalation_notes(session, household.id)
    chats = list(
        await session.scalars(select(ChatIdentity).where(ChatIdentity.household_id == household.id))
    )
    for number, chat in enumerate(chats, 1):
        rows += _fields("chat", number, chat)
    rows += await _who_looked(session, household.id)
    return SubjectRecord(household, chats, rows)


async def _request_steps(session: AsyncSession, household_id: int) -> list[Row]:
    """Each step of the household's requests: when, who, to what state, the office's note."""
    steps = await session.scalars(
        select(RequestEvent)
        .join(ServiceRequest, ServiceRequest.id == RequestEvent.request_id)
        .where(ServiceRequest.household_id == household_id)
        .order_by(RequestEvent.at, RequestEvent.id)
    )
    rows: list[Row] = []
    for number, step in enumerate(steps, 1):
        rows += _fields("request_step", number, step)
    return rows


async def _escalation_notes(session: AsyncSession, household_id: int) -> list[Row]:
    """The notes staff wrote on the household's escalations."""
    notes = await session.scalars(
        select(EscalationNote)
        .join(Escalation, Escalation.id == EscalationNote.escalation_id)
        .where(Escalation.household_id == household_id)
        .order_by(EscalationNote.id)
    )
    rows: list[Row] = []
    for number, note in enumerate(notes, 1):
        rows += _fields("escalation_note", number, note)
    return rows


async def _who_looked(session: AsyncSession, household_id: int) -> list[Row]:
    """Who did what with the household's data, and when (the audit, without its details)."""
    events = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.household_id == household_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    rows: list[Row] = []
    for number, event in enumerate(events, 1):
        rows += [
            ("audit", number, "at", cell(event.at)),
            ("audit", number, "actor", event.actor),
            ("audit", number, "action", event.action),
        ]
    return rows
