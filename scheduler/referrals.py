"""Nobody drops a referral: the partner is reminded once when it is overdue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Renderer
from handlers.notices import referral_overdue_reply
from scheduler.ladder import Plan
from storage import referrals

OVERDUE = "referral.overdue"


async def remind_overdue(session: AsyncSession, now: datetime, plan: Plan) -> int:
    """One reminder per overdue referral to its organisation's chats, in the deployment's
    delivery hours; how many referrals."""
    return await referrals.remind_overdue(session, now, render=OVERDUE, hours=plan.hours())


RENDERERS: dict[str, Renderer] = {OVERDUE: referral_overdue_reply}
