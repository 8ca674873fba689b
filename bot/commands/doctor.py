"""`sinergi doctor`: checks a deployment and says, one line per check, what is wrong and the fix."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.channels.base import ChannelClient, CheckFailed
from bot.channels.telegram import TelegramClient
from bot.channels.whatsapp import WhatsAppClient
from bot.commands.common import run, setup_logging
from bot.config import MIN_SECRET_LENGTH, Settings, SettingsError, load_settings
from bot.runtime import default_clients
from storage import calendar
from storage.crypto import NikVault
from storage.db import make_engine
from storage.migrate import alembic_config

Status = Literal["OK", "WARN", "FAIL"]
WEBHOOK_PATH = "/webhook/telegram"
# Telegram accepts 1-256 of these characters as a webhook's secret_token.
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
GIB = 1024**3
# Updates Telegram holds for us beyond which the webhook is not keeping up.
PENDING_WARN = 100


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it stands, and what to do about it."""

    name: str
    status: Status
    message: str
    fix: str = ""

    def line(self) -> str:
        """`FAIL  telegram token  Telegram refused the token. Fix: …`"""
        fix = f" Fix: {self.fix}" if self.fix and self.status != "OK" else ""
        return f"{self.status:<5} {self.name:<18} {self.message}{fix}"


def ok(name: str, message: str) -> Check:
    return Check(name, "OK", message)


def warn(name: str, message: str, fix: str) -> Check:
    return Check(name, "WARN", message, fix)


def fail(name: str, message: str, fix: str) -> Check:
    return Check(name, "FAIL", message, fix)


@dataclass(frozen=True)
class Limits:
    """Free disk space under which the media folder is a warning, then a failure."""

    warn_free: int = 5 * GIB
    fail_free: int = 1 * GIB


# Database -------------------------------------------------------------------------------------


async def check_database(cfg: Settings) -> list[Check]:
    """Reachable, and at the newest migration (the schema `serve` expects)."""
    missing = _missing_sqlite_file(cfg.database_url)
    if missing is not None:
        return [
            fail(
                "database",
                f"there is no database file at {missing}.",
                "run `sinergi migrate`, or point SINERGI_DATABASE_URL at the right file.",
            )
        ]
    engine = make_engine(cfg.database_url)
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await conn.run_sync(_revision)
            desa = 0
            if current == head:
                desa = await conn.scalar(text("SELECT count(*) FROM regions WHERE level = 4")) or 0
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding itself
        return [
            fail(
                "database",
                f"cannot connect ({type(exc).__name__}).",
                "check SINERGI_DATABASE_URL (host, port, user, password, database name) "
                "and that the database server is running.",
            )
        ]
    finally:
        await engine.dispose()
    if current is None:
        return [
            ok("database", "reachable."),
            fail(
                "migrations",
                "the database has no Sinergi schema (never migrated).",
                "run `sinergi migrate`.",
            ),
        ]
    if current != head:
        return [
            ok("database", "reachable."),
            fail(
                "migrations",
                f"the schema is at {current}, this release needs {head}.",
                "run `sinergi migrate` (after a backup).",
            ),
        ]
    return [
        ok("database", "reachable."),
        ok("migrations", f"schema at the newest ({head})."),
        _regions(int(desa)),
    ]


def _regions(desa: int) -> Check:
    """The official region list is in the database, so pages show names beside the codes."""
    if desa > 0:
        return ok("regions", f"{desa} desa/kelurahan of the official list loaded.")
    return warn(
        "regions",
        f"only {desa} desa/kelurahan names in the database: pages show codes instead of names.",
        "run `sinergi regions load`.",
    )


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL names when it does not exist (connecting would make an empty one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database or "")
    return None if path.exists() else path


def _revision(sync_conn: object) -> str | None:
    """The Alembic revision stamped in the database, None when there is none."""
    return MigrationContext.configure(sync_conn).get_current_revision()  # type: ignore[arg-type]


# Secrets --------------------------------------------------------------------------------------


