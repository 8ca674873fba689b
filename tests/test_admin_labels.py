"""Words, not codes: every admin page, in Indonesian and in English, shows no stored code.

One world holds a record of every kind the pages show (escalations of each reason and
state, requests of each kind and state, programs, categories, graduation stages, referrals,
proposals, ladder rungs, chats of each channel, a transcript with a button press, audit
events of each action); every GET page of the admin routers is rendered with each catalog and
its visible text is scanned for the codes the database stores.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from itertools import product

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.local import make_update
from bot.messages import Choice, Reply
from handlers import labels
from locales.catalog import _read as read_catalog
from storage import outbox
from storage.graduation_rules import STAGES
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Escalation,
    EscalationNote,
    GraduationStage,
    Household,
    InboxUpdate,
    LadderAction,
    LadderState,
    Membership,
    MentorVisit,
    ProgressReport,
    Proposal,
    Referral,
    RelapseSignal,
    RequestEvent,
    ServiceRequest,
    StaffUser,
    StageTransition,
)
from storage.roster import jobs as import_jobs
from storage.roster.rules import CATEGORIES, ORGANISATION_KINDS
from storage.staff import ROLES
from tests import factories
from tests.admin_world import World, fill, routes, world_fixture  # noqa: F401
from tests.conftest import T0

# Pages that are not pages: files, redirects, the language switch, the sign-in form.
NOT_PAGES = (
    "/export",
    "/photo",
    "/voice/",
    "/lang/",
    "/login",
    "/find",
    "/admin/partner",
    "/admin/",
)
WORDS = re.compile(r"[A-Za-z0-9_]+(?:[.\-][A-Za-z0-9_]+)*")
# What a code looks like when it leaks: an author key, a pressed button, a month as `26-12`,
# a stored period `2026-12`, a numeric date.
LEAKS = {
    "author": re.compile(r"\b(?:chat|mentor|staff):\d+\b"),
    "button": re.compile(r"\[[a-z][\w:.-]*\]"),
    "period": re.compile(r"(?<![\w-])20\d\d-(?:0[1-9]|1[0-2])(?![\w-])"),
    "short month": re.compile(r"(?<![\w-])\d\d-(?:0[1-9]|1[0-2])(?![\w-])"),
    "numeric date": re.compile(r"\b\d{2}-\d{2}-\d{4}\b"),
}


# An audit event's details, with codes in their values.
DETAIL = {
    "kind": "households",
    "method": "nik",
    "role": "officer",
    "state": "dikirim",
    "with_nik": False,
}


def stored_codes() -> set[str]:
    """Every code the database keeps that a page might show: the label tables' keys and the rules'."""
    codes = {code for table in labels.TABLES.values() for code in table}
    codes |= set(STAGES) | set(CATEGORIES) | set(ROLES)
    codes |= {t.key for t in labels.TRAINING_TOPICS} | set(labels.OBJECTION_TOPICS)
    codes |= set(labels.ERASURE_KINDS) | {"forward", "back", "system"}
    return codes


def catalog_words(lang: str) -> set[str]:
    """The words the catalog itself uses in `lang` (lower case): a code spelled like one is a word."""
    texts = []
    for message in read_catalog(lang):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        said = message.string if isinstance(message.string, tuple) else (message.string,)
        texts += [str(s) for s in said if s] or ([str(i) for i in ids] if lang == "en" else [])
    return {w.lower() for text in texts for w in WORDS.findall(text)}


class Visible(HTMLParser):
    """The text a person sees: data outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The page's visible text, one piece per line."""
    parser = Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def leaks(text: str, codes: set[str], words: set[str]) -> list[str]:
    """The stored codes and code-like strings found in `text`."""
    found = [
        w for w in WORDS.findall(text) if w in codes and w.lower() not in words and not w.isdigit()
    ]
    found += [f"{name}: {m}" for name, rx in LEAKS.items() for m in rx.findall(text)]
    return sorted(set(found))


def _around(text: str, code: str) -> str:
    """The code with the visible text around it, to see where it leaked."""
    at = text.find(code.split(": ")[-1])
    return f"{code} in …{text[max(0, at - 40) : at + 40]!r}…"


# The world -------------------------------------------------------------------------------------


