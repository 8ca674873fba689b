"""A household's story as the household page shows it: one dated stream, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.web.admin import names
from bot.web.admin.conversation import Line, inbound_line, name_presses, outbound_line
from bot.web.admin.web import page_number
from handlers.labels import HOUSEHOLD_CHAT, TIMELINE_KINDS, filer
from storage import timeline
from storage.scope import Scope

FAMILY, SYSTEM = HOUSEHOLD_CHAT, "system"  # authors as labels.author reads them


@dataclass
class Shown:
    """One line of the story on the page: the entry, who did it, and a message's words."""

    entry: timeline.Entry
    who: str
    line: Line | None = None


def who_of(entry: timeline.Entry) -> str:
    """The stored author of an entry (`chat:…`, `mentor:3`, a username, `system`)."""
    row = entry.row
    by_source: dict[str, Any] = {
        "in": lambda: FAMILY,
        "report": lambda: FAMILY,
        "request": lambda: filer(row.filed_by),
        "membership": lambda: FAMILY,
        "request_step": lambda: row.actor,
        "visit": lambda: f"mentor:{row.mentor_id}",
        "referral_sent": lambda: row.created_by,
        "referral_received": lambda: row.answered_by or "",
        "referral_closed": lambda: row.answered_by or "",
        "graduation": lambda: row.confirmed_by,
        "note": lambda: row.author,
        "voice": lambda: row.actor,
        "membership_step": lambda: row.actor,
    }
    return str(by_source.get(entry.source, lambda: SYSTEM)())


def shown_of(rt: Runtime, story: timeline.Story) -> list[Shown]:
    """The page's entries with their authors, messages read back and presses named."""
    shown = [Shown(e, who_of(e)) for e in story.entries]
    for item in shown:
        if item.entry.source == "in":
            item.line = inbound_line(rt, item.entry.row)
        elif item.entry.source == "out":
            item.line = outbound_line(item.entry.row)
    lines = [item.line for item in shown if item.line is not None]
    name_presses(lines, [outbound_line(row) for row in story.before])
    return shown


def kinds_asked(request: Request) -> list[str]:
    """The kinds ticked in the filter (none ticked: every kind)."""
    return [k for k in request.query_params.getlist("kind") if k in timeline.KINDS]


async def story_context(
    rt: Runtime, session: AsyncSession, scope: Scope, household_id: int, request: Request
) -> dict[str, Any]:
    """What the household page's story section needs (NotFound outside the scope)."""
    kinds = kinds_asked(request)
    story = await timeline.story(
        session, scope, household_id, kinds=kinds, page=page_number(request)
    )
    shown = shown_of(rt, story)
    query = urlencode([("kind", k) for k in kinds])
    return {
        "story": story,
        "shown": shown,
        "kinds": kinds,
        "kind_names": TIMELINE_KINDS,
        "story_base": f"/admin/households/{household_id}?{query}{'&' if query else ''}",
        "names": await names.authors(session, scope, [s.who for s in shown]),
    }
