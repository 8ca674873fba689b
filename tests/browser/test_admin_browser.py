"""The admin view in a real browser: sign in, work an escalation, approve a request, import a roster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHAT, PARTNER_CHAT, Site, sign_in

pytestmark = pytest.mark.browser


def _wait_for(check: Any, tries: int = 100) -> Any:
    """Poll until `check()` is truthy (the background sender delivers on its own schedule)."""
    for _ in range(tries):
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


def test_login_page_and_dashboard(browser: Any, site: Site, page: Any) -> None:
    """The dashboard shows cards and server-drawn charts; the login page looks right too."""
    assert page.locator("h1").inner_text() == "Dasbor"
    assert page.locator("figure.chart svg").count() == 3
    site.shot(page, "dashboard")
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    anon = context.new_page()
    anon.goto(site.url + "/admin/households")
    assert "/admin/login" in anon.url
    site.shot(anon, "login")
    context.close()


def test_work_an_escalation_to_resolved(site: Site, page: Any) -> None:
    """From the queue: open the most urgent, take it, write a note, resolve it with an outcome."""
    page.click("text=Eskalasi")
    page.wait_for_url("**/admin/escalations")
    assert page.locator("tbody tr").count() >= 6
    site.shot(page, "escalation-queue")
    page.click(f"a[href='/admin/escalations/{site.escalation}']")
    page.select_option("form[action$='/assign'] select[name=assignee]", "me")
    page.click("form[action$='/assign'] button")
    expect(page.locator("p.flash")).to_contain_text("Sudah ditugaskan")
    page.fill("form[action$='/note'] textarea", "Sudah ditelepon, usaha tutup sementara")
    page.click("form[action$='/note'] button")
    page.fill("form[action$='/resolve'] textarea", "Dikunjungi pendamping, usaha buka lagi")
    page.click("form[action$='/resolve'] button")
    expect(page.locator("p.flash")).to_contain_text("Sudah diselesaikan")
    expect(page.locator("body")).to_contain_text("Dikunjungi pendamping, usaha buka lagi")
    site.shot(page, "escalation-resolved")
    page.goto(site.url + "/admin/escalations")
    assert page.locator(f"a[href='/admin/escalations/{site.escalation}']").count() == 0


def test_approve_a_request_and_the_household_hears(site: Site, page: Any) -> None:
    """Approving in the browser sends the household a Telegram message (seen by the fake Bot API)."""
    before = len(site.telegram.sent(CHAT))
    page.goto(site.url + "/admin/requests")
    page.click("text=PL-2611-0042")
    site.shot(page, "request")
    approve = page.locator("form:has(input[value=approve])")
    approve.locator("textarea").fill("Pelatihan kemasan tanggal 3 Desember")
    approve.locator("button").click()
    expect(page.locator("p.flash")).to_contain_text("Keluarga sudah diberi tahu")
    sent = _wait_for(lambda: site.telegram.sent(CHAT)[before:])
    assert sent and "PL-2611-0042" in sent[-1]["text"] and "3 Desember" in sent[-1]["text"]


def test_upload_a_roster_with_a_broken_row(site: Site, page: Any, tmp_path: Path) -> None:
    """The preview lists the broken row by its line; confirming imports the good one."""
    roster = tmp_path / "kpm.csv"
    roster.write_text(
        "no_kk;nik;nama;tanggal_lahir;jenis_kelamin;no_hp;kode_wilayah;desa;kecamatan;kabupaten;provinsi;desil\n"
        "6472010101000077;6472015506880077;Rukmini;1988-06-15;P;081300000077;64.72.01.1001;Rawa Makmur;Palaran;Kota Samarinda;Kalimantan Timur;2\n"
        "64720101;6472015506880078;Baris Rusak;15-06-1988;X;081300000078;64.72.01.1001;Rawa Makmur;Palaran;Kota Samarinda;Kalimantan Timur;2\n",
        encoding="utf-8",
    )
    page.click("text=Impor")
    page.select_option("select[name=kind]", "households")
    page.set_input_files("input[type=file]", str(roster))
    page.click("form[enctype] button")
    problems = page.locator("table.problems")
    # `expect` waits for the preview page; a bare count() can read the form page still loading.
    expect(problems).to_have_count(1)
    expect(problems.locator("tbody tr").first).to_contain_text("3")
    site.shot(page, "import-preview")
    page.click("text=Impor baris yang benar")
    expect(page.locator("body")).to_contain_text("Impor selesai")
    page.goto(site.url + "/admin/households?q=Rukmini")
    assert page.locator("text=Rukmini").count() >= 1
    page.click("text=Rukmini")
    site.shot(page, "household-new")


def test_household_page_and_simulator(site: Site, page: Any) -> None:
    """The household page (masked NIK, omzet chart, conversation) and a chat in the simulator."""
    page.goto(f"{site.url}/admin/households/{site.household}")
    assert "********" in page.content()
    assert page.locator("figure.chart svg rect").count() >= 5
    site.shot(page, "household")
    page.click("text=Simulator chat")
    page.fill("input[name=phone]", "081300000002")
    page.click("form[method=get] button")
    page.fill("input[name=text]", "halo")
    page.click("form.filters:has(input[name=text]) button")
    expect(page.locator(".msg.out").first).to_be_visible()
    site.shot(page, "simulator")


def test_a_referral_lives_across_two_sign_ins(browser: Any, site: Site, page: Any) -> None:
    """Dinsos refers the household to Disperindagkop; its partner, signed in on its own seat,
    accepts with a plan; the office's chat heard of it, the household hears each step."""
    before = len(site.telegram.sent(CHAT))
    page.goto(f"{site.url}/admin/referrals/new?household={site.household}")
    page.fill("input[name=asked]", "Modal usaha keripik")
    page.fill("textarea[name=why]", "Usaha berjalan 6 bulan, perlu mesin pengemas")
    page.click("form[action='/admin/referrals'] button")
    site.shot(page, "referral-sent")
    told = _wait_for(
        lambda: [m for m in site.telegram.sent(CHAT)[before:] if "Disperindagkop" in m["text"]]
    )
    assert told, "the household hears where its referral went"
    assert _wait_for(lambda: site.telegram.sent(PARTNER_CHAT)), "the office's chat hears of it"

    partner = sign_in(browser, site, "mitra-smd")
    partner.wait_for_url("**/admin/partner")
    expect(partner.locator("body")).to_contain_text("Modal usaha keripik")
    site.shot(partner, "partner-queue")
    partner.locator("tbody a").first.click()
    partner.fill(
        "form[action$='/accept'] textarea[name=plan]", "Survei ke rumah tanggal 5 Desember"
    )
    partner.click("form[action$='/accept'] button")
    expect(partner.locator("p.flash")).to_be_visible()
    site.shot(partner, "partner-accepted")
    accepted = _wait_for(
        lambda: [m for m in site.telegram.sent(CHAT)[before:] if "5 Desember" in m["text"]]
    )
    assert accepted, "the household hears the office accepted, with its plan"
    # The partner's seat is its referrals only: a household page is not for it.
    refused = partner.goto(f"{site.url}/admin/households/{site.household}")
    assert refused is not None and refused.status == 403
    partner.context.close()