class Counter:
    """Unique numbers for the extra households' keys."""

    def __init__(self) -> None:
        self.n = 100

    def next(self) -> int:
        self.n += 1
        return self.n


async def _household(session: AsyncSession, world: World, n: int, mentor_id: int) -> Household:
    """One more Samarinda household of the mentor."""
    return await factories.household(
        session,
        world.h.rt.vault,
        nik=f"64720165038{n:05d}",
        no_kk=f"64720101010{n:05d}",
        name=f"Keluarga Nomor {n}",
        phone=f"+62813000{n:05d}",
        region_code=world.samarinda.code + "011001",
        mentor_id=mentor_id,
    )


async def _escalations(session: AsyncSession, world: World, desa: str) -> list[int]:
    """An escalation of every reason in every state, each with a note by the mentor."""
    ids = []
    for reason, state in product(labels.ESCALATION_REASONS, labels.ESCALATION_STATES):
        esc = Escalation(
            household_id=world.samarinda.household,
            region_code=desa,
            reason=reason,
            level=1,
            state=state,
            sla_due=date(2026, 11, 30),
            created_at=T0,
            resolved_at=T0 if state == "resolved" else None,
            outcome="Usaha jalan lagi" if state == "resolved" else None,
        )
        session.add(esc)
        await session.flush()
        session.add(
            EscalationNote(
                escalation_id=esc.id,
                at=T0,
                author=f"mentor:{world.samarinda.mentor}",
                text="Sudah saya telepon",
            )
        )
        ids.append(esc.id)
    return ids


def _topics(kind: str) -> list[str | None]:
    """The topics a request of this kind is stored with."""
    return {
        "pelatihan": [t.key for t in labels.TRAINING_TOPICS],
        "sanggah": list(labels.OBJECTION_TOPICS),
        "hapus": list(labels.ERASURE_KINDS),
    }.get(kind, [None])


async def _requests(session: AsyncSession, world: World, desa: str) -> list[int]:
    """A request of every kind and topic, and one in every state, each with its history."""
    combos = [(k, t, "diajukan") for k in labels.REQUEST_KIND_NAMES for t in _topics(k)]
    combos += [("pelatihan", "menjahit", s) for s in labels.REQUEST_STATE_NAMES]
    ids = []
    for n, (kind, topic, state) in enumerate(combos):
        row = ServiceRequest(
            reference=f"PL-2611-9{n:03d}",
            household_id=world.samarinda.household,
            kind=kind,
            topic=topic,
            state=state,
            region_code=desa,
            created_at=T0,
            updated_at=T0,
        )
        session.add(row)
        await session.flush()
        session.add_all(
            [
                RequestEvent(
                    request_id=row.id, at=T0, actor="chat:1", from_state=None, to_state="diajukan"
                ),
                RequestEvent(
                    request_id=row.id,
                    at=T0,
                    actor="samarinda",
                    from_state="diajukan",
                    to_state=state,
                ),
            ]
        )
        ids.append(row.id)
    return ids


async def _path(session: AsyncSession, world: World, hh: Household, stage: str) -> None:
    """The household at `stage`, at risk, with a move, a warning sign and a referral."""
    session.add_all(
        [
            GraduationStage(
                household_id=hh.id,
                stage=stage,
                rank=STAGES.index(stage),
                since=date(2026, 11, 1),
                since_at=T0,
                risk_since=T0,
                risk_reason="senyap",
                updated_at=T0,
            ),
            StageTransition(
                household_id=hh.id,
                region_code=hh.region_code,
                from_stage=STAGES[0],
                to_stage=stage,
                direction="forward",
                at=T0,
                on_date=date(2026, 11, 1),
                evidence_kind=list(labels.EVIDENCE_NAMES)[len(stage) % 5],
                confirmed_by=f"mentor:{world.samarinda.mentor}",
            ),
        ]
    )