def check_secrets(cfg: Settings, *, env: dict[str, str]) -> list[Check]:
    """The secret key and data key set, long and random enough; channel secrets present."""
    checks = [_secret_key(cfg, env), _data_key(cfg)]
    if cfg.telegram_enabled:
        checks.append(_telegram_secret(cfg.telegram_secret or ""))
    if cfg.whatsapp_enabled:
        checks.append(_whatsapp_secrets(cfg))
    if cfg.public_url and cfg.public_url.startswith("https://") and not cfg.cookie_secure:
        checks.append(
            warn(
                "staff cookies",
                "the site is https but staff cookies may travel over plain http.",
                "set SINERGI_COOKIE_SECURE=true.",
            )
        )
    return checks


def _secret_key(cfg: Settings, env: dict[str, str]) -> Check:
    """SINERGI_SECRET_KEY: long enough, and shared by every process when set from a secret store."""
    if len(cfg.secret_key) < MIN_SECRET_LENGTH:
        return fail(
            "secret key",
            f"SINERGI_SECRET_KEY is too short ({len(cfg.secret_key)} characters).",
            f"use at least {MIN_SECRET_LENGTH} random characters: "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
        )
    if "SINERGI_SECRET_KEY" not in env:
        return warn(
            "secret key",
            f"generated in {cfg.data_dir / 'secret_key'}; another machine would make a different one.",
            "set SINERGI_SECRET_KEY from your secret store, the same for every process.",
        )
    return ok("secret key", f"set, {len(cfg.secret_key)} characters.")


def _data_key(cfg: Settings) -> Check:
    """SINERGI_DATA_KEY: a valid Fernet key kept apart from the secret key."""
    if not cfg.data_key:
        return warn(
            "data key",
            "SINERGI_DATA_KEY is not set: NIKs are encrypted with a key derived from the secret key.",
            "set SINERGI_DATA_KEY (`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`) and back it up apart from the database.",
        )
    try:
        NikVault(cfg.secret_key, cfg.data_key)
    except ValueError:
        return fail(
            "data key",
            "SINERGI_DATA_KEY is not a Fernet key (44 characters of url-safe base64).",
            "restore the key you backed up; a new one cannot read the NIKs already stored.",
        )
    return ok("data key", "set, a valid Fernet key.")


def _telegram_secret(secret: str) -> Check:
    """The webhook secret Telegram sends back: only the characters it allows, and long."""
    if not TELEGRAM_SECRET.fullmatch(secret):
        return fail(
            "telegram secret",
            "SINERGI_TELEGRAM_SECRET has characters Telegram refuses (allowed: A-Z a-z 0-9 _ -).",
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
        )
    if len(secret) < MIN_SECRET_LENGTH:
        return fail(
            "telegram secret",
            f"SINERGI_TELEGRAM_SECRET is too short ({len(secret)} characters): "
            "anyone who guesses it can post updates.",
            f"use at least {MIN_SECRET_LENGTH} random characters, then restart `sinergi serve` "
            "(it registers the webhook with the new secret).",
        )
    return ok("telegram secret", f"set, {len(secret)} characters.")


def _whatsapp_secrets(cfg: Settings) -> Check:
    """The app secret (signatures) and the verify token (Meta's webhook set-up)."""
    if not cfg.whatsapp_verify_token:
        return fail(
            "whatsapp secrets",
            "SINERGI_WHATSAPP_VERIFY_TOKEN is not set: Meta cannot verify the webhook.",
            "set it to a random string and type the same in Meta's webhook settings.",
        )
    return ok("whatsapp secrets", "app secret and verify token set.")


# Platforms ------------------------------------------------------------------------------------


async def check_telegram(cfg: Settings, client: TelegramClient) -> list[Check]:
    """The token (`getMe`) and the webhook (`getWebhookInfo`): our URL, no recent error."""
    try:
        name = await client.bot_name()
    except CheckFailed as exc:
        return [
            fail(
                "telegram token",
                f"Telegram refused the token ({exc}).",
                "copy the token from @BotFather into SINERGI_TELEGRAM_TOKEN.",
            )
        ]
    checks = [ok("telegram token", f"valid, the bot is @{name}.")]
    try:
        info = await client.webhook_info()
    except CheckFailed as exc:
        return [*checks, fail("telegram webhook", f"cannot read it ({exc}).", "try again.")]
    return [*checks, _webhook(cfg, info.url, info.last_error, info.pending)]


