"""Typed settings, read once at an entry point and passed down (never at import time)."""

from __future__ import annotations

import os
import secrets
from datetime import time
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_URL = "sqlite+aiosqlite:///data/sinergi.db"


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp template: its name at Meta, language, and the body parameters it takes."""

    name: str
    language: str = "id"
    params: list[str] = Field(default_factory=list)


# Keys are what Reply.template names; "new_message" is sent when a free-form message waits
# outside the 24-hour window ("Ada pesan baru untuk Anda. Balas pesan ini untuk membacanya.").
DEFAULT_WHATSAPP_TEMPLATES = {
    "new_message": WhatsAppTemplate(name="sinergi_pesan_baru"),
    "checkin": WhatsAppTemplate(name="sinergi_tanya_kabar", params=["name"]),
    "reminder": WhatsAppTemplate(name="sinergi_pengingat", params=["name"]),
}


class Settings(BaseSettings):
    """Everything an operator can set, with the defaults of INTERFACES.md."""

    model_config = SettingsConfigDict(env_prefix="SINERGI_", extra="ignore")

    database_url: str = DEFAULT_DB_URL
    data_dir: Path = Path("data")
    secret_key: str = ""
    # Key for the NIK at rest (Fernet, urlsafe base64 of 32 bytes); derived from the
    # secret key when unset so a demo needs nothing, but operators should set both.
    data_key: str = ""
    public_url: str | None = None

    telegram_token: str | None = None
    telegram_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org"

    whatsapp_token: str | None = None
    whatsapp_phone_id: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v23.0"
    # The WhatsApp Business Account id: only `sinergi doctor` reads it, to see templates approved.
    whatsapp_waba_id: str | None = None
    whatsapp_templates: dict[str, WhatsAppTemplate] = Field(
        default_factory=lambda: dict(DEFAULT_WHATSAPP_TEMPLATES)
    )
    # Pacing: messages per second over the whole channel, and seconds between two to one person.
    telegram_rate: float = 30.0
    telegram_recipient_interval: float = 1.0
    whatsapp_rate: float = 60.0
    whatsapp_recipient_interval: float = 6.0

    default_locale: str = "id"
    # After an outage, messages older than this (but for the newest) get no answer of
    # their own: one sensible reply beats a storm of replies to things long past.
    stale_after_seconds: int = 600
    max_text_length: int = 4000
    link_code_ttl_hours: int = 72
    nik_tries_per_chat: int = 5
    nik_tries_window_minutes: int = 15
    nik_tries_per_nik_per_day: int = 10

    checkin_interval_days: int = 30
    graduate_checkin_interval_days: int = 90  # graduates in their watch year
    reminder_after_days: int = 3
    mentor_after_days: int = 7
    dinsos_after_days: int = 14
    escalation_sla_working_days: int = 5
    # Vulnerable households (storage/priority.py) climb the ladder sooner and wait less.
    vulnerable_mentor_after_days: int = 5
    vulnerable_dinsos_after_days: int = 10
    vulnerable_sla_working_days: int = 3
    # The graduation path (storage/graduation_rules.py holds the rest of its rules).
    graduation_reports_running: int = 3
    # Until this day of a month, the business report is about the month that just ended.
    report_previous_month_until_day: int = 10
    graduation_watch_months: int = 12
    # Working days an organisation has to answer a referral before it is overdue.
    referral_days: int = Field(default=5, ge=1)
    delivery_start: time = time(8, 0)
    delivery_end: time = time(18, 0)
    # This year's holidays (SKB 3 Menteri) when the release's storage/holidays_id.json lacks them.
    holidays_file: Path | None = None

    # How often the graduation and relapse sweeps run (the clock ticks every minute).
    graduation_every_minutes: int = 60
    # Transient failures are retried until a deadline, not a count: a reply for this long;
    # a scheduled prompt until the close of the next day's delivery hours.
    outbox_reply_deadline_hours: float = 24.0
    # The longest wait between two tries, so a backlog drains soon after the platform recovers.
    outbox_backoff_cap_seconds: float = 60.0
    outbox_lease_seconds: int = 60

    session_hours: int = 8
    # A staff session ends after this many minutes without a page (issue 17: an unattended
    # office computer); the absolute limit above still holds.
    session_idle_minutes: int = 30
    cookie_secure: bool = False
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    # addresses or CIDRs); from any other peer those headers are ignored. Default: none.
    trusted_proxies: str = ""
    media_dir: Path | None = None
    # Chat transcripts, photos and voice notes are purged this many months after the last contact.
    retention_months: int = Field(default=24, ge=1)
    demo: bool = False

    telegram_extra: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _channel_secrets_present(self) -> Settings:
        """Refuse a Telegram token without the webhook secret, and WhatsApp without its app secret."""
        if self.telegram_token and not self.telegram_secret:
            raise ValueError(
                "SINERGI_TELEGRAM_SECRET is required when SINERGI_TELEGRAM_TOKEN is set"
            )
        if self.whatsapp_enabled and not self.whatsapp_app_secret:
            raise ValueError("SINERGI_WHATSAPP_APP_SECRET is required when WhatsApp is on")
        _ = self.proxy_networks  # an address that is not one refuses the start, with its text
        return self

    @property
    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The networks of SINERGI_TRUSTED_PROXIES."""
        try:
            return tuple(
                ip_network(part.strip(), strict=False)
                for part in self.trusted_proxies.split(",")
                if part.strip()
            )
        except ValueError as exc:
            raise ValueError(f"SINERGI_TRUSTED_PROXIES: {exc}") from None

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_token and self.whatsapp_phone_id)

    @property
    def media_path(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def uploads_path(self) -> Path:
        """Where roster previews wait (an hour at most) for their confirmation."""
        return self.data_dir / "uploads"


# The NIK hash and encryption keys derive from the secret key: a short one is guessable.
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A setting that Sinergi refuses to start with; the message says what to do."""


def load_settings(**overrides: object) -> Settings:
    """Read the environment, then fill the secret key from `data/` (made on first run)."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if not settings.secret_key:
        settings.secret_key = _stored_secret(settings.data_dir / "secret_key")
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"SINERGI_SECRET_KEY is too short ({len(settings.secret_key)} characters): "
            f"use at least {MIN_SECRET_LENGTH} random characters, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, "
            "or unset it to have one generated in the data folder"
        )
    return settings


def _stored_secret(path: Path) -> str:
    """The secret kept in `path`, generated with 256 random bits the first time.

    The file is created readable by its owner only, in one step (never briefly open to others),
    and two processes starting at once agree on the one that was written first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(value)
    return value
