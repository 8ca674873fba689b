"""One household, one story: the household page's timeline and the escalation page an officer
acts from, through HTTP on the real app and database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.local import make_update
from bot.messages import Choice, Reply
from handlers import labels
from locales.i18n import _, long_moment, rupiah, use_locale
from storage import calendar, outbox
from storage.models import (
    ChatIdentity,
    EscalationNote,
    Household,
    InboxUpdate,
    LadderAction,
    MentorVisit,
    RequestEvent,
)
from tests import factories
from tests.admin_world import World, csrf_of, linked_chat, world_fixture  # noqa: F401
from tests.conftest import T0

CHAT = 568577003
QUESTION = Reply(
    "Usahanya masih jalan?", (Choice("still", "Masih jalan"), Choice("shut", "Sudah tutup"))
)


async def _english(world: World, username: str) -> httpx.AsyncClient:
    """A signed-in officer reading the English catalog (the markers below are its words)."""
    client = await world.client(username)
    client.cookies.set("sinergi_lang", "en")
    return client


async def _question_and_press(session: AsyncSession, hh: int, at: datetime) -> None:
    """On the household's simulator chat: the bot asks with two buttons, the family presses one."""
    identity = ChatIdentity(
        channel="simulator",
        external_id="+6281300000001",
        household_id=hh,
        locale="id",
        consent_at=T0,
        created_at=T0,
    )
    session.add(identity)
    await session.flush()
    outbox.enqueue(session, identity, QUESTION.to_payload(), now=at)
    pressed = at + timedelta(minutes=1)
    raw = make_update(identity.external_id, choice="still", now=pressed)
    session.add(
        InboxUpdate(
            channel="simulator",
            external_id=str(raw["id"]),
            chat_key=f"simulator:{identity.external_id}",
            raw=json.dumps(raw),
            received_at=pressed,
            processed_at=pressed,
            state="done",
        )
    )


async def _story(world: World) -> None:
    """Samarinda's family, an hour apart after the world's T0 records (request, report, voice
    note): a question and its answer, a request step, a check-in, a visit, a staff note."""
    s = world.samarinda
    async with await world.h.session() as session:
        await _question_and_press(session, s.household, T0 + timedelta(hours=1))
        session.add_all(
            [
                RequestEvent(
                    request_id=s.request,
                    at=T0 + timedelta(hours=2),
                    actor="samarinda",
                    from_state="diajukan",
                    to_state="diproses",
                    note="Dicek petugas",
                ),
                LadderAction(
                    household_id=s.household,
                    step="checkin",
                    period="2026-11",
                    at=T0 + timedelta(hours=3),
                    run=1,
                ),
                MentorVisit(
                    household_id=s.household,
                    mentor_id=s.mentor,
                    at=T0 + timedelta(hours=4),
                    met=True,
                    business_state="berjalan",
                    note="Warung ramai",
                ),
                EscalationNote(
                    escalation_id=s.escalation,
                    at=T0 + timedelta(hours=5),
                    author="samarinda",
                    text="Ditelepon, tidak diangkat",
                ),
            ]
        )


def _moment(at: datetime) -> str:
    """A moment as the Samarinda officer reads it in English (the region's zone, WITA)."""
    with use_locale("en"):
        return long_moment(calendar.local(at, calendar.zone_of("6472")))


def _story_of(page: str) -> str:
    """The timeline section of a household page."""
    assert 'id="story"' in page, page[:300]
    return page.split('id="story"', 1)[1]


def _in_order(text: str, *markers: str) -> None:
    """Each marker is on the page, each after the one before."""
    at = [text.find(m) for m in markers]
    assert -1 not in at, dict(zip(markers, at, strict=True))
    assert at == sorted(at), dict(zip(markers, at, strict=True))


