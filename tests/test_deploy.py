"""The documented process model on PostgreSQL: two `serve --no-scheduler` and one `sinergi scheduler`.

Real processes, as systemd starts them from deploy/: the same Telegram updates posted to both web
processes, the clock's tick writing check-ins, and every reply and check-in reaching the fake Bot
API (served over HTTP on 127.0.0.1) exactly once.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from cryptography.fernet import Fernet

from bot.cli import app
from bot.metrics import Metrics
from storage.crypto import NikVault
from storage.db import make_engine, make_sessions, unit_of_work
from storage.models import Escalation
from tests import ladder_factories as lf
from tests.conftest import PG_URL
from tests.fakes.server import serving
from tests.fakes.telegram import FakeBotApi
from tests.harness import Harness
from tests.processes import (
    ROOT,
    SECRET,
    TG_HEADERS,
    Processes,
    free_port,
    sinergi_env,
    telegram_text,
    wait_for,
    wait_healthy,
)

on_postgres = pytest.mark.skipif(not PG_URL, reason="needs SINERGI_TEST_POSTGRES_URL")

PEOPLE = 12  # new chats writing /start, each update posted to both web processes
FAMILIES = 8  # households whose monthly check-in is due now
FIRST_USER = 7_000_000
FIRST_FAMILY = 8_000_000
DEADLINE = 60.0


async def seed_due_families(url: str, data_key: str, now: datetime) -> None:
    """Households enrolled a month ago, on Telegram, silent since: a check-in is due now."""
    engine = make_engine(url)
    vault = NikVault(SECRET, data_key)
    async with unit_of_work(make_sessions(engine)) as session:
        mentor = await lf.mentor_on_chat(session, user_id=FIRST_FAMILY - 1)
        for i in range(FAMILIES):
            await lf.enrolled(
                session,
                vault,
                n=i + 1,
                name=f"Keluarga {i}",
                mentor_id=mentor.id,
                user_id=FIRST_FAMILY + i,
                as_of=(now - timedelta(days=31)).date(),
                at=now - timedelta(days=40),
            )
    await engine.dispose()


@pytest.mark.postgres
@on_postgres
async def test_two_web_processes_and_one_clock_answer_and_check_in_exactly_once(
    blank_postgres: str, tmp_path: Path
) -> None:
    bot = FakeBotApi()
    data_key = Fernet.generate_key().decode()
    now = datetime.now(UTC)
    with serving(bot.handler) as telegram_url:
        env = sinergi_env(blank_postgres, tmp_path, telegram_url, data_key)
        # Whenever the suite runs, the check-ins are inside delivery hours.
        env |= {"SINERGI_DELIVERY_START": "00:00", "SINERGI_DELIVERY_END": "23:59"}
        procs = Processes(env, tmp_path)
        procs.run("migrate")
        await seed_due_families(blank_postgres, data_key, now)
        ports = [free_port(), free_port()]
        deadline = time.monotonic() + DEADLINE
        try:
            for i, port in enumerate(ports):
                procs.start(f"web{i}", "serve", "--no-scheduler", "--port", str(port))
            await wait_healthy(ports, deadline, procs)
            await _post_to_both(ports, now)
            procs.start("clock", "scheduler")
            expected = {FIRST_USER + i for i in range(PEOPLE)} | {
                FIRST_FAMILY + i for i in range(FAMILIES)
            }
            await wait_for(
                lambda: {int(p["chat_id"]) for p in bot.sent()} >= expected,
                deadline,
                "every reply and check-in",
                procs,
            )
            await asyncio.sleep(3)  # long enough for a second claim of any row to have gone out
        finally:
            procs.stop()
    per_chat = Counter(int(p["chat_id"]) for p in bot.sent())
    assert {chat: n for chat, n in per_chat.items() if n != 1} == {}, procs.output()
    assert set(per_chat) == expected
    welcomes = [p for p in bot.sent() if int(p["chat_id"]) < FIRST_FAMILY]
    assert all("Selamat datang" in p["text"] for p in welcomes)
    checkins = [p for p in bot.sent() if int(p["chat_id"]) >= FIRST_FAMILY]
    assert all("Keluarga" in p["text"] for p in checkins), checkins[0]["text"]


async def _post_to_both(ports: list[int], now: datetime) -> None:
    """Telegram redelivers: every update reaches both web processes, both answer 200."""
    async with httpx.AsyncClient(timeout=10) as client:
        for i in range(PEOPLE):
            body = telegram_text(FIRST_USER + i, 900_000 + i, now)
            for port in ports:
                response = await client.post(
                    f"http://127.0.0.1:{port}/webhook/telegram", content=body, headers=TG_HEADERS
                )
                assert response.status_code == 200


async def test_metrics_count_open_escalations_past_their_sla_day(harness: Harness) -> None:
    """What the SlaBreached alert in deploy/prometheus/sinergi-alerts.yml reads."""
    today = datetime.now(UTC).date()  # /metrics reads the clock: it is an entry point
    async with await harness.session() as s:
        for n, (due, state) in enumerate(
            [
                (today - timedelta(days=2), "open"),
                (today - timedelta(days=1), "assigned"),
                (today + timedelta(days=3), "open"),
                (today - timedelta(days=9), "resolved"),
            ],
            start=1,
        ):
            hh = await lf.enrolled(
                s, harness.rt.vault, n=n, name=f"Keluarga {n}", mentor_id=None, user_id=None
            )
            s.add(
                Escalation(
                    household_id=hh.id,
                    region_code=hh.region_code,
                    reason="silent",
                    state=state,
                    sla_due=due,
                    created_at=harness.now,
                )
            )
    text = (await harness.client.get("/metrics")).text
    assert "sinergi_escalations_breached 2.0" in text


# The example files under deploy/ --------------------------------------------------------------

DEPLOY = ROOT / "deploy"


def test_every_metric_an_alert_reads_is_one_sinergi_exposes() -> None:
    """An alert on a metric name that does not exist would never fire."""
    exposed = set()
    for metric in Metrics().registry.collect():
        exposed |= (
            {metric.name, f"{metric.name}_total"} if metric.type == "counter" else {metric.name}
        )
    rules = (DEPLOY / "prometheus" / "sinergi-alerts.yml").read_text()
    named = set(re.findall(r"\b(sinergi_[a-z_]+)", rules))
    assert named, "no sinergi metric in the alert rules"
    assert named - exposed == set()
    for needed in (
        "sinergi_messages_dead_total",
        "sinergi_inbox_pending",
        "sinergi_escalations_breached",
        "sinergi_channel_pauses_total",
    ):
        assert needed in named


@pytest.mark.parametrize(
    "unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name
)
def test_each_systemd_unit_starts_a_sinergi_command_that_exists(unit: Path) -> None:
    """ExecStart's subcommand and options parse as `sinergi` would parse them."""
    line = next(ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart="))
    args = line.split("/bin/sinergi ", 1)[1].replace("%i", "8001").split()
    group: Any = typer.main.get_command(app)  # a group of (typer's own) click commands
    command = group.get_command(group.make_context("sinergi", [args[0]]), args[0])
    assert command is not None, f"{unit.name}: no `sinergi {args[0]}`"
    command.make_context(args[0], args[1:])  # raises on an unknown option


def test_the_proxies_forward_to_the_web_units_ports_and_hide_metrics() -> None:
    """Caddy and nginx send to the ports the units listen on, with TLS, and keep /metrics in."""
    caddy = (DEPLOY / "proxy" / "Caddyfile").read_text()
    nginx = (DEPLOY / "proxy" / "nginx.conf").read_text()
    for port in ("127.0.0.1:8001", "127.0.0.1:8002"):
        assert port in caddy and port in nginx
    assert "listen 443 ssl" in nginx and "proxy_set_header X-Forwarded-For $remote_addr" in nginx
    assert "respond @metrics 404" in caddy and "location = /metrics" in nginx
    assert "SINERGI_TRUSTED_PROXIES=127.0.0.1" in (DEPLOY / "sinergi.env.example").read_text()