async def _every_kind(session: AsyncSession, world: World) -> dict[str, list[int]]:
    """Records of every kind in Samarinda; the ids each detail page is rendered with."""
    desa, mentor = world.samarinda.code + "011001", world.samarinda.mentor
    numbers = Counter()
    main = await session.get(Household, world.samarinda.household)
    assert main is not None
    main.categories = ";".join(CATEGORIES)
    households = [main]
    for rung in labels.RUNG_NAMES:  # one household per rung, on the mentor's page
        hh = await _household(session, world, numbers.next(), mentor)
        session.add(
            LadderState(household_id=hh.id, cycle_start=date(2026, 11, 1), rung=rung, updated_at=T0)
        )
        households.append(hh)
    for n, (code, status) in enumerate(product(labels.PROGRAM_NAMES, labels.PROGRAM_STATUS_NAMES)):
        await factories.program(session, main.id, code=code, status=status, period=f"Tahap {n}")
    for n, (state, problem) in enumerate(product(labels.BUSINESS_STATES, labels.PROBLEMS)):
        month = date(2025, 1, 1) + timedelta(days=31 * n)
        session.add(
            ProgressReport(
                household_id=main.id,
                period=f"{month:%Y-%m}",
                business_state=state,
                problem=problem,
                omzet=500_000 + n,
                status="complete",
                started_at=T0,
                submitted_at=T0,
            )
        )
    session.add(
        MentorVisit(
            household_id=main.id, mentor_id=mentor, at=T0, met=True, business_state="berjalan"
        )
    )
    for stage, hh in zip(STAGES, households, strict=False):
        await _path(session, world, hh, stage)
    for signal in labels.SIGNAL_NAMES:
        session.add(
            RelapseSignal(household_id=main.id, kind=signal, period=signal, stage=STAGES[1], at=T0)
        )
    for office, state in product(labels.OFFICE_NAMES, labels.REFERRAL_STATE_NAMES):
        session.add(
            Referral(
                household_id=main.id,
                region_code=desa,
                office=office,
                asked="Modal usaha",
                state=state,
                created_by="samarinda",
                sent_at=T0 - timedelta(days=40),
                updated_at=T0,
            )
        )
    for n, state in enumerate(labels.PROPOSAL_STATE_NAMES):
        asker = ChatIdentity(channel="local", external_id=f"usul-x{n}", created_at=T0)
        session.add(asker)
        await session.flush()
        session.add(
            Proposal(
                reference=f"US-2611-9{n}",
                identity_id=asker.id,
                name=f"Usulan Nomor {n}",
                region_code=desa,
                state=state,
                created_at=T0,
                updated_at=T0,
            )
        )
    for action in labels.AUDIT_ACTIONS:
        session.add(
            AuditEvent(
                at=T0,
                actor="chat:1" if action == "link" else "samarinda",
                action=action,
                region_code=desa,
                detail=DETAIL,
            )
        )
    await _chats(session, world, main)
    await _cooperative_and_ladder(session, main)
    escalations = await _escalations(session, world, desa)
    requests = await _requests(session, world, desa)
    offices = [  # one organisation of every kind, each with its own edit page
        await factories.organisation(
            session, code=f"ORG-{n}", name=f"Kantor {n}", kind=kind, region_code="6472"
        )
        for n, kind in enumerate(ORGANISATION_KINDS)
    ]
    await session.flush()
    return {
        "escalation_id": escalations,
        "request_id": requests,
        "household_id": [h.id for h in households],
        "organisation_id": [o.id for o in offices],
    }


async def _cooperative_and_ladder(session: AsyncSession, hh: Household) -> None:
    """The desa's cooperative with the family a member, and every ladder step (for the story)."""
    coop = await factories.organisation(
        session,
        code="KOPDES-X",
        name="Kopdes Merah Putih",
        kind="koperasi",
        region_code=hh.region_code,
    )
    session.add(
        Membership(
            household_id=hh.id,
            organisation_id=coop.id,
            state="anggota",
            applied_at=T0,
            updated_at=T0,
        )
    )
    session.add_all(
        LadderAction(household_id=hh.id, step=step, period="2026-11", at=T0, run=1)
        for step in labels.LADDER_STEPS
    )