async def test_the_timeline_tells_every_kind_in_order_with_who_and_when(world: World) -> None:
    """Request, question, its answer, request step, check-in, visit, note: in that order, the
    answer reading as the button's words, the choices as a list, each line with its author."""
    await _story(world)
    officer = await _english(world, "samarinda")
    hh = world.samarinda.household
    story = _story_of((await officer.get(f"/admin/households/{hh}")).text)
    _in_order(
        story,
        "Request filed",
        "Usahanya masih jalan?",
        "<li>Masih jalan</li>",
        "<li>Sudah tutup</li>",
        "Pressed: Masih jalan",
        "Dicek petugas",
        "Check-in sent",
        "Warung ramai",
        "Ditelepon, tidak diangkat",
    )
    assert "[still]" not in story and "Usahanya masih jalan?Masih jalan" not in story
    line = story.split("Pressed: Masih jalan")[0].rsplit("<small>", 1)[1]
    assert "Family" in line and _moment(T0 + timedelta(hours=1, minutes=1)) in line, line
    assert "Sinergi (automatic)" in story.split("Usahanya masih jalan?")[0].rsplit("<small>", 1)[1]
    visit = story.split("Warung ramai")[0].rsplit("<small>", 1)[1]
    assert "Mentor Siti Aminah Rahayu" in visit
    assert "samarinda" in story.split("Ditelepon, tidak diangkat")[0].rsplit("<small>", 1)[1]
    player = f'<audio controls preload="none" src="/admin/households/{hh}/voice/{world.samarinda.voice_note}">'
    assert player in story
    assert "diproses" not in story and "checkin" not in story


async def test_the_timeline_filters_by_kind(world: World) -> None:
    """Ticking check-ins and notes shows those and nothing else; nonsense kinds show all."""
    await _story(world)
    officer = await _english(world, "samarinda")
    base = f"/admin/households/{world.samarinda.household}"
    story = _story_of((await officer.get(base + "?kind=ladder&kind=note")).text)
    assert "Check-in sent" in story and "Ditelepon, tidak diangkat" in story
    assert "Usahanya masih jalan?" not in story and "Warung ramai" not in story
    assert 'value="ladder" checked' in story and 'value="visit" checked' not in story
    every = _story_of((await officer.get(base + "?kind=nonsense")).text)
    assert "Usahanya masih jalan?" in every and "Warung ramai" in every


async def _visits(world: World, n: int) -> None:
    """`n` visits a minute apart after T0, noted `Kunjungan 000`, `Kunjungan 001`, …"""
    s = world.samarinda
    async with await world.h.session() as session:
        session.add_all(
            MentorVisit(
                household_id=s.household,
                mentor_id=s.mentor,
                at=T0 + timedelta(minutes=1 + i),
                met=False,
                note=f"Kunjungan {i:03d}",
            )
            for i in range(n)
        )


async def test_the_timeline_pages_newest_first_fifty_to_a_page(world: World) -> None:
    """120 visits and the world's 3 records: page 1 the newest 50 (oldest of them on top),
    page 3 the oldest; the pager keeps the filter."""
    await _visits(world, 120)
    officer = await _english(world, "samarinda")
    base = f"/admin/households/{world.samarinda.household}"
    first = _story_of((await officer.get(base)).text)
    assert "Page 1 of 3 (123 in all)" in first
    _in_order(first, "Kunjungan 070", "Kunjungan 071", "Kunjungan 119")
    assert "Kunjungan 069" not in first and first.count("Kunjungan ") == 50
    assert f'href="{base}?page=2"' in first
    last = _story_of((await officer.get(base + "?page=3")).text)
    _in_order(last, "Request filed", "Kunjungan 000", "Kunjungan 019")
    assert "Kunjungan 020" not in last
    visits = _story_of((await officer.get(base + "?kind=visit&page=2")).text)
    assert "Page 2 of 3 (120 in all)" in visits and f'href="{base}?kind=visit&amp;page=3"' in visits
    _in_order(visits, "Kunjungan 020", "Kunjungan 069")


async def test_the_timeline_is_only_for_its_region(world: World) -> None:
    """Balikpapan's officer gets a 404 for Samarinda's family, filtered or paged, and sees
    nothing of its story on its own family's page."""
    await _story(world)
    other = await _english(world, "balikpapan")
    hh = world.samarinda.household
    for query in ("", "?kind=message", "?page=2"):
        assert (await other.get(f"/admin/households/{hh}{query}")).status_code == 404
    own = (await other.get(f"/admin/households/{world.balikpapan.household}")).text
    assert "Usahanya masih jalan?" not in own and "Warung ramai" not in own