def _webhook(cfg: Settings, url: str, last_error: str | None, pending: int) -> Check:
    """Registered at our public URL, and Telegram's last delivery did not fail."""
    name = "telegram webhook"
    if not cfg.public_url:
        if url:
            return fail(
                name,
                f"Telegram posts to {url}, but SINERGI_PUBLIC_URL is not set.",
                "set SINERGI_PUBLIC_URL to the https address of this site and restart `sinergi serve`.",
            )
        return warn(
            name,
            "no webhook and no SINERGI_PUBLIC_URL: only `serve --telegram-polling` gets messages.",
            "set SINERGI_PUBLIC_URL to the https address of this site.",
        )
    expected = cfg.public_url.rstrip("/") + WEBHOOK_PATH
    if not expected.startswith("https://"):
        return fail(name, f"{expected} is not https.", "Telegram posts only to https addresses.")
    if url != expected:
        where = f"at {url}" if url else "nowhere"
        return fail(
            name,
            f"Telegram posts {where}, not at {expected}.",
            "restart `sinergi serve` (it registers the webhook), or check SINERGI_PUBLIC_URL.",
        )
    if last_error:
        return fail(
            name,
            f"Telegram's last delivery failed: {last_error}.",
            _webhook_fix(last_error),
        )
    if pending > PENDING_WARN:
        return warn(
            name,
            f"{pending} updates wait at Telegram.",
            "see that `sinergi serve` is running and answering.",
        )
    return ok(name, f"registered at {expected}, no delivery error.")


def _webhook_fix(error: str) -> str:
    """What to do about Telegram's words for a failed delivery."""
    if "401" in error or "403" in error:
        return (
            "the secret Telegram holds differs from SINERGI_TELEGRAM_SECRET: restart "
            "`sinergi serve` so it registers the webhook again with the secret."
        )
    if "SSL" in error or "certificate" in error:
        return "give the reverse proxy a valid TLS certificate for the public name."
    return "see that the reverse proxy forwards /webhook/telegram to `sinergi serve`."


async def check_whatsapp(cfg: Settings, client: WhatsAppClient) -> list[Check]:
    """The phone number id and token (`GET /{phone_id}`), then the templates at Meta."""
    try:
        number = await client.phone_number()
    except CheckFailed as exc:
        return [
            fail(
                "whatsapp number",
                f"Meta refused the phone number id or the token ({exc}).",
                "copy the phone number id and a permanent (system user) token from "
                "Meta's WhatsApp settings into SINERGI_WHATSAPP_PHONE_ID and SINERGI_WHATSAPP_TOKEN.",
            )
        ]
    checks = [ok("whatsapp number", f"valid, sending from {number}.")]
    if not cfg.whatsapp_waba_id:
        return [
            *checks,
            warn(
                "whatsapp templates",
                "cannot check: the WhatsApp Business Account id is not set.",
                "set SINERGI_WHATSAPP_WABA_ID to check that the templates are approved.",
            ),
        ]
    try:
        statuses = await client.template_statuses(cfg.whatsapp_waba_id)
    except CheckFailed as exc:
        return [
            *checks,
            fail(
                "whatsapp templates",
                f"cannot read them ({exc}).",
                "check SINERGI_WHATSAPP_WABA_ID and that the token may read templates.",
            ),
        ]
    return [*checks, _templates(cfg, statuses)]


def _templates(cfg: Settings, statuses: dict[tuple[str, str], str]) -> Check:
    """Every template Sinergi sends is approved at Meta, in its language."""
    wrong = []
    for spec in cfg.whatsapp_templates.values():
        status = statuses.get((spec.name, spec.language), "missing")
        if status != "APPROVED":
            wrong.append(f"{spec.name} ({spec.language}) is {status.lower()}")
    if wrong:
        return fail(
            "whatsapp templates",
            "; ".join(wrong) + ".",
            "create or fix them in Meta's WhatsApp Manager; messages after 24 hours need them.",
        )
    return ok("whatsapp templates", f"all {len(cfg.whatsapp_templates)} approved.")


# The machine ----------------------------------------------------------------------------------


