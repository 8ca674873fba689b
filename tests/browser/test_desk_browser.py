"""The officer's desk in a real browser: a household's timeline, an escalation's threaded reply,
the dashboard's action list, the drill-down from provinsi to desa, and the honest import preview.

The server is real (uvicorn, SQLite, background workers); the household talks to it through the
Telegram webhook, and the bot's answers land in the fake Bot API.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import CHAT, PASSWORD, Site, sign_in
from tests.conftest import PAYLOADS

pytestmark = pytest.mark.browser

UPDATE_IDS = itertools.count(900_001)  # Telegram's update ids: a repeated one is a redelivery
VISITS = 55  # more than one page of the story (50 a page)
# The drill-down's world: households per desa, on top of the demo's 5 + 5 in Palaran.
DESA = {
    "6472011001": 5,  # Rawa Makmur (demo)
    "6472011002": 5,  # Handil Bakti (demo)
    "6472021001": 2,  # Sungai Keledang, Samarinda Seberang
    "6471011001": 3,  # Manggar, Balikpapan Timur
}
NAMES = {
    "64": "Kalimantan Timur",
    "6471": "Kota Balikpapan",
    "647101": "Balikpapan Timur",
    "6471011001": "Manggar",
    "647202": "Samarinda Seberang",
    "6472021001": "Sungai Keledang",
}


def _wait_for(check: Any, tries: int = 150) -> Any:
    """Poll until `check()` is truthy (the background workers answer on their own schedule)."""
    for _ in range(tries):
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


class Phone:
    """The household's Telegram app: posts updates to the webhook as Telegram does."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def _post(self, update: dict[str, Any]) -> None:
        answer = httpx.post(
            self.site.url + "/webhook/telegram",
            content=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": "s",
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    def say(self, text: str) -> None:
        """The household types `text`."""
        update = json.loads((PAYLOADS / "telegram_message_text_start_command.json").read_text())
        update["update_id"] = number = next(UPDATE_IDS)
        msg = update["message"]
        msg["from"]["id"] = msg["chat"]["id"] = CHAT
        msg["date"] = int(time.time())
        msg["message_id"] = number
        msg.pop("entities", None)
        msg["text"] = text
        self._post(update)

    def press(self, data: str) -> None:
        """The household presses the button whose key is `data`."""
        update = json.loads((PAYLOADS / "telegram_callback_query.json").read_text())
        update["update_id"] = number = next(UPDATE_IDS)
        query = update["callback_query"]
        query["from"]["id"] = query["message"]["chat"]["id"] = CHAT
        query["message"]["date"] = int(time.time())
        query["data"] = data
        query["id"] = str(number)
        self._post(update)

    def answers(self, since: int) -> list[dict[str, Any]]:
        """What the bot sent the household from the `since`-th message on (waits for one)."""
        return list(_wait_for(lambda: self.site.telegram.sent(CHAT)[since:]))


async def _world(session: Any, rt: Any) -> dict[str, Any]:
    """Visits enough for two pages, ladder steps, an at-risk case, an overdue referral, more
    regions with households, and a provinsi supervisor; the ids the tests need."""
    from storage.calendar import period_day
    from storage.models import (
        Escalation,
        Household,
        LadderAction,
        MentorVisit,
        Referral,
        Region,
    )
    from storage.staff import add_staff

    now = datetime.now(UTC)
    households = list(await session.scalars(sa.select(Household).order_by(Household.id)))
    first, second, third = households[0], households[1], households[2]
    start = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    session.add_all(
        MentorVisit(
            household_id=first.id,
            mentor_id=first.mentor_id,
            at=start + timedelta(hours=12 * i),
            met=True,
            business_state="berjalan",
            note=f"Kunjungan ke-{i + 1}",
        )
        for i in range(VISITS)
    )
    session.add_all(
        [
            LadderAction(
                household_id=first.id,
                step="checkin",
                period="2026-11",
                at=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
                run=1,
            ),
            LadderAction(
                household_id=first.id,
                step="reminder",
                period="2026-11",
                at=datetime(2026, 11, 4, 1, 0, tzinfo=UTC),
                run=2,
            ),
        ]
    )
    today = period_day(now)
    risky = Escalation(
        household_id=second.id,
        region_code=second.region_code,
        reason="mentor_handoff",
        level=1,
        state="open",
        sla_due=today + timedelta(days=1),
        created_at=now - timedelta(days=2),
    )
    referral = Referral(
        household_id=third.id,
        region_code=third.region_code,
        office="disperindagkop",
        asked="Modal mesin jahit",
        state="dikirim",
        created_by="samarinda",
        sent_at=now - timedelta(days=20),
        updated_at=now - timedelta(days=20),
        answer_by=today - timedelta(days=5),
    )
    session.add_all([risky, referral])
    for code, name in NAMES.items():
        if await session.get(Region, code) is None:
            session.add(Region(code=code, name=name, level={2: 1, 4: 2, 6: 3, 10: 4}[len(code)]))
    await session.flush()
    n = 0
    for desa, count in DESA.items():
        if desa.startswith("647201"):
            continue  # the demo's own
        for _ in range(count):
            n += 1
            session.add(
                Household(
                    no_kk=f"64990101{n:08d}",
                    nik_hash=f"drill-{n}",
                    nik_encrypted="x",
                    nik_masked="64**********0000",
                    name=f"Keluarga Drill {n}",
                    region_code=desa,
                    categories="",
                    created_at=now,
                    updated_at=now,
                )
            )
    await add_staff(
        session,
        username="kaltim",
        password=PASSWORD,
        role="supervisor",
        region_code="64",
        now=now,
    )
    await session.flush()
    return {
        "first": first.id,
        "risky": risky.id,
        "referral_household": third.id,
        "referral_name": third.name,
        "risky_name": second.name,
    }


@pytest.fixture(scope="module")
def world(site: Site) -> dict[str, Any]:
    """The extra records of this module, written once into the served database."""
    return dict(site.seed(_world))


def _texts(page: Any, selector: str) -> list[str]:
    """The visible text of every element `selector` matches, in page order."""
    return [str(t) for t in page.locator(selector).all_inner_texts()]


def _first_line(text: str) -> str:
    """A message's first line, as the page shows it within one element."""
    return text.strip().splitlines()[0].strip()


def test_timeline_messages_in_order_presses_as_words_filter_and_pages(
    site: Site, world: dict[str, Any], page: Any
) -> None:
    """Both sides in order, a press shown as its button's words, a kind filter, two pages."""
    phone = Phone(site)
    before = len(site.telegram.sent(CHAT))
    phone.say("halo")
    menu = next(m for m in phone.answers(before) if m.get("reply_markup"))
    buttons = [b for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    pressed = buttons[0]
    # Telegram's button carries its number ("1. Status bantuan"); the words are the choice's.
    words = re.sub(r"^\d+\.\s*", "", pressed["text"])
    after_menu = len(site.telegram.sent(CHAT))
    phone.press(pressed["callback_data"])
    answer = phone.answers(after_menu)[-1]

    page.goto(f"{site.url}/admin/households/{world['first']}#story")
    story = page.locator("ol.story > li")
    expect(story.first).to_be_visible()
    entries = _texts(page, "ol.story > li")
    order = [
        next(i for i, e in enumerate(entries) if "halo" in e),
        next(i for i, e in enumerate(entries) if _first_line(menu["text"]) in e),
        next(i for i, e in enumerate(entries) if f"Menekan: {words}" in e),
        next(i for i, e in enumerate(entries) if _first_line(answer["text"]) in e),
    ]
    assert order == sorted(order) and len(set(order)) == 4, (order, entries)
    # The press reads as the button's words, never as its stored key.
    press = page.locator("ol.story li.in .pressed").last
    expect(press).to_have_text(f"Menekan: {words}")
    assert f"[{pressed['callback_data']}]" not in page.locator("ol.story").inner_text()
    # The family's lines say who wrote them.
    expect(page.locator("ol.story li.in").last).to_contain_text("Keluarga")
    pager = page.locator("ol.story ~ nav.pager")
    expect(pager).to_contain_text("Halaman 1 dari 2")
    site.shot(page, "timeline")

    # Only visits: clicking the filter changes what is shown.
    page.check("form.story-filter input[value=visit]")
    page.click("form.story-filter button")
    page.wait_for_url(re.compile(r"kind=visit"))
    kinds = page.locator("ol.story > li").evaluate_all("els => els.map(e => e.className)")
    assert kinds and all(k == "story-visit" for k in kinds), kinds
    assert len(kinds) == 50
    expect(pager).to_contain_text(f"Halaman 1 dari 2 ({VISITS} semuanya)")
    # Newest first: page one ends with the last visit.
    expect(page.locator("ol.story > li").last).to_contain_text(f"Kunjungan ke-{VISITS}")
    site.shot(page, "timeline-visits")
    page.click("nav.pager >> text=Lebih lama")
    page.wait_for_url(re.compile(r"page=2"))
    expect(pager).to_contain_text("Halaman 2 dari 2")
    older = _texts(page, "ol.story > li")
    assert len(older) == VISITS - 50
    assert "Kunjungan ke-1" in older[0] and all("Kunjungan" in e for e in older)
    assert page.locator("form.story-filter input[value=visit]").is_checked()

    # Only messages: every line is a message, no visit among them.
    page.goto(f"{site.url}/admin/households/{world['first']}?kind=message")
    classes = page.locator("ol.story > li").evaluate_all("els => els.map(e => e.className)")
    assert classes and all(c.startswith("story-message") for c in classes), classes
    site.shot(page, "timeline-messages")


def test_escalation_page_reply_and_the_household_answer_threads_in(
    site: Site, world: dict[str, Any], page: Any
) -> None:
    """Programs, ladder history, the mentor; the officer's reply goes out through the bot and
    shows in the thread; the household's answer appears without reloading the page."""
    from handlers.labels import label
    from locales.i18n import use_locale

    page.clock.install()
    page.goto(f"{site.url}/admin/escalations/{site.escalation}")
    with use_locale("id"):
        pkh, paid = label("program", "PKH"), label("program_status", "disalurkan")
        checkin, reminder = label("ladder_step", "checkin"), label("ladder_step", "reminder")
    programs = page.locator("h2:has-text('Program') + table")
    expect(programs).to_contain_text(pkh)
    expect(programs).to_contain_text(paid)
    history = page.locator("table.ladder-history")
    expect(history).to_contain_text(checkin)
    expect(history).to_contain_text(reminder)
    expect(history).to_contain_text(f"Kunjungan ke-{VISITS}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Rina Marlina")
    expect(facts).to_contain_text("+6281200000001")

    before = len(site.telegram.sent(CHAT))
    page.fill("form.reply textarea[name=text]", "Bu Siti, apakah usaha keripiknya masih jalan?")
    page.click("form.reply button")
    expect(page.locator("p.flash")).to_be_visible()
    sent = _wait_for(
        lambda: [m for m in site.telegram.sent(CHAT)[before:] if "keripiknya" in m["text"]]
    )
    assert sent, "the officer's words went out through the bot"
    thread = page.locator("#thread")
    expect(thread.locator(".msg.out").last).to_contain_text("keripiknya")

    Phone(site).say("Masih jalan pak, tapi sepi pembeli")
    # The page polls its thread every 10 s: move the page's clock past one tick, no reload.
    url = page.url
    assert _wait_for(lambda: _thread_has(site, page, "sepi pembeli"))
    assert page.locator("#thread:has-text('sepi pembeli')").count() == 0
    page.clock.run_for(11_000)
    expect(thread.locator(".msg.in").last).to_contain_text("sepi pembeli", timeout=10_000)
    assert page.url == url
    site.shot(page, "escalation-thread")


def _thread_has(site: Site, page: Any, words: str) -> bool:
    """Whether the server's thread fragment already holds `words` (the inbox took the update)."""
    answer = page.context.request.get(f"{site.url}/admin/escalations/{site.escalation}/thread")
    return answer.ok and words in answer.text()


def test_action_list_breached_at_risk_request_and_referral_lead_to_the_case(
    site: Site, world: dict[str, Any], page: Any
) -> None:
    """Each kind of the action list has its row, and a click opens that case."""
    page.goto(site.url + "/admin#today")
    today = page.locator("section.today")
    breached = today.locator("table[data-today=breached] tbody tr")
    assert breached.count() >= 5
    at_risk = today.locator("table[data-today=at_risk]")
    expect(at_risk).to_contain_text(world["risky_name"])
    requests = today.locator("table[data-today=new_requests]")
    expect(requests).to_contain_text("Siti Aminah")
    referrals = today.locator("table[data-today=referrals]")
    expect(referrals).to_contain_text(world["referral_name"])
    expect(referrals).to_contain_text("Modal mesin jahit")
    site.shot(page, "action-list")

    at_risk.locator(f"a[href='/admin/escalations/{world['risky']}']").click()
    page.wait_for_url(f"**/admin/escalations/{world['risky']}")
    expect(page.locator("h1")).to_contain_text(world["risky_name"])
    page.go_back()
    requests.locator(f"a[href='/admin/requests/{site.request}']").click()
    page.wait_for_url(f"**/admin/requests/{site.request}")
    expect(page.locator("h1")).to_contain_text("PL-2611-0042")
    page.go_back()
    referrals.locator("a", has_text=world["referral_name"]).click()
    page.wait_for_url(f"**/admin/households/{world['referral_household']}")
    expect(page.locator("h1")).to_contain_text(world["referral_name"])
    page.go_back()
    breached.first.locator("a").click()
    page.wait_for_url(re.compile(r"/admin/escalations/\d+$"))
    expect(page.locator("h1")).to_contain_text("Eskalasi")


def _households_under(code: str) -> int:
    """What was seeded under `code`."""
    return sum(n for desa, n in DESA.items() if desa.startswith(code))


def _region_rows(page: Any) -> dict[str, int]:
    """The dashboard's regions table: code → households."""
    found = {}
    for row in page.locator("table.regions tbody tr").all():
        code = row.locator("td").nth(0).locator("code").inner_text()
        found[code] = int(row.locator("td").nth(1).inner_text())
    return found


def test_drill_down_provinsi_kabupaten_kecamatan_desa(
    browser: Any, site: Site, world: dict[str, Any]
) -> None:
    """A provinsi supervisor clicks down to a desa; each level's numbers are what was seeded."""
    tab = sign_in(browser, site, "kaltim")
    try:
        tab.wait_for_url(site.url + "/admin")
        households = tab.locator(".cards .card:has-text('Keluarga') b").first
        expect(households).to_have_text(str(_households_under("64")))
        assert _region_rows(tab) == {"6471": 3, "6472": 12}
        expect(tab.locator("table.regions")).to_contain_text("Kota Balikpapan")
        site.shot(tab, "drill-provinsi")
        steps = [
            ("6472", {"647201": 10, "647202": 2}),
            ("647201", {"6472011001": 5, "6472011002": 5}),
            ("6472011001", {}),
        ]
        for code, below in steps:
            tab.locator(f"table.regions a[href='/admin?region={code}']").click()
            tab.wait_for_url(f"**/admin?region={code}")
            expect(households).to_have_text(str(_households_under(code)))
            expect(tab.locator("nav.trail")).to_contain_text(code)
            if below:
                assert _region_rows(tab) == below
            else:
                assert tab.locator("table.regions").count() == 0
            site.shot(tab, f"drill-{len(code)}")
        expect(tab.locator("nav.trail")).to_contain_text("Rawa Makmur")
    finally:
        tab.context.close()


def test_import_preview_tells_the_truth_and_imports_the_good_rows(
    site: Site, world: dict[str, Any], page: Any, tmp_path: Path
) -> None:
    """Good rows, a row of another kabupaten, a desa code that does not exist and a bad desil:
    the preview counts them, shows each wrong value with its reason, and imports the good ones."""
    head = "no_kk;nik;nama;tanggal_lahir;jenis_kelamin;no_hp;kode_wilayah;desil\n"
    rows = [
        "6472010101000101;6472015506880101;Ratna Sari;1988-06-15;P;081300000101;64.72.01.1001;2",
        "6472010101000102;6472011506880102;Yusuf Hadi;1988-06-15;L;081300000102;64.72.01.1002;3",
        "6471010101000103;6471015506880103;Orang Balikpapan;1988-06-15;P;081300000103;64.71.01.1001;2",
        "6472010101000104;6472015506880104;Desa Hantu;1988-06-15;P;081300000104;64.72.01.9999;2",
        "6472010101000105;6472015506880105;Desil Salah;1988-06-15;P;081300000105;64.72.01.1001;12",
    ]
    roster = tmp_path / "kpm.csv"
    roster.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    page.goto(site.url + "/admin/import")
    page.select_option("select[name=kind]", "households")
    page.set_input_files("input[type=file]", str(roster))
    page.click("form[enctype] button")
    problems = page.locator("table.problems")
    expect(problems).to_have_count(1)
    cards = page.locator(".box .cards")
    expect(cards.locator(".card.ok b")).to_have_text("2")
    expect(cards.locator(".card.bad b")).to_have_text("3")
    expect(page.locator("div.box").first).to_contain_text(
        "2 baris benar dan bisa diimpor; 3 baris ditolak"
    )
    by_line = {
        r.locator("td").nth(0).inner_text(): (
            r.locator("td").nth(1).inner_text(),
            r.locator("td").nth(2).inner_text(),
        )
        for r in problems.locator("tbody tr").all()
    }
    assert set(by_line) == {"4", "5", "6"}, by_line
    outside, ghost, desil = by_line["4"], by_line["5"], by_line["6"]
    assert "luar wilayah" in outside[0] and "64.71.01.1001" in outside[0] + outside[1]
    assert "Kemendagri" in ghost[0] and "64.72.01.9999" in ghost[0] + ghost[1]
    assert "desil" in desil[0] and desil[1] == "12"
    site.shot(page, "import-preview-honest")
    page.click("text=Impor baris yang benar")
    expect(page.locator("p.done")).to_have_text("2 baris disimpan.")
    site.shot(page, "import-done-honest")
    for name, present in [
        ("Ratna Sari", 1),
        ("Yusuf Hadi", 1),
        ("Orang Balikpapan", 0),
        ("Desa Hantu", 0),
        ("Desil Salah", 0),
    ]:
        page.goto(site.url + "/admin/households?q=" + name.replace(" ", "+"))
        assert page.locator(f"tbody a:has-text('{name}')").count() == present, name