async def _case(world: World) -> None:
    """Samarinda's family: a program, woman head of household, a check-in, a visit three days
    later and a mentor notice three days after that."""
    s = world.samarinda
    async with await world.h.session() as session:
        await factories.program(session, s.household, code="PKH", status="disalurkan")
        family = await session.get(Household, s.household)
        assert family is not None
        family.categories = "perempuan_kepala_keluarga"
        session.add_all(
            LadderAction(household_id=s.household, step=step, period="2026-11", at=at, run=1)
            for step, at in (("checkin", T0), ("mentor", T0 + timedelta(days=6)))
        )
        session.add(
            MentorVisit(
                household_id=s.household,
                mentor_id=s.mentor,
                at=T0 + timedelta(days=3),
                met=False,
                note="Rumah kosong",
            )
        )


async def test_the_escalation_page_has_what_an_officer_needs(world: World) -> None:
    """Programs and their status, the last report, the ladder with dates, the mentor's name and
    phone, and the categories that make it urgent, all in words."""
    await _case(world)
    officer = await _english(world, "samarinda")
    page = (await officer.get(f"/admin/escalations/{world.samarinda.escalation}")).text
    with use_locale("en"):
        words = [
            _(labels.PROGRAM_NAMES["PKH"]),
            _(labels.PROGRAM_STATUS_NAMES["disalurkan"]),
            "Nov 2026",
            _(labels.BUSINESS_STATES["berjalan"]),
            rupiah(1_500_000),
            _(labels.CATEGORY_NAMES["perempuan_kepala_keluarga"]),
            "Mentor Siti Aminah Rahayu",
            "+6281200000001",
        ]
        steps = [_(labels.LADDER_STEPS["checkin"]), _(labels.LADDER_STEPS["mentor"])]
    missing = [w for w in words + steps if w not in page]
    assert not missing, missing
    history = page.split('class="ladder-history"', 1)[1].split("</table>", 1)[0]
    _in_order(history, steps[1], "Rumah kosong", steps[0])  # newest first, visits among steps
    assert _moment(T0) in history and _moment(T0 + timedelta(days=6)) in history, history
    assert "perempuan_kepala_keluarga" not in page and "disalurkan" not in page


async def test_a_reply_from_the_escalation_page_goes_through_the_bot_into_the_thread(
    world: World,
) -> None:
    """The officer writes; the bot sends it on the family's Telegram; the thread fragment shows
    it, and the family's answer appears there once it arrives."""
    async with await world.h.session() as session:
        await linked_chat(session, world.samarinda.household, CHAT)
    officer = await world.client("samarinda")
    esc = f"/admin/escalations/{world.samarinda.escalation}"
    page = (await officer.get(esc)).text
    assert f'data-poll="{esc}/thread"' in page and "Selamat datang" in page
    sent = await officer.post(
        esc + "/message",
        data={"csrf_token": await csrf_of(officer), "text": "Besok petugas datang ke rumah."},
    )
    assert sent.headers["location"].endswith("done=sent")
    await world.h.work()
    assert "Besok petugas datang" in world.h.telegram_said(CHAT)[-1].text
    thread = await officer.get(esc + "/thread")
    assert thread.status_code == 200 and "<html" not in thread.text
    _in_order(thread.text, "Selamat datang", "Besok petugas datang ke rumah.")
    world.h.advance(minutes=2)
    await world.h.post_telegram(world.h.telegram_update(CHAT, text="Baik, saya tunggu"))
    await world.h.work()
    _in_order(
        (await officer.get(esc + "/thread")).text, "Besok petugas datang", "Baik, saya tunggu"
    )


async def test_the_thread_fragment_is_scoped_and_needs_a_login(world: World) -> None:
    """Another region's officer gets a 404; a browser without a session is sent to log in."""
    thread = f"/admin/escalations/{world.samarinda.escalation}/thread"
    other = await world.client("balikpapan")
    assert (await other.get(thread)).status_code == 404
    anonymous = await world.client()
    answer = await anonymous.get(thread)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")
