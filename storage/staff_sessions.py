"""Staff sign-in: server-side sessions kept as token hashes, and throttling of failed logins."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginFailure, Region, StaffSession, StaffUser
from storage.staff import MIN_PASSWORD, hash_password, verify_password

WINDOW = timedelta(minutes=15)
FREE_TRIES = 3  # after this many failures each further try must wait, doubling up to MAX_WAIT
MAX_WAIT = timedelta(seconds=60)
LOCK_AFTER = 10  # failures for one username, then the account is locked for LOCK_FOR
LOCK_FOR = timedelta(minutes=15)
ADDRESS_LIMIT = 30  # failures from one address in WINDOW, then that address waits out the window
TOUCH_EVERY = timedelta(minutes=1)  # a busy session writes its idle deadline once a minute
_DUMMY_HASH = hash_password("not-a-real-password-only-for-timing")


@dataclass(frozen=True)
class LoginResult:
    """Who signed in, or why nobody did (`bad`, `wait`, `locked`) and how long to wait."""

    user: StaffUser | None
    reason: str = ""
    wait_seconds: int = 0


def token_hash(token: str) -> str:
    """What the database keeps of a session cookie: its SHA-256, never the cookie itself."""
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    session: AsyncSession,
    user: StaffUser,
    *,
    now: datetime,
    hours: int,
    address: str,
    idle: timedelta | None = None,
) -> tuple[str, StaffSession]:
    """A new session for `user`: the cookie value to hand out, and its row.

    `expires_at` is the idle deadline (moved on by `session_user`), never past `hours` after
    sign-in.
    """
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=hours)
    row = StaffSession(
        token_hash=token_hash(token),
        staff_id=user.id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + (lifetime if idle is None else min(idle, lifetime)),
        address=address[:64],
    )
    session.add(row)
    await session.flush()
    return token, row


async def session_user(
    session: AsyncSession,
    token: str,
    *,
    now: datetime,
    idle: timedelta | None = None,
    hours: int | None = None,
) -> tuple[StaffSession, StaffUser, str] | None:
    """The live session, active account and its region's official name ("" when unknown)
    behind a cookie, or None when expired or unknown.

    With `idle`, the use at `now` moves the idle deadline on (at most once a minute, to spare
    writes; never past `hours` after sign-in): the caller commits.
    """
    query = (
        select(StaffSession, StaffUser, Region.name)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .outerjoin(Region, Region.code == StaffUser.region_code)
        .where(
            StaffSession.token_hash == token_hash(token),
            StaffSession.expires_at > now,
            StaffUser.active.is_(True),
        )
    )
    if hours is not None:
        query = query.where(StaffSession.created_at > now - timedelta(hours=hours))
    found = (await session.execute(query)).first()
    if found is None:
        return None
    row, user, place = found[0], found[1], found[2] or ""
    if idle is not None:
        deadline = now + idle
        if hours is not None:
            deadline = min(deadline, row.created_at + timedelta(hours=hours))
        if deadline - row.expires_at >= TOUCH_EVERY:
            row.expires_at = deadline
    return row, user, place


async def close_session(session: AsyncSession, token: str) -> None:
    """Sign out: the session row goes."""
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


async def close_all_sessions(session: AsyncSession, staff_id: int) -> None:
    """Every session of one account goes (after a password change)."""
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def _recent_failures(
    session: AsyncSession, column: Any, value: str, now: datetime
) -> tuple[int, datetime | None]:
    """How many failures `column == value` had in the window, and when the last one was."""
    row = (
        await session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(
                column == value, LoginFailure.at > now - WINDOW
            )
        )
    ).one()
    return int(row[0]), row[1]


def _wait(failures: int, last: datetime | None, now: datetime) -> int:
    """Seconds still to wait before the next try: 0 for the first few, then doubling."""
    if failures < FREE_TRIES or last is None:
        return 0
    delay = min(MAX_WAIT, timedelta(seconds=2 ** (failures - FREE_TRIES)))
    return max(0, int((last + delay - now).total_seconds() + 0.999))


async def throttled(
    session: AsyncSession, username: str, address: str, now: datetime
) -> LoginResult | None:
    """A refusal when this username or address must wait, else None."""
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        return LoginResult(None, "locked", int((user.locked_until - now).total_seconds()) + 1)
    by_address, last_address = await _recent_failures(session, LoginFailure.address, address, now)
    if by_address >= ADDRESS_LIMIT and last_address is not None:
        return LoginResult(None, "wait", int((last_address + WINDOW - now).total_seconds()) + 1)
    by_user, last_user = await _recent_failures(session, LoginFailure.username, username, now)
    wait = max(_wait(by_user, last_user, now), _wait(by_address // 3, last_address, now))
    return LoginResult(None, "wait", wait) if wait else None


async def authenticate(
    session: AsyncSession, username: str, password: str, *, address: str, now: datetime
) -> LoginResult:
    """Check a sign-in, counting failures and locking the account after too many."""
    refusal = await throttled(session, username, address, now)
    if refusal is not None:
        return refusal
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    if ok and user is not None and user.active:
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        return LoginResult(user)
    session.add(LoginFailure(username=username[:80], address=address[:64], at=now))
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= LOCK_AFTER:
            user.locked_until, user.failed_logins = now + LOCK_FOR, 0
            return LoginResult(None, "locked", int(LOCK_FOR.total_seconds()))
    return LoginResult(None, "bad")


async def change_password(session: AsyncSession, user: StaffUser, old: str, new: str) -> str:
    """Set a new password; returns "" or why not (`wrong`, `short`, `same`)."""
    if not verify_password(user.password_hash, old):
        return "wrong"
    if len(new) < MIN_PASSWORD:
        return "short"
    if new == old:
        return "same"
    user.password_hash = hash_password(new)
    await close_all_sessions(session, user.id)
    return ""


async def purge_ended(
    session: AsyncSession, *, now: datetime, failures_before: datetime
) -> dict[str, int]:
    """Sessions past their expiry and failed sign-ins older than `failures_before` go; how many."""
    ended = await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    failures = await session.execute(delete(LoginFailure).where(LoginFailure.at < failures_before))
    return {
        "staff_sessions": int(getattr(ended, "rowcount", 0) or 0),
        "login_failures": int(getattr(failures, "rowcount", 0) or 0),
    }
