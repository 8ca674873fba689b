"""Linking a chat to its household: single-use codes and the rate-limited NIK path."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

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


def random_code() -> str:
    """Eight characters of the alphabet with at least one letter and one digit.

    A code typed straight away is told from a word by its digits ("KOPERASI" is eight
    letters too), so every code has one; about one draw in eleven is drawn again.
    """
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


async def new_link_code(
    session: AsyncSession,
    *,
    household_id: int,
    mentor_id: int | None,
    now: datetime,
    ttl: timedelta,
) -> str:
    """A fresh single-use code for this household, from a secure random source."""
    code = random_code()
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


class TooManyTries:
    """The chat has used up its tries for now."""


TOO_MANY = TooManyTries()

# A link attempt's key says what was tried: a NIK try's key is the NIK's keyed hash (64 hex
# digits); a No. KK's and a code's carry a prefix, so one table counts all three apart.
KK_TRY = "kk:"
CODE_TRY = "code:"


def _kk_key(kk_hash: str) -> str:
    """The key of a try on this No. KK (its keyed hash, shortened to fit behind the prefix)."""
    return KK_TRY + kk_hash[: 64 - len(KK_TRY)]


def _nik_tries() -> Any:
    """Rows that are NIK tries (not a No. KK's or a code's)."""
    return ~LinkAttempt.nik_hash.startswith(KK_TRY) & ~LinkAttempt.nik_hash.startswith(CODE_TRY)


async def try_link_code(
    session: AsyncSession,
    code: str,
    *,
    identity_id: int,
    now: datetime,
    per_chat: int,
    window: timedelta,
) -> int | None | TooManyTries:
    """Redeem a typed code, counted: a chat gets `per_chat` tries per `window`, like the NIK path."""
    tries = await session.scalar(
        select(func.count()).where(
            LinkAttempt.identity_id == identity_id,
            LinkAttempt.nik_hash == CODE_TRY,
            LinkAttempt.at > now - window,
        )
    )
    if (tries or 0) >= per_chat:
        return TOO_MANY
    household_id = await redeem_link_code(session, code, now)
    session.add(
        LinkAttempt(
            identity_id=identity_id, nik_hash=CODE_TRY, at=now, success=household_id is not None
        )
    )
    return household_id


async def nik_tries_allowed(
    session: AsyncSession,
    *,
    identity_id: int,
    nik_hash: str,
    now: datetime,
    per_chat: int,
    window: timedelta,
    per_nik_per_day: int,
    kk_hash: str | None = None,
) -> bool:
    """False when this chat, this NIK or this No. KK has used up its tries (failed or not).

    The No. KK's own daily limit stops guessing the NIKs of one family from many chats.
    """
    if not await chat_tries_left(
        session, identity_id=identity_id, now=now, per_chat=per_chat, window=window
    ):
        return False
    day = now - timedelta(days=1)
    for key in (nik_hash, _kk_key(kk_hash) if kk_hash else None):
        if key is None:
            continue
        tries = await session.scalar(
            select(func.count()).where(LinkAttempt.nik_hash == key, LinkAttempt.at > day)
        )
        if (tries or 0) >= per_nik_per_day:
            return False
    return True


async def chat_tries_left(
    session: AsyncSession, *, identity_id: int, now: datetime, per_chat: int, window: timedelta
) -> bool:
    """Whether this chat may try the NIK path at all right now."""
    tries = await session.scalar(
        select(func.count()).where(
            LinkAttempt.identity_id == identity_id, LinkAttempt.at > now - window, _nik_tries()
        )
    )
    return (tries or 0) < per_chat


def record_attempt(
    session: AsyncSession,
    *,
    identity_id: int,
    nik_hash: str,
    now: datetime,
    success: bool,
    kk_hash: str | None = None,
) -> None:
    """Count one try, against the NIK and (when given) the No. KK."""
    session.add(LinkAttempt(identity_id=identity_id, nik_hash=nik_hash, at=now, success=success))
    if kk_hash:
        session.add(
            LinkAttempt(identity_id=identity_id, nik_hash=_kk_key(kk_hash), at=now, success=success)
        )
