"""A real Sinergi on 127.0.0.1 (uvicorn in a thread, temp SQLite, fake Telegram) and Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "kata-sandi-yang-panjang"
CHAT = 568577002
PARTNER_CHAT, PARTNER_PHONE = 730201, "+6281255550001"


@dataclass
class Site:
    """The running server, its fake Telegram, and the ids of the seeded records."""

    url: str
    telegram: Any
    escalation: int
    request: int
    household: int
    settings: Any = None

    def seed(self, fill: Any) -> Any:
        """Run `fill(session, rt)` in one unit of work on the served database; its answer."""
        from bot.runtime import build_runtime
        from storage.db import unit_of_work

        async def run() -> Any:
            rt = build_runtime(self.settings, clients={})
            try:
                async with unit_of_work(rt.sessions) as session:
                    return await fill(session, rt)
            finally:
                await rt.close()

        return asyncio.run(run())

    def shot(self, page: Any, name: str) -> None:
        """Save a full-page screenshot for the CI log."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed(rt: Any) -> tuple[int, int, int]:
    """One kelurahan of Samarinda with a linked household, an escalation and a request, and an officer."""
    from bot.messages import Reply
    from storage import demo, outbox
    from storage.db import unit_of_work
    from storage.models import ChatIdentity, Escalation, Household, ProgressReport, ServiceRequest
    from storage.staff import add_staff

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    async with unit_of_work(rt.sessions) as session:
        await demo.seed(session, rt.vault, now)
        households = list(await session.scalars(sa.select(Household).order_by(Household.id)))
        first = households[0]
        chat = ChatIdentity(
            channel="telegram",
            external_id=str(CHAT),
            household_id=first.id,
            locale="id",
            consent_at=now,
            opted_out=False,
            created_at=now,
            last_inbound_at=now,
        )
        session.add(chat)
        await session.flush()
        outbox.enqueue(session, chat, Reply("Selamat datang di Sinergi").to_payload(), now=now)
        escs = [
            Escalation(
                household_id=h.id,
                region_code=h.region_code,
                reason="silent",
                level=1,
                state="open",
                sla_due=date(2026, 11, 20 + i),
                created_at=now,
            )
            for i, h in enumerate(households[:6])
        ]
        req = ServiceRequest(
            reference="PL-2611-0042",
            household_id=first.id,
            kind="pelatihan",
            topic="pengemasan",
            details="Ingin belajar kemasan keripik",
            state="diajukan",
            region_code=first.region_code,
            created_at=now,
            updated_at=now,
        )
        session.add_all([*escs, req])
        for month, omzet in [
            ("2026-07", 900_000),
            ("2026-08", 1_100_000),
            ("2026-09", 1_250_000),
            ("2026-10", 1_400_000),
            ("2026-11", 1_500_000),
        ]:
            session.add(
                ProgressReport(
                    household_id=first.id,
                    period=month,
                    business_state="berjalan",
                    omzet=omzet,
                    status="complete",
                    started_at=now,
                    submitted_at=now,
                )
            )
        await add_staff(
            session,
            username="samarinda",
            password=PASSWORD,
            role="supervisor",
            region_code="6472",
            now=now,
        )
        # An office of the chain with its own seat, and a chat on its number that hears of referrals.
        from storage import partners
        from storage.models import Organisation

        session.add(
            Organisation(
                code="DPK-SMD",
                name="Disperindagkop Kota Samarinda",
                kind="disperindagkop",
                region_code="6472",
                phone=PARTNER_PHONE,
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            ChatIdentity(
                channel="telegram",
                external_id=str(PARTNER_CHAT),
                phone=PARTNER_PHONE,
                locale="id",
                consent_at=now,
                created_at=now,
            )
        )
        await session.flush()
        await partners.add_partner(
            session, username="mitra-smd", password=PASSWORD, organisation_code="DPK-SMD", now=now
        )
        await session.flush()
        return escs[0].id, req.id, first.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Sinergi served by uvicorn on a free port, with background workers delivering to a fake Telegram."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed (/usr/bin/chromium): apt-get install chromium"
        )
    import uvicorn

    from bot.app import create_app
    from bot.channels.local import LocalClient
    from bot.channels.telegram import TelegramClient
    from bot.config import Settings
    from bot.runtime import build_runtime
    from storage.models import Base
    from tests.fakes.telegram import FakeBotApi

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite+aiosqlite:///{folder}/sinergi.db"
    engine = sa.create_engine(url.replace("+aiosqlite", ""))
    Base.metadata.create_all(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        data_dir=folder,
        secret_key="browser-secret",
        telegram_token="1:T",
        telegram_secret="s",
        telegram_api_url="https://telegram.test",
        # The server runs on the wall clock: news held for delivery hours would make a test
        # that runs at night wait until morning, so every hour is a delivery hour here.
        delivery_start=clock_time.min,
        delivery_end=clock_time.max,
    )
    fake = FakeBotApi()

    def clients() -> dict[str, Any]:
        return {
            "telegram": TelegramClient("1:T", settings.telegram_api_url, fake.request()),
            "simulator": LocalClient("simulator"),
        }

    seeder = build_runtime(settings, clients=clients())

    async def seed() -> tuple[int, int, int]:
        try:
            return await _seed(seeder)
        finally:
            await seeder.close()

    escalation, request, household = asyncio.run(seed())
    port = _free_port()
    app = create_app(build_runtime(settings, clients=clients()), background=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", fake, escalation, request, household, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    """Headless Chromium from Debian, never a downloaded one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(browser: Any, site: Site, username: str) -> Any:
    """A tab in a browser context of its own, signed in as `username` (close its context)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    tab = context.new_page()
    tab.goto(site.url + "/admin/login")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    return tab


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser context, signed in as the Samarinda supervisor."""
    tab = sign_in(browser, site, "samarinda")
    tab.wait_for_url(site.url + "/admin")
    try:
        yield tab
    finally:
        tab.context.close()
