"""Set-based writes shared by the sweeps: the dialect's INSERT, JSON built by the database,
deferred outbox rows, and honest row counts.

A sweep that prompts thousands of households writes their outbox rows with one INSERT …
SELECT whose payload JSON the database builds (`{"render", "locale", "args", "hours"}`);
the words are made when the sender reads the row (bot.messages.render_deferred). No Python
runs per household, so a sweep's memory stays flat.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, cast, func, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from storage.db import is_postgres
from storage.models import ChatIdentity, OutboxMessage

Hours = tuple[str, str]  # delivery hours, "08:00" and "18:00", local to the recipient's region


def insert_of(session: AsyncSession, model: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING, as Core (no ORM bulk path)."""
    # On the table, not the class: the ORM's INSERT path reports rowcount -1 on psycopg.
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(model.__table__)


def json_object(session: AsyncSession, *pairs: tuple[str, Any]) -> Any:
    """SQL: a JSON object of these keys and SQL values."""
    build = func.json_build_object if is_postgres(session) else func.json_object
    return build(*[part for key, value in pairs for part in (literal(key, String), value)])


def json_list(session: AsyncSession, *values: Any) -> Any:
    """SQL: a JSON array of these values."""
    return (func.json_build_array if is_postgres(session) else func.json_array)(*values)


def json_agg(session: AsyncSession, value: Any) -> Any:
    """SQL aggregate: the group's values as a JSON array."""
    return (func.json_agg if is_postgres(session) else func.json_group_array)(value)


def deferred(
    session: AsyncSession,
    render: str,
    locale: Any,
    *args: tuple[str, Any],
    region: Any,
    hours: Hours,
) -> Any:
    """SQL: a deferred message's payload, `{"render", "locale", "args", "hours"}`.

    `hours` keeps the message to delivery hours in the recipient's region: a retry that
    would land at night waits for the morning (bot/sender.py).
    """
    start, end = hours
    return json_object(
        session,
        ("render", literal(render, String)),
        ("locale", locale),
        ("args", json_object(session, *args)),
        (
            "hours",
            json_object(
                session,
                ("region", region),
                ("start", literal(start, String)),
                ("end", literal(end, String)),
            ),
        ),
    )


def outbox_insert(session: AsyncSession, source: Select[Any]) -> Any:
    """INSERT the (identity, channel, recipient, payload, key, now, now, state, 0) rows of `source`."""
    cols = ["identity_id", "channel", "recipient", "payload", "dedupe_key"]
    cols += ["next_attempt_at", "created_at", "state", "attempts"]
    return (
        insert_of(session, OutboxMessage)
        .from_select(cols, source)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def promptable(ci: Any = ChatIdentity) -> ColumnElement[bool]:
    """A chat that agreed, did not say BERHENTI and still receives messages."""
    return and_(ci.consent_at.is_not(None), ci.opted_out.is_(False), ci.unreachable_at.is_(None))


def as_text(value: Any) -> Any:
    """SQL: `value` as text, for building keys."""
    return cast(value, String)


async def inserted(session: AsyncSession, stmt: Any) -> int:
    """Run an INSERT … SELECT; how many rows it added.

    SQLAlchemy keeps rowcount only for UPDATE and DELETE unless asked (-1 on psycopg), and
    RETURNING would bring every new row into memory just to count it.
    """
    return touched_rows(await session.execute(stmt.execution_options(preserve_rowcount=True)))


def touched_rows(result: Any) -> int:
    """Rows a statement touched."""
    # -1 means the driver does not know; the counts are for the summary line only.
    return max(0, int(getattr(result, "rowcount", 0) or 0))
