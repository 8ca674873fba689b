"""Organisations that receive referrals: admins list, add and edit them; officers pick one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from storage.models import Organisation
from storage.roster import rules
from storage.scope import NotFound, Scope, region_filter


class OrganisationError(ValueError):
    """The form's values cannot make an organisation: the reasons, as roster msgids."""

    def __init__(self, reasons: rules.Reasons) -> None:
        super().__init__("; ".join(msgid for msgid, _params in reasons))
        self.reasons = reasons


def serving(region_code: str) -> ColumnElement[bool]:
    """SQL: an organisation whose region contains this one (a province office serves its desa)."""
    prefixes = [region_code[:n] for n in (2, 4, 6, 10) if len(region_code) >= n]
    return Organisation.region_code.in_(prefixes)


async def listing(session: AsyncSession, scope: Scope) -> list[Organisation]:
    """Every organisation of the scope's region, by kind and name."""
    query = select(Organisation).where(region_filter(Organisation.region_code, scope))
    return list(await session.scalars(query.order_by(Organisation.kind, Organisation.name)))


async def serving_household(session: AsyncSession, region_code: str) -> list[Organisation]:
    """The organisations a household of this region can be referred to, by kind and name."""
    query = select(Organisation).where(serving(region_code))
    return list(await session.scalars(query.order_by(Organisation.kind, Organisation.name)))


async def get(session: AsyncSession, scope: Scope, organisation_id: int) -> Organisation:
    """One organisation of the scope's region, or NotFound."""
    row = await session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id, region_filter(Organisation.region_code, scope)
        )
    )
    if row is None:
        raise NotFound(organisation_id)
    return row


async def by_code(session: AsyncSession, code: str) -> Organisation | None:
    """The organisation with this kode (any case), for the command line."""
    return await session.scalar(
        select(Organisation).where(Organisation.code == code.strip().upper())
    )


async def save(
    session: AsyncSession,
    scope: Scope,
    cells: dict[str, str],
    *,
    now: datetime,
    organisation_id: int | None = None,
) -> Organisation:
    """Add an organisation, or change one of the scope, from roster-shaped cells; the row.

    The same checks as the roster import; a region outside the scope or a kode already taken
    by another organisation is refused like any other reason.
    """
    record, why = rules.organisation(cells)
    if record["region_code"] and not scope.covers(record["region_code"]):
        why.append((rules.N_("This row lies outside your region"), {}))
    taken = await by_code(session, record["code"] or "")
    if taken is not None and taken.id != organisation_id:
        why.append((rules.N_("kode {value} is already used"), {"value": record["code"]}))
    if why:
        raise OrganisationError(why)
    row = await get(session, scope, organisation_id) if organisation_id else None
    if row is None:
        row = Organisation(created_at=now)
        session.add(row)
    values: dict[str, Any] = {**record, "updated_at": now}
    for key, value in values.items():
        setattr(row, key, value)
    await session.flush()
    return row
