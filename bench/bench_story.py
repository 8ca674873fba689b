"""A household's story at scale: the household page and the escalation thread of a family with
thousands of messages, among other families' chats.

    python -m bench story                      # 5,000 messages of one family, 100,000 of others
    SINERGI_BENCH_STORY_MESSAGES=20000 python -m bench story --postgres URL

For each page: the median time of the whole request through the app (session, queries,
template), as `server_ms`. Nothing is asserted here; the numbers go in the table.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench import dbs, gen
from bench.bench_admin import _login, _time
from bot.app import create_app
from bot.channels.local import make_update
from bot.config import Settings
from bot.messages import Choice, Reply
from bot.runtime import build_runtime
from storage.models import (
    ChatIdentity,
    Escalation,
    Household,
    InboxUpdate,
    LadderAction,
    MentorVisit,
    OutboxMessage,
)
from storage.staff import add_staff

MESSAGES = int(os.environ.get("SINERGI_BENCH_STORY_MESSAGES", "5000"))
OTHERS = int(os.environ.get("SINERGI_BENCH_STORY_OTHERS", "100000"))  # other families' messages
HOUSEHOLDS = 1000
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
QUESTION = Reply("Usahanya masih jalan?", (Choice("still", "Masih jalan"), Choice("shut", "Tutup")))


def run() -> list[dict[str, Any]]:
    """Fill each backend, then time the story's pages."""
    results: list[dict[str, Any]] = []
    for backend in dbs.backends():
        with dbs.fresh(backend) as url:
            gen.populate(url, HOUSEHOLDS, encrypt_each=False, programs=False)
            household_id, region, escalation_id = _story(url)
            results += asyncio.run(_measure(backend, url, household_id, region, escalation_id))
    return results


def _chat_rows(identity: int, key: str, n: int, start: datetime) -> tuple[list[Any], list[Any]]:
    """`n` messages of one chat: the bot asks, the person presses a button a minute later."""
    inbound, outbound = [], []
    for i in range(n // 2):
        at = start + timedelta(minutes=10 * i)
        pressed = at + timedelta(minutes=1)
        outbound.append(
            {
                "identity_id": identity,
                "channel": "simulator",
                "recipient": key,
                "payload": QUESTION.to_payload(),
                "state": "sent",
                "attempts": 1,
                "next_attempt_at": at,
                "created_at": at,
                "sent_at": at,
            }
        )
        raw = make_update(key, choice="still", now=pressed)
        inbound.append(
            {
                "channel": "simulator",
                "external_id": str(raw["id"]),
                "chat_key": f"simulator:{key}",
                "raw": json.dumps(raw),
                "received_at": pressed,
                "processed_at": pressed,
                "state": "done",
            }
        )
    return inbound, outbound


def _story(url: str) -> tuple[int, str, int]:
    """The first household's long conversation, ladder steps, visits and an escalation; other
    families' chats around it. Returns its id, its region and its escalation's id."""
    engine = sa.create_engine(gen.sync_url(url))
    with engine.begin() as conn:
        families = conn.execute(
            sa.select(Household.id, Household.region_code, Household.mentor_id)
            .order_by(Household.id)
            .limit(1 + OTHERS // 1000)
        ).all()
        (hid, region, mentor), others = families[0], families[1:]
        for n, (family, _code, _m) in enumerate(families):
            key = f"+6281{n:08d}"
            identity = conn.execute(
                sa.insert(ChatIdentity)
                .values(
                    channel="simulator",
                    external_id=key,
                    household_id=family,
                    locale="id",
                    consent_at=NOW,
                    created_at=NOW,
                )
                .returning(ChatIdentity.id)
            ).scalar_one()
            count = MESSAGES if family == hid else OTHERS // max(1, len(others))
            start = NOW - timedelta(minutes=10 * count)
            inbound, outbound = _chat_rows(identity, key, count, start)
            for rows, table in ((inbound, InboxUpdate), (outbound, OutboxMessage)):
                for at in range(0, len(rows), 2000):
                    conn.execute(sa.insert(table), rows[at : at + 2000])
        conn.execute(
            sa.insert(LadderAction),
            [
                {
                    "household_id": hid,
                    "step": "checkin",
                    "period": f"2026-{m:02d}",
                    "at": NOW,
                    "run": 1,
                }
                for m in range(1, 12)
            ],
        )
        conn.execute(
            sa.insert(MentorVisit),
            [
                {
                    "household_id": hid,
                    "mentor_id": mentor,
                    "at": NOW - timedelta(days=d),
                    "met": True,
                }
                for d in range(30)
            ],
        )
        escalation = conn.execute(
            sa.insert(Escalation)
            .values(
                household_id=hid,
                region_code=region,
                reason="silent",
                level=1,
                state="open",
                sla_due=date(2026, 11, 30),
                created_at=NOW,
            )
            .returning(Escalation.id)
        ).scalar_one()
    if engine.dialect.name == "postgresql":
        # A database in use has been analysed by autovacuum; a fresh bulk load has not.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return hid, region, escalation


async def _measure(
    backend: str, url: str, household_id: int, region: str, escalation_id: int
) -> list[dict[str, Any]]:
    """Sign in as an officer of the household's desa and time each page."""
    settings = Settings(database_url=url, secret_key=gen.SECRET, data_dir=dbs.Path("/tmp"))
    rt = build_runtime(settings, clients={})
    app = create_app(rt, background=False)
    app.state.clock = lambda: NOW
    async with rt.sessions() as session, session.begin():
        await add_staff(
            session,
            username="bench",
            password="bench-password-1",
            role="officer",
            region_code=region,
            now=NOW,
        )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    await _login(client)
    page = f"/admin/households/{household_id}"
    last = -(-(MESSAGES + 11 + 30) // 50)
    cases = [
        ("household page, story page 1 (newest)", page),
        (f"household page, story page {last} (oldest)", f"{page}?page={last}"),
        ("household page, messages only", f"{page}?kind=message"),
        ("household page, ladder and visits only", f"{page}?kind=ladder&kind=visit"),
        ("escalation page", f"/admin/escalations/{escalation_id}"),
        ("escalation thread fragment", f"/admin/escalations/{escalation_id}/thread"),
    ]
    results = []
    for case, path in cases:
        server = await _time(lambda path=path: client.get(path))
        results.append(
            {
                "bench": "story",
                "db": backend,
                "case": case,
                "messages": MESSAGES,
                "other_messages": OTHERS,
                "server_ms": server * 1000,
            }
        )
    await client.aclose()
    await rt.close()
    return results