def check_holidays(cfg: Settings, today: date) -> list[Check]:
    """This year's holidays are in the calendar (and, late in the year, next year's)."""
    if cfg.holidays_file is not None:
        calendar.use_holidays_file(cfg.holidays_file)
    warnings = calendar.holiday_warnings(today)
    if not warnings:
        return [ok("holidays", f"{today.year} is the signed SKB.")]
    return [
        warn("holidays", w + ".", "set SINERGI_HOLIDAYS_FILE or update storage/holidays_id.json.")
        for w in warnings
    ]


def check_disk(cfg: Settings, limits: Limits) -> list[Check]:
    """The media folder can be written and has room for the photos of reports."""
    folder = cfg.media_path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [
            fail(
                "media disk", f"cannot create {folder} ({exc.strerror}).", "create it for Sinergi."
            )
        ]
    if not os.access(folder, os.W_OK):
        return [
            fail(
                "media disk",
                f"{folder} is not writable.",
                "give the user Sinergi runs as write access.",
            )
        ]
    free = shutil.disk_usage(folder).free
    shown = f"{free / GIB:.1f} GB free at {folder}"
    if free < limits.fail_free:
        return [fail("media disk", shown + ".", "free space or set SINERGI_MEDIA_DIR elsewhere.")]
    if free < limits.warn_free:
        return [warn("media disk", shown + ".", "free space before photos stop being stored.")]
    return [ok("media disk", shown + ".")]


# All together ---------------------------------------------------------------------------------


async def diagnose(
    cfg: Settings,
    *,
    clients: dict[str, ChannelClient],
    today: date,
    env: dict[str, str],
    limits: Limits = Limits(),
) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    checks = await check_database(cfg)
    checks += check_secrets(cfg, env=env)
    telegram, whatsapp = clients.get("telegram"), clients.get("whatsapp")
    if isinstance(telegram, TelegramClient):
        checks += await check_telegram(cfg, telegram)
    else:
        checks.append(ok("telegram", "off (SINERGI_TELEGRAM_TOKEN is not set)."))
    if isinstance(whatsapp, WhatsAppClient):
        checks += await check_whatsapp(cfg, whatsapp)
    else:
        checks.append(ok("whatsapp", "off (SINERGI_WHATSAPP_TOKEN/PHONE_ID are not set)."))
    checks += check_holidays(cfg, today)
    checks += check_disk(cfg, limits)
    return checks


def exit_status(checks: list[Check]) -> int:
    """1 when anything failed, else 0 (warnings are for the operator to weigh)."""
    return 1 if any(c.status == "FAIL" for c in checks) else 0


def _settings() -> tuple[Settings | None, list[Check]]:
    """The settings, and a failed check instead of a stop when they are refused."""
    try:
        return load_settings(), []
    except SettingsError:
        pass  # a short secret key: read the rest as they are, and report it with the others
    except ValidationError as exc:
        return None, [_refused(exc)]
    try:
        return Settings(), []
    except ValidationError as exc:
        return None, [_refused(exc)]


def _refused(exc: ValidationError) -> Check:
    """Pydantic's refusal as one line: each setting's complaint, without its links."""
    said = "; ".join(
        ("SINERGI_" + "_".join(str(p) for p in e["loc"]).upper() + ": " if e["loc"] else "")
        + e["msg"].removeprefix("Value error, ")
        for e in exc.errors()
    )
    return fail("settings", said + ".", "fix the environment variable named above.")


async def _run(cfg: Settings) -> list[Check]:
    """Diagnose with the real platform clients, closed afterwards."""
    clients = default_clients(cfg)
    try:
        return await diagnose(cfg, clients=clients, today=datetime.now(UTC).date(), env=_env())
    finally:
        for client in clients.values():
            await client.close()


def _env() -> dict[str, str]:
    """The environment as it is (read here, at the entry point)."""
    return dict(os.environ)


def doctor() -> None:
    """Check the deployment: database, secrets, Telegram, WhatsApp, holidays, disk."""
    setup_logging(level=30)  # warnings only: the report is the output
    cfg, checks = _settings()
    if cfg is not None:
        checks = run(lambda: _run(cfg))
    for check in checks:
        typer.echo(check.line())
    raise typer.Exit(exit_status(checks))
