"""What a handler sees of one inbound message: the person, their state, and a way to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Choice, Inbound, Reply
from handlers.understand import Heard
from storage.crypto import NikVault
from storage.models import ChatIdentity, Conversation, Household, Mentor


@dataclass(frozen=True)
class Rules:
    """The settings that journeys need, passed in rather than read from the environment."""

    vault: NikVault
    link_code_ttl: timedelta = timedelta(hours=72)
    nik_tries_per_chat: int = 5
    nik_window: timedelta = timedelta(minutes=15)
    nik_tries_per_nik_per_day: int = 10
    max_text_length: int = 4000
    sla_working_days: int = 5  # a mentor's hand-up to Dinsos is due in this many working days
    vulnerable_sla_working_days: int = 3  # ...and for a household the programs put first
    graduation_reports_running: int = 3  # reports in a row that make a business "berjalan"
    report_previous_month_until_day: int = 10  # early in a month, report the month just ended
    delivery_hours: tuple[str, str] = ("08:00", "18:00")  # local; mentors are not woken at night


@dataclass
class Turn:
    """One inbound message being answered, inside one unit of work."""

    session: AsyncSession
    identity: ChatIdentity
    conversation: Conversation
    inbound: Inbound
    now: datetime
    rules: Rules
    text: str = ""
    choice: str | None = None
    # What the person meant, in their own words (None for a button, a photo, a contact).
    heard: Heard | None = None
    # A detour (help, status, thanks) leaves the waiting question and its choices as they were.
    detour: bool = False
    replies: list[Reply] = field(default_factory=list)

    def say(
        self,
        text: str,
        choices: tuple[Choice, ...] | list[Choice] = (),
        *,
        ask_contact: bool = False,
    ) -> None:
        """Queue a reply to the sender."""
        self.replies.append(Reply(text=text, choices=tuple(choices), ask_contact=ask_contact))

    def goto(self, journey: str, step: str = "", **data: Any) -> None:
        """Move the conversation to `journey`/`step`, keeping only `data`."""
        self.conversation.journey, self.conversation.step = journey, step
        self.conversation.data = dict(data)

    def remember(self, **data: Any) -> None:
        """Add to the conversation's data (reassigned, so the JSON column sees the change)."""
        self.conversation.data = {**(self.conversation.data or {}), **data}

    @property
    def data(self) -> dict[str, Any]:
        """The conversation's saved data."""
        return self.conversation.data or {}

    @property
    def step(self) -> str:
        """The step within the current journey."""
        return self.conversation.step

    async def household(self) -> Household | None:
        """The household this chat is linked to, if any."""
        if self.identity.household_id is None:
            return None
        return await self.session.get(Household, self.identity.household_id)

    async def mentor(self) -> Mentor | None:
        """The mentor this chat belongs to, if it is a mentor's."""
        if self.identity.mentor_id is None:
            return None
        return await self.session.get(Mentor, self.identity.mentor_id)
