"""Factories for the ladder: households in empowerment programs with a consented chat, mentors on chat."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import NikVault
from storage.models import ChatIdentity, Conversation, Household, LadderState, Mentor
from tests import factories
from tests.conftest import T0

ENROLLED = (T0 - timedelta(days=30)).date()  # so the first check-in is due at T0


def chat(
    session: AsyncSession,
    *,
    user_id: int,
    household_id: int | None = None,
    mentor_id: int | None = None,
    consent: bool = True,
    opted_out: bool = False,
    unreachable: bool = False,
    locale: str = "id",
    at: datetime = T0 - timedelta(days=40),
    channel: str = "telegram",
) -> ChatIdentity:
    """A Telegram chat linked to a household or mentor, agreed (or not), at the menu."""
    row = ChatIdentity(
        channel=channel,
        external_id=str(user_id),
        household_id=household_id,
        mentor_id=mentor_id,
        link_method="contact",
        locale=locale,
        consent_at=at if consent else None,
        opted_out=opted_out,
        last_inbound_at=at,
        created_at=at,
        unreachable_at=at if unreachable else None,
        unreachable_reason="Forbidden: bot was blocked by the user" if unreachable else None,
    )
    session.add(row)
    return row


async def mentor_on_chat(
    session: AsyncSession,
    *,
    user_id: int,
    name: str = "Rina Marlina",
    phone: str = "+6281200000001",
    region_code: str = "6472011001",
) -> Mentor:
    """A mentor whose Telegram chat is linked and agreed."""
    row = await factories.mentor(session, name=name, phone=phone, region_code=region_code)
    identity = chat(session, user_id=user_id, mentor_id=row.id)
    await session.flush()
    session.add(
        Conversation(identity_id=identity.id, journey="menu", step="choose", data={}, updated_at=T0)
    )
    return row


async def enrolled(
    session: AsyncSession,
    vault: NikVault,
    *,
    n: int,
    name: str,
    mentor_id: int | None,
    user_id: int | None,
    region_code: str = "6472011001",
    program: str = "BANTUAN_USAHA",
    status: str = "aktif",
    as_of: date = ENROLLED,
    **chat_options: object,
) -> Household:
    """Household number `n` in an empowerment program, with its chat (when `user_id` is given)."""
    nik = f"64720165038{n:05d}"
    hh = await factories.household(
        session,
        vault,
        nik=nik,
        no_kk=f"64720101010{n:05d}",
        name=name,
        phone=f"+62813000{n:05d}",
        region_code=region_code,
        mentor_id=mentor_id,
    )
    await factories.program(
        session,
        hh.id,
        code=program,
        status=status,
        period="2026",
        amount=5_000_000,
        as_of=as_of,
        source="Dinsos Kaltim",
    )
    if user_id is not None:
        identity = chat(session, user_id=user_id, household_id=hh.id, **chat_options)  # type: ignore[arg-type]
        await session.flush()
        session.add(
            Conversation(
                identity_id=identity.id, journey="menu", step="choose", data={}, updated_at=T0
            )
        )
    await session.flush()
    return hh


async def silent_families(
    session: AsyncSession, vault: NikVault, *, mentor_id: int, count: int, first: int, spread: int
) -> None:
    """`count` families of the mentor waiting for a visit, silent 10 to 10+spread-1 days.

    Family i is `Keluarga {i:03d}`, silent 10 + i % spread days.
    """
    for i in range(count):
        hh = await enrolled(
            session, vault, n=first + i, name=f"Keluarga {i:03d}", mentor_id=mentor_id, user_id=None
        )
        session.add(
            LadderState(
                household_id=hh.id,
                cycle_start=T0.date() - timedelta(days=10 + i % spread),
                rung="mentor",
                reason="silent",
                updated_at=T0,
            )
        )
