"""Staff accounts: Argon2id password hashes, roles and the region each one may see."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StaffUser

ROLES = ("admin", "supervisor", "officer")
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
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"password must have at least {MIN_PASSWORD} characters")
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise StaffError(f"username {username} is taken")
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        region_code=region_code,
        active=True,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user
