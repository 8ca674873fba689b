"""Staff accounts: Argon2id password hashes, roles and the region each one may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from storage.models import Household, Mentor, StaffUser
from storage.scope import LEVELS, NotFound, Scope, region_filter, scoped

ROLES = ("admin", "supervisor", "officer", "coordinator")
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106 parameters


class StaffError(ValueError):
    """A staff account could not be made; the message says why, in plain words."""


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (False on any malformed hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def add_staff(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    region_code: str,
    now: datetime,
) -> StaffUser:
    """A new active account; refuses unknown roles, short passwords and taken usernames."""
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    return await new_account(
        session, username=username, password=password, role=role, region_code=region_code, now=now
    )


async def new_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    region_code: str,
    now: datetime,
    organisation_id: int | None = None,
) -> StaffUser:
    """An active account of any role (the caller checked the role); refuses short passwords
    and taken usernames."""
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"password must have at least {MIN_PASSWORD} characters")
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise StaffError(f"username {username} is taken")
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        region_code=region_code,
        organisation_id=organisation_id,
        active=True,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def listing(session: AsyncSession, scope: Scope) -> list[StaffUser]:
    """Every account of the scope, active or not."""
    return list(
        await session.scalars(
            scoped(select(StaffUser), scope, StaffUser.region_code).order_by(StaffUser.username)
        )
    )


async def colleagues(session: AsyncSession, scope: Scope) -> list[StaffUser]:
    """Active staff of the scope, to assign to."""
    query = scoped(
        select(StaffUser).where(StaffUser.active.is_(True)), scope, StaffUser.region_code
    )
    return list(await session.scalars(query.order_by(StaffUser.username)))


async def colleague(session: AsyncSession, scope: Scope, staff_id: int) -> StaffUser:
    """One active colleague of the scope, or NotFound."""
    row = await session.scalar(
        scoped(
            select(StaffUser).where(StaffUser.id == staff_id, StaffUser.active.is_(True)),
            scope,
            StaffUser.region_code,
        )
    )
    if row is None:
        raise NotFound(staff_id)
    return row


async def set_active(session: AsyncSession, scope: Scope, staff_id: int, active: bool) -> StaffUser:
    """Switch an account of the scope on or off; NotFound outside it."""
    row = await session.scalar(
        scoped(select(StaffUser).where(StaffUser.id == staff_id), scope, StaffUser.region_code)
    )
    if row is None:
        raise NotFound(staff_id)
    row.active = active
    return row


def _could_reach(column: Any, scope: Scope) -> ColumnElement[bool]:
    """SQL: a region whose people could act on a record inside the scope: one inside it, or
    one that holds it (a provinsi's or the national office's), never a neighbour's."""
    held_by = [scope.prefix[:n] for n in (0, *LEVELS) if n <= len(scope.prefix)]
    return or_(region_filter(column, scope), column.in_(held_by))


async def names_of(
    session: AsyncSession, scope: Scope, *, mentor_ids: set[int], staff_ids: set[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the mentors and staff a page's records name as their authors, as far as
    they could have written on a record the reader may see.

    A staff member acts only inside their own region, so one who wrote on a record in the
    scope works inside it or above it: a colleague of another kabupaten is never named, even
    for an id typed by hand. A mentor writes on their own families: one of the scope's region,
    or the mentor of one of its households. Anyone else reads as "a mentor" / "an officer"
    (handlers/labels.py), which is also what a record moved from another region shows.
    """
    mentors: dict[int, str] = {}
    staff: dict[int, str] = {}
    if mentor_ids:
        theirs = select(Household.mentor_id).where(
            Household.mentor_id.in_(mentor_ids), region_filter(Household.region_code, scope)
        )
        rows = await session.execute(
            select(Mentor.id, Mentor.name).where(
                Mentor.id.in_(mentor_ids),
                or_(_could_reach(Mentor.region_code, scope), Mentor.id.in_(theirs)),
            )
        )
        mentors = {int(i): str(n) for i, n in rows.all()}
    if staff_ids:
        rows = await session.execute(
            select(StaffUser.id, StaffUser.username).where(
                StaffUser.id.in_(staff_ids), _could_reach(StaffUser.region_code, scope)
            )
        )
        staff = {int(i): str(n) for i, n in rows.all()}
    return mentors, staff