async def _chats(session: AsyncSession, world: World, hh: Household) -> None:
    """A chat on every channel; on the simulator, a question with buttons and a button pressed."""
    for channel in labels.CHANNEL_NAMES:
        identity = ChatIdentity(
            channel=channel,
            external_id=f"{channel}-{hh.id}",
            household_id=hh.id,
            locale="id",
            consent_at=T0,
            created_at=T0,
            last_inbound_at=T0,
        )
        session.add(identity)
        await session.flush()
        if channel != "simulator":
            continue
        question = Reply(
            "Ini keluarga Anda?", (Choice("agree", "Ya, benar"), Choice("act:menu", "Menu"))
        )
        outbox.enqueue(session, identity, question.to_payload(), now=T0)
        raw = make_update(identity.external_id, choice="agree", now=T0 + timedelta(minutes=1))
        session.add(
            InboxUpdate(
                channel=channel,
                external_id=str(raw["id"]),
                chat_key=f"{channel}:{identity.external_id}",
                raw=json.dumps(raw),
                received_at=T0 + timedelta(minutes=1),
                processed_at=T0 + timedelta(minutes=1),
                state="done",
            )
        )


async def _a_big_import_under_way(session: AsyncSession, world: World) -> None:
    """The admin's big households file, a third checked: its page is the job `fill` names."""
    admin = await session.scalar(select(StaffUser.id).where(StaffUser.username == "kaltim"))
    assert admin is not None
    job = import_jobs.create(
        session,
        job_id="0",
        staff_id=admin,
        kind="households",
        filename="kpm.csv",
        data=b"no_kk\n",
        total=9000,
        vault=world.h.rt.vault,
        now=world.h.now,
    )
    job.state, job.done = "running", 3000


def _pages(world: World, ids: dict[str, list[int]]) -> list[str]:
    """Every GET page of the admin routers, a detail page once per record of each kind."""
    pages = []
    for method, path in routes(world.app):
        if method != "GET" or path == "/admin/" or any(p in path for p in NOT_PAGES[:-1]):
            continue
        if path == "/admin/referrals/new":  # the form opens from a household, request or escalation
            pages += [f"{path}?household={world.samarinda.household}"]
            pages += [f"{path}?request={r}" for r in ids["request_id"]]
            pages += [f"{path}?escalation={e}" for e in ids["escalation_id"]]
            continue
        kind = next((name for name in re.findall(r"\{(\w+)\}", path) if name in ids), None)
        records = ids[kind] if kind else [0]
        for record in records:
            region = (
                replace(world.samarinda, **{kind.removesuffix("_id"): record})
                if kind
                else world.samarinda
            )
            pages.append(fill(path, region))
    # The household page's story, one kind at a time (each kind's first page holds its lines).
    story = f"/admin/households/{world.samarinda.household}"
    return pages + [f"{story}?kind={kind}" for kind in labels.TIMELINE_KINDS]


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_every_admin_page_shows_words_not_codes(world: World, lang: str) -> None:
    """Each page's visible text, in each language, has no stored code and no numeric month."""
    async with await world.h.session() as session:
        ids = await _every_kind(session, world)
        await _a_big_import_under_way(session, world)
    admin = await world.client("kaltim")
    admin.cookies.set("sinergi_lang", lang)
    codes, words = stored_codes(), catalog_words(lang)
    pages = _pages(world, ids)
    assert len(pages) > 20, pages
    found, failed = {}, {}
    for path in pages:
        response = await admin.get(path)
        if response.status_code != 200:
            failed[path] = response.status_code
            continue
        text = visible_text(response.text)
        bad = leaks(text, codes, words)
        if bad:
            found[path] = [_around(text, code) for code in bad]
    assert (failed, found) == ({}, {})


async def test_the_chat_and_the_admin_say_the_same_day(world: World) -> None:
    """A request moved at 01:00 WITA on 2 December reads "2 Desember" in the chat and on the page."""
    from handlers.requests import describe
    from locales.i18n import use_locale

    late = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 2 December, 01:00 in Samarinda
    async with await world.h.session() as session:
        row = await session.get(ServiceRequest, world.samarinda.request)
        assert row is not None
        row.created_at = row.updated_at = late
        await session.commit()
    with use_locale("id"):
        chat = describe(row)
    officer = await world.client("samarinda")
    page = visible_text((await officer.get(f"/admin/requests/{row.id}")).text)
    assert "2 Desember 2026" in chat
    assert "2 Desember 2026 01.00" in page and "1 Desember" not in page
