"""Making a referral: the tracked row, the request it answers moved on, and everyone told.

The admin form (bot/web/admin/referrals.py) and `sinergi request set … dirujuk --to KODE`
both come here, so a referral made either way has the same life.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import notices
from storage import audit, referrals
from storage import requests as service_requests
from storage.models import Household, Organisation, Referral, ServiceRequest
from storage.scope import Scope


async def refer(
    session: AsyncSession,
    scope: Scope,
    household: Household,
    *,
    organisation_id: int,
    asked: str,
    why: str,
    answer_days: int,
    now: datetime,
    from_request: ServiceRequest | None = None,
    escalation_id: int | None = None,
    staff_id: int | None = None,
) -> Referral:
    """The referral (ReferralError when it cannot be made); the household, its mentor and the
    organisation's chats are told, and a request it came from moves to `dirujuk`."""
    row = await referrals.create(
        session,
        scope,
        household_id=household.id,
        organisation_id=organisation_id,
        asked=asked,
        why=why,
        actor=scope.username,
        referred_by_id=staff_id,
        request_id=from_request.id if from_request else None,
        escalation_id=escalation_id,
        answer_days=answer_days,
        now=now,
    )
    organisation = await session.get(Organisation, row.organisation_id)
    await notices.referral_news(session, row, now=now)
    if organisation is not None:
        await notices.referral_received(session, row, household, organisation, now=now)
    if from_request is not None:
        # The household already read the referral's news: the request's own notice is not
        # sent too. A request already past referral keeps its state; the referral stands.
        with suppress(service_requests.RequestError):
            await service_requests.transition(
                session,
                from_request.id,
                "dirujuk",
                actor=scope.username,
                note=None,
                referred_to=organisation.name if organisation else row.office,
                now=now,
                scope=scope,
            )
    return row


async def answered(
    session: AsyncSession, row: Referral, *, actor: str, action: str, now: datetime, **detail: str
) -> None:
    """The household and its mentor hear the partner's step; the household's audit trail records
    it as done by `actor` (the partner's seat, in the admin view or in the chat)."""
    await notices.referral_news(session, row, now=now)
    household = await session.get(Household, row.household_id)
    if household is not None:
        audit.record_on(
            session,
            household,
            actor=actor,
            action=f"referral.{action}",
            now=now,
            referral=row.id,
            organisation=row.organisation_id,
            **detail,
        )
