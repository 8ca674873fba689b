"""`sinergi doctor`: a healthy deployment is all OK; each broken part is one FAIL with its fix."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner

from bot.channels.base import ChannelClient
from bot.channels.telegram import TelegramClient
from bot.cli import app
from bot.commands.doctor import Check, Limits, diagnose, exit_status
from bot.config import Settings
from bot.runtime import whatsapp_client
from storage import wilayah
from storage.db import make_engine, unit_of_work
from storage.migrate import upgrade
from tests.fakes.server import serving
from tests.fakes.telegram import FakeBotApi
from tests.fakes.whatsapp import FakeGraphApi

PUBLIC = "https://sinergi.example.go.id"
SECRET = "s" * 40
TG_SECRET = "t" * 40
WABA = "998877665544"
JUNE = date(2026, 6, 15)  # the year's holidays are the signed SKB, next year's not yet due


class MetaWithAccount(FakeGraphApi):
    """The fake Graph API, also answering `GET /{phone_id}` and the WABA's template list."""

    def __init__(self, phone_id: str, token: str) -> None:
        super().__init__()
        self.phone_id, self.token = phone_id, token
        self.templates: list[dict[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Graph answers an object read, checking the token as Meta does."""
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith((f"/{self.phone_id}", "/message_templates")):
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return httpx.Response(401, json=_graph_error(190, "Invalid OAuth access token"))
            if path.endswith("/message_templates"):
                if f"/{WABA}/" not in path:
                    return httpx.Response(400, json=_graph_error(100, "Unsupported get request"))
                return httpx.Response(200, json={"data": self.templates, "paging": {}})
            return httpx.Response(
                200,
                json={"display_phone_number": "+62 811-0000-1111", "id": self.phone_id},
            )
        if request.method == "GET" and "/messages" not in path:
            return httpx.Response(400, json=_graph_error(100, "Unsupported get request"))
        return super().handler(request)

    def approve_all(self, cfg: Settings) -> None:
        """Every template Sinergi sends is approved at Meta."""
        self.templates = [
            {"name": t.name, "language": t.language, "status": "APPROVED", "id": str(i)}
            for i, t in enumerate(cfg.whatsapp_templates.values())
        ]


def _graph_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


def healthy(tmp_path: Path, **changes: Any) -> Settings:
    """Settings of a deployment with everything right."""
    values: dict[str, Any] = dict(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/sinergi.db",
        data_dir=tmp_path,
        secret_key=SECRET,
        data_key=Fernet.generate_key().decode(),
        public_url=PUBLIC,
        cookie_secure=True,
        telegram_token="123456:TEST",
        telegram_secret=TG_SECRET,
        telegram_api_url="https://telegram.test",
        whatsapp_token="TEST-WA-TOKEN",
        whatsapp_phone_id="1122334455667",
        whatsapp_app_secret="a" * 32,
        whatsapp_verify_token="v" * 32,
        whatsapp_api_url="https://graph.test/v23.0",
        whatsapp_waba_id=WABA,
    )
    values.update(changes)
    return Settings(**values)


async def migrate(cfg: Settings, *, regions: bool = True) -> None:
    """The schema, and (unless told) a few desa of the official list, as `sinergi regions load` does."""
    engine = make_engine(cfg.database_url)
    await upgrade(engine)
    if regions:
        # A scratch file, never beside the database: on PostgreSQL that was the working tree.
        with tempfile.TemporaryDirectory() as scratch:
            listing = Path(scratch) / "regions.csv"
            listing.write_text("kode,nama\n64.72.01,Palaran\n64.72.01.1001,Rawa Makmur\n")
            async with unit_of_work(async_sessionmaker(engine)) as session:
                await wilayah.load(session, listing)
    await engine.dispose()


def registered(bot: FakeBotApi, **info: Any) -> None:
    """Telegram holds our webhook (with whatever else is said)."""
    bot.results["getWebhookInfo"] = {
        "url": PUBLIC + "/webhook/telegram",
        "has_custom_certificate": False,
        "pending_update_count": 0,
        **info,
    }


async def doctor(cfg: Settings, bot: FakeBotApi, meta: FakeGraphApi, **kwargs: Any) -> list[Check]:
    """Run every check against the fakes."""
    telegram = TelegramClient(
        cfg.telegram_token or "", cfg.telegram_api_url, bot.request(), bot.request()
    )
    clients: dict[str, ChannelClient] = {
        "telegram": telegram,
        "whatsapp": whatsapp_client(cfg, meta.transport()),
    }
    try:
        return await diagnose(
            cfg,
            clients=clients,
            today=kwargs.pop("today", JUNE),
            env={"SINERGI_SECRET_KEY": cfg.secret_key},
            limits=kwargs.pop("limits", Limits(warn_free=1, fail_free=1)),
        )
    finally:
        for client in clients.values():
            await client.close()


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


@pytest.fixture
async def world(tmp_path: Path) -> tuple[Settings, FakeBotApi, MetaWithAccount]:
    """A migrated database, Telegram with our webhook, Meta with every template approved."""
    cfg = healthy(tmp_path)
    await migrate(cfg)
    bot, meta = FakeBotApi(), MetaWithAccount(cfg.whatsapp_phone_id or "", "TEST-WA-TOKEN")
    registered(bot)
    meta.approve_all(cfg)
    return cfg, bot, meta


async def test_a_healthy_deployment_is_all_ok_and_exits_0(world: Any) -> None:
    cfg, bot, meta = world
    checks = await doctor(cfg, bot, meta)
    assert [c.line() for c in checks if c.status != "OK"] == []
    assert exit_status(checks) == 0
    names = set(by_name(checks))
    assert {
        "database",
        "migrations",
        "secret key",
        "data key",
        "telegram secret",
        "telegram token",
        "telegram webhook",
        "whatsapp number",
        "whatsapp templates",
        "holidays",
        "media disk",
    } <= names
    assert "@sinergi_bot" in by_name(checks)["telegram token"].message
    assert [m for m, _ in bot.calls] == ["getMe", "getWebhookInfo"]


async def test_a_wrong_telegram_token_fails_with_botfather_as_the_fix(world: Any) -> None:
    cfg, bot, meta = world
    bot.fail_next(401, "Unauthorized")
    checks = await doctor(cfg, bot, meta)
    token = by_name(checks)["telegram token"]
    assert token.status == "FAIL"
    assert "refused the token" in token.message and "@BotFather" in token.fix
    assert exit_status(checks) == 1


async def test_an_unregistered_webhook_fails(world: Any) -> None:
    cfg, bot, meta = world
    registered(bot, url="")
    check = by_name(await doctor(cfg, bot, meta))["telegram webhook"]
    assert check.status == "FAIL"
    assert check.message == f"Telegram posts nowhere, not at {PUBLIC}/webhook/telegram."
    assert "restart `sinergi serve`" in check.fix


async def test_a_webhook_elsewhere_fails_naming_both_addresses(world: Any) -> None:
    cfg, bot, meta = world
    registered(bot, url="https://old.example.org/webhook/telegram")
    check = by_name(await doctor(cfg, bot, meta))["telegram webhook"]
    assert check.status == "FAIL"
    assert "https://old.example.org/webhook/telegram" in check.message
    assert f"{PUBLIC}/webhook/telegram" in check.message


async def test_a_webhook_whose_last_delivery_failed_says_telegrams_error(world: Any) -> None:
    cfg, bot, meta = world
    registered(
        bot,
        last_error_date=1764600000,
        last_error_message="Wrong response from the webhook: 401 Unauthorized",
    )
    checks = await doctor(cfg, bot, meta)
    check = by_name(checks)["telegram webhook"]
    assert check.status == "FAIL"
    assert "Wrong response from the webhook: 401 Unauthorized" in check.message
    assert "SINERGI_TELEGRAM_SECRET" in check.fix  # a 401 is our secret refusing Telegram
    assert exit_status(checks) == 1


async def test_without_the_region_list_the_doctor_warns_with_the_load_command(
    tmp_path: Path,
) -> None:
    cfg = healthy(tmp_path)
    await migrate(cfg, regions=False)
    bot, meta = FakeBotApi(), MetaWithAccount(cfg.whatsapp_phone_id or "", "TEST-WA-TOKEN")
    registered(bot)
    meta.approve_all(cfg)
    check = by_name(await doctor(cfg, bot, meta))["regions"]
    assert check.status == "WARN" and check.fix == "run `sinergi regions load`."
    assert "pages show codes instead of names" in check.message


async def test_an_unmigrated_database_fails_with_migrate_as_the_fix(tmp_path: Path) -> None:
    cfg = healthy(tmp_path)
    (tmp_path / "sinergi.db").touch()  # an empty database: no tables, no revision
    bot, meta = FakeBotApi(), MetaWithAccount(cfg.whatsapp_phone_id or "", "TEST-WA-TOKEN")
    registered(bot)
    meta.approve_all(cfg)
    checks = by_name(await doctor(cfg, bot, meta))
    assert checks["database"].status == "OK"
    assert checks["migrations"].status == "FAIL"
    assert "never migrated" in checks["migrations"].message
    assert checks["migrations"].fix == "run `sinergi migrate`."


async def test_an_unreachable_database_fails(world: Any, tmp_path: Path) -> None:
    cfg, bot, meta = world
    cfg = cfg.model_copy(update={"database_url": "postgresql+psycopg://nobody:x@127.0.0.1:1/none"})
    check = by_name(await doctor(cfg, bot, meta))["database"]
    assert check.status == "FAIL"
    assert "cannot connect" in check.message and "SINERGI_DATABASE_URL" in check.fix


async def test_a_short_telegram_secret_fails(world: Any) -> None:
    cfg, bot, meta = world
    cfg = cfg.model_copy(update={"telegram_secret": "telegram-webhook-secret"})
    check = by_name(await doctor(cfg, bot, meta))["telegram secret"]
    assert check.status == "FAIL"
    assert "too short (23 characters)" in check.message


async def test_a_secret_with_characters_telegram_refuses_fails(world: Any) -> None:
    cfg, bot, meta = world
    cfg = cfg.model_copy(update={"telegram_secret": "x" * 40 + "!"})
    check = by_name(await doctor(cfg, bot, meta))["telegram secret"]
    assert check.status == "FAIL" and "characters Telegram refuses" in check.message


async def test_a_data_key_that_is_no_fernet_key_fails(world: Any) -> None:
    cfg, bot, meta = world
    cfg = cfg.model_copy(update={"data_key": "not-a-key"})
    check = by_name(await doctor(cfg, bot, meta))["data key"]
    assert check.status == "FAIL" and "not a Fernet key" in check.message


async def test_a_wrong_whatsapp_token_fails_and_templates_are_not_read(world: Any) -> None:
    cfg, bot, meta = world
    meta.token = "ANOTHER-TOKEN"
    checks = by_name(await doctor(cfg, bot, meta))
    assert checks["whatsapp number"].status == "FAIL"
    assert "190: Invalid OAuth access token" in checks["whatsapp number"].message
    assert "whatsapp templates" not in checks


async def test_a_paused_or_missing_template_fails_naming_it(world: Any) -> None:
    cfg, bot, meta = world
    meta.templates[0]["status"] = "PAUSED"
    meta.templates.pop()
    check = by_name(await doctor(cfg, bot, meta))["whatsapp templates"]
    assert check.status == "FAIL"
    first, last = (
        list(cfg.whatsapp_templates.values())[0],
        list(cfg.whatsapp_templates.values())[-1],
    )
    assert f"{first.name} (id) is paused" in check.message
    assert f"{last.name} (id) is missing" in check.message


async def test_without_a_waba_id_templates_cannot_be_checked(world: Any) -> None:
    cfg, bot, meta = world
    cfg = cfg.model_copy(update={"whatsapp_waba_id": None})
    check = by_name(await doctor(cfg, bot, meta))["whatsapp templates"]
    assert check.status == "WARN" and check.message.startswith("cannot check")


async def test_holidays_late_in_the_year_warn_when_next_year_is_an_estimate(world: Any) -> None:
    cfg, bot, meta = world
    checks = await doctor(cfg, bot, meta, today=date(2026, 11, 23))
    holidays = [c for c in checks if c.name == "holidays"]
    assert [c.status for c in holidays] == ["WARN"] and "2027" in holidays[0].message


async def test_a_full_disk_fails(world: Any) -> None:
    cfg, bot, meta = world
    checks = await doctor(cfg, bot, meta, limits=Limits(warn_free=2**62, fail_free=2**61))
    check = by_name(checks)["media disk"]
    assert check.status == "FAIL" and "GB free at" in check.message


# The command, over real HTTP ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """The command sets up logging on the runner's stream; later tests get theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


def _env(cfg: Settings, telegram_url: str, graph_url: str) -> dict[str, str]:
    """The environment an operator would set for this deployment."""
    return {
        "SINERGI_DATABASE_URL": cfg.database_url,
        "SINERGI_DATA_DIR": str(cfg.data_dir),
        "SINERGI_SECRET_KEY": cfg.secret_key,
        "SINERGI_DATA_KEY": cfg.data_key,
        "SINERGI_PUBLIC_URL": PUBLIC,
        "SINERGI_COOKIE_SECURE": "true",
        "SINERGI_TELEGRAM_TOKEN": cfg.telegram_token or "",
        "SINERGI_TELEGRAM_SECRET": TG_SECRET,
        "SINERGI_TELEGRAM_API_URL": telegram_url,
        "SINERGI_WHATSAPP_TOKEN": "TEST-WA-TOKEN",
        "SINERGI_WHATSAPP_PHONE_ID": cfg.whatsapp_phone_id or "",
        "SINERGI_WHATSAPP_APP_SECRET": "a" * 32,
        "SINERGI_WHATSAPP_VERIFY_TOKEN": "v" * 32,
        "SINERGI_WHATSAPP_API_URL": graph_url + "/v23.0",
        "SINERGI_WHATSAPP_WABA_ID": WABA,
    }


def test_the_command_prints_one_line_per_check_and_exits_0_when_nothing_fails(
    world: Any,
) -> None:
    cfg, bot, meta = world
    with serving(bot.handler) as telegram_url, serving(meta.handler) as graph_url:
        result = CliRunner().invoke(app, ["doctor"], env=_env(cfg, telegram_url, graph_url))
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines and all(line.split()[0] in ("OK", "WARN") for line in lines)
    assert any(line.startswith("OK    telegram webhook") for line in lines)
    assert any(line.startswith("OK    whatsapp templates") for line in lines)


def test_the_command_exits_1_on_a_short_secret_key_and_says_so(world: Any) -> None:
    cfg, bot, meta = world
    with serving(bot.handler) as telegram_url, serving(meta.handler) as graph_url:
        env = _env(cfg, telegram_url, graph_url) | {"SINERGI_SECRET_KEY": "short"}
        result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1, result.output
    assert "FAIL  secret key         SINERGI_SECRET_KEY is too short (5 characters)." in (
        result.output
    )
    assert "OK    telegram token" in result.output  # the other checks still ran


async def test_a_public_url_without_https_fails(world: Any) -> None:
    cfg, bot, meta = world
    cfg = cfg.model_copy(update={"public_url": "http://sinergi.example.go.id"})
    check = by_name(await doctor(cfg, bot, meta))["telegram webhook"]
    assert check.status == "FAIL" and "is not https" in check.message


def test_settings_sinergi_refuses_are_one_fail_line_not_a_crash(world: Any) -> None:
    cfg, bot, meta = world
    with serving(bot.handler) as telegram_url, serving(meta.handler) as graph_url:
        env = _env(cfg, telegram_url, graph_url) | {"SINERGI_TELEGRAM_SECRET": ""}
        result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("FAIL  settings")
    assert "SINERGI_TELEGRAM_SECRET is required" in result.output


async def test_a_missing_sqlite_file_fails_and_is_not_created(tmp_path: Path) -> None:
    cfg = healthy(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/nowhere/sinergi.db")
    bot, meta = FakeBotApi(), MetaWithAccount(cfg.whatsapp_phone_id or "", "TEST-WA-TOKEN")
    registered(bot)
    check = by_name(await doctor(cfg, bot, meta))["database"]
    assert check.status == "FAIL" and "no database file" in check.message
    assert not (tmp_path / "nowhere" / "sinergi.db").exists()


async def test_an_api_url_that_answers_unlike_telegram_fails_the_webhook_check(
    world: Any,
) -> None:
    cfg, bot, meta = world
    bot.results["getWebhookInfo"] = True  # some other service at SINERGI_TELEGRAM_API_URL
    check = by_name(await doctor(cfg, bot, meta))["telegram webhook"]
    assert check.status == "FAIL" and "unreadable answer" in check.message
