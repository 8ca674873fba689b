"""The neutral model every channel speaks: Address, Inbound, Choice, Reply."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from locales.i18n import use_locale

InboundKind = Literal["text", "choice", "contact", "media", "location", "unsupported", "system"]


@dataclass(frozen=True)
class Address:
    """Who, on which channel: `telegram:568577002`, `whatsapp:6281234567890`."""

    channel: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True)
class Media:
    """A photo, document or voice note: the platform's id, fetched by the channel adapter."""

    kind: str
    file_id: str
    mime_type: str | None = None
    # Where the channel stored the file under settings.media_path, once downloaded.
    path: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One thing a person sent, whatever the platform."""

    address: Address
    kind: InboundKind
    sent_at: datetime
    message_id: str
    text: str = ""
    choice: str | None = None
    contact_phone: str | None = None
    contact_is_own: bool = False
    media: Media | None = None
    # What the channel knows of the sender: a WhatsApp number, a BSUID's wa_id, a language.
    phone: str | None = None
    alt_id: str | None = None
    language: str | None = None
    # Telegram wants every button press answered, or the button spins.
    callback_id: str | None = None
    system: str | None = None
    # The chat can share the sender's own number at a button press (set from the channel's
    # Traits by its adapter): journeys offer "send my number" only where it works.
    shares_contact: bool = False


@dataclass(frozen=True)
class StatusUpdate:
    """A platform's receipt for a message we sent (sent, delivered, read, failed): not for the core."""

    channel: str
    external_message_id: str
    status: str
    at: datetime
    error_code: int | None = None
    error_title: str | None = None
    # What a failure means, decided by the channel: "retry", "unreachable", "window_closed", "failed".
    outcome: str | None = None


@dataclass(frozen=True)
class Choice:
    """One option: `key` comes back from a button; the number and the label work typed."""

    key: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Attachment:
    """A stored file sent with a message (a household's voice note to its mentor).

    The outbox keeps only the media store's reference; the sender reads the bytes into `data`
    just before the channel sends them, so a file erased meanwhile is never sent.
    """

    kind: str
    reference: str
    mime_type: str | None = None
    data: bytes | None = None

    def to_payload(self) -> dict[str, Any]:
        """The attachment in the outbox row's JSON: never the bytes."""
        return {"kind": self.kind, "reference": self.reference, "mime_type": self.mime_type}


@dataclass(frozen=True)
class Reply:
    """What the bot says: text, numbered choices, maybe a request for the person's contact,
    maybe a file (a voice note) sent before the text."""

    text: str
    choices: tuple[Choice, ...] = ()
    ask_contact: bool = False
    # A WhatsApp template to use when the 24-hour window is closed: name and parameters.
    template: str | None = None
    template_params: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    media: Attachment | None = None

    def to_payload(self) -> dict[str, Any]:
        """The outbox row's JSON (built by hand: `asdict` deep-copies, and sweeps write thousands)."""
        payload = {
            "text": self.text,
            "choices": [
                {"key": c.key, "label": c.label, "description": c.description} for c in self.choices
            ],
            "ask_contact": self.ask_contact,
            "template": self.template,
            "template_params": list(self.template_params),
            "extra": dict(self.extra),
        }
        if self.media is not None:
            payload["media"] = self.media.to_payload()
        return payload

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Reply:
        """Back from the outbox row's JSON (a deferred message is rendered here, in its language)."""
        if "render" in data:
            return render_deferred(data)
        return cls(
            text=data.get("text", ""),
            choices=tuple(Choice(**c) for c in data.get("choices", [])),
            ask_contact=bool(data.get("ask_contact")),
            template=data.get("template"),
            template_params=tuple(data.get("template_params", [])),
            extra=dict(data.get("extra", {})),
            media=_attachment(data.get("media")),
        )

    def numbered_text(self) -> str:
        """The text with its choices as a numbered list, for typing alone or a plain-text channel."""
        if not self.choices:
            return self.text
        lines = [f"{i}. {c.label}" for i, c in enumerate(self.choices, start=1)]
        return self.text + "\n\n" + "\n".join(lines)


def _attachment(data: Any) -> Attachment | None:
    """The attachment of an outbox row's JSON, when it has one."""
    if not isinstance(data, dict) or not data.get("reference"):
        return None
    return Attachment(
        str(data.get("kind") or "file"), str(data["reference"]), data.get("mime_type")
    )


# Deferred messages ------------------------------------------------------------------------------
#
# A sweep that prompts thousands of households writes their outbox rows with one INSERT …
# SELECT, so it cannot run Python per row. Such a row holds what to say, not the words:
# {"render": "ladder.checkin", "locale": "id", "args": {...}}. The words are made here, when
# the sender (or a staff transcript) reads the row, by a renderer from the table the runtime
# installs at start-up (scheduler.jobs.RENDERERS): nothing is imported by name at run time.

Renderer = Callable[[dict[str, Any]], "Reply"]
_RENDERERS: dict[str, Renderer] = {}


class UnknownMessage(ValueError):
    """A deferred message names a renderer that does not exist (any more)."""


def install_renderers(table: Mapping[str, Renderer]) -> None:
    """Make these renderers of deferred messages known (once, at start-up)."""
    _RENDERERS.update(table)


def render_deferred(data: dict[str, Any]) -> Reply:
    """The Reply a deferred message stands for, in the locale it was written for."""
    name = str(data.get("render", ""))
    renderer = _RENDERERS.get(name)
    if renderer is None:
        raise UnknownMessage(name)
    with use_locale(data.get("locale")):
        return renderer(dict(data.get("args") or {}))
