"""Linking a chat to its household: single-use codes and the rate-limited NIK path."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LinkAttempt, LinkCode

# No 0/O or 1/I/L: codes are read aloud and typed on small keyboards.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def _code_hash(code: str) -> str:
    """Codes are stored hashed, so a database dump links nobody."""
    return hashlib.sha256(
        code.strip().upper().replace(" ", "").replace("-", "").encode()
    ).hexdigest()


async def new_link_code(
    session: AsyncSession,
    *,
    household_id: int,
    mentor_id: int | None,
    now: datetime,
    ttl: timedelta,
) -> str:
    """A fresh single-use code for this household, from a secure random source."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        LinkCode(
            code_hash=_code_hash(code),
            household_id=household_id,
            mentor_id=mentor_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return code[:4] + "-" + code[4:]


async def redeem_link_code(session: AsyncSession, code: str, now: datetime) -> int | None:
    """The household id of a valid, unused, unexpired code, which is used up; else None."""
    row = await session.scalar(
        select(LinkCode).where(LinkCode.code_hash == _code_hash(code)).with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row.household_id


async def nik_tries_allowed(
    session: AsyncSession,
    *,
    identity_id: int,
    nik_hash: str,
    now: datetime,
    per_chat: int,
    window: timedelta,
    per_nik_per_day: int,
) -> bool:
    """False when this chat or this NIK has used up its tries (failed or not)."""
    chat_tries = await session.scalar(
        select(func.count()).where(
            LinkAttempt.identity_id == identity_id, LinkAttempt.at > now - window
        )
    )
    if (chat_tries or 0) >= per_chat:
        return False
    nik_tries = await session.scalar(
        select(func.count()).where(
            LinkAttempt.nik_hash == nik_hash, LinkAttempt.at > now - timedelta(days=1)
        )
    )
    return (nik_tries or 0) < per_nik_per_day


async def chat_tries_left(
    session: AsyncSession, *, identity_id: int, now: datetime, per_chat: int, window: timedelta
) -> bool:
    """Whether this chat may try the NIK path at all right now."""
    tries = await session.scalar(
        select(func.count()).where(
            LinkAttempt.identity_id == identity_id, LinkAttempt.at > now - window
        )
    )
    return (tries or 0) < per_chat


def record_attempt(
    session: AsyncSession, *, identity_id: int, nik_hash: str, now: datetime, success: bool
) -> None:
    """Count one try."""
    session.add(LinkAttempt(identity_id=identity_id, nik_hash=nik_hash, at=now, success=success))
