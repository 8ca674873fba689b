"""A Reply → a Graph API message object within WhatsApp's limits: buttons, a list, or numbered text."""

from __future__ import annotations

import re
from typing import Any

from bot.config import WhatsAppTemplate
from bot.messages import Choice, Reply
from locales.i18n import _

# The Graph API's limits; a request beyond them is rejected with error 100 or 131009.
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS, MAX_BUTTON_TITLE, MAX_BUTTON_ID = 3, 20, 256
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION, MAX_ROW_ID = 10, 24, 72, 200
MAX_LIST_BUTTON = 20
MAX_TEMPLATE_PARAM = 1024


def render(reply: Reply) -> dict[str, Any]:
    """The message object: reply buttons, else a list, else a numbered text menu."""
    choices = reply.choices
    if choices and _fits_buttons(reply):
        return {"type": "interactive", "interactive": _buttons(reply)}
    if choices and _fits_list(reply):
        return {"type": "interactive", "interactive": _list(reply)}
    body = _clip(reply.numbered_text(), MAX_TEXT)
    # Meta refuses an empty body; a blank reply is a bug upstream, but never a refused request.
    return {"type": "text", "text": {"body": body if body.strip() else "…", "preview_url": False}}


def _fits_buttons(reply: Reply) -> bool:
    """Up to 3 distinct buttons whose titles fit whole (a cut label would mislead)."""
    return (
        len(reply.choices) <= MAX_BUTTONS
        and _distinct_keys(reply.choices, MAX_BUTTON_ID)
        and all(0 < len(c.label.strip()) <= MAX_BUTTON_TITLE for c in reply.choices)
        and len({c.label.strip() for c in reply.choices}) == len(reply.choices)
        and len(reply.text) <= MAX_INTERACTIVE_BODY
    )


def _fits_list(reply: Reply) -> bool:
    """Up to 10 rows; a long label is shortened in the title and shown whole below it."""
    return (
        len(reply.choices) <= MAX_ROWS
        and _distinct_keys(reply.choices, MAX_ROW_ID)
        and all(0 < len(c.label.strip()) <= MAX_ROW_DESCRIPTION for c in reply.choices)
        and all(not c.description or len(c.label) <= MAX_ROW_TITLE for c in reply.choices)
        and len(reply.text) <= MAX_INTERACTIVE_BODY
    )


def _distinct_keys(choices: tuple[Choice, ...], limit: int) -> bool:
    """Ids must be unique and short enough, or the API refuses the message."""
    keys = [c.key for c in choices]
    return all(0 < len(k) <= limit for k in keys) and len(set(keys)) == len(keys)


def _body(reply: Reply) -> dict[str, str]:
    """An interactive message needs a non-empty body."""
    return {"text": reply.text.strip() or _("Choose one:")}


def _buttons(reply: Reply) -> dict[str, Any]:
    """Reply buttons: the key comes back as `button_reply.id`."""
    buttons = [
        {"type": "reply", "reply": {"id": c.key, "title": c.label.strip()}} for c in reply.choices
    ]
    return {"type": "button", "body": _body(reply), "action": {"buttons": buttons}}


def _list(reply: Reply) -> dict[str, Any]:
    """A list of rows: the key comes back as `list_reply.id`."""
    rows = [_row(c) for c in reply.choices]
    button = _clip(_("Choose"), MAX_LIST_BUTTON)
    return {
        "type": "list",
        "body": _body(reply),
        "action": {"button": button, "sections": [{"rows": rows}]},
    }


def _row(choice: Choice) -> dict[str, str]:
    """A row: the label as title, or shortened with the whole label as its description."""
    label = choice.label.strip()
    if len(label) <= MAX_ROW_TITLE:
        row = {"id": choice.key, "title": label}
        if choice.description:
            row["description"] = _clip(choice.description, MAX_ROW_DESCRIPTION)
        return row
    return {"id": choice.key, "title": _clip(label, MAX_ROW_TITLE), "description": label}


def _clip(text: str, limit: int) -> str:
    """Shorten at a word boundary with an ellipsis, counting characters as the API does."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


# What WhatsApp plays as audio (Ogg only with Opus, which is what voice notes are).
AUDIO_TYPES = {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}


def media_message(kind: str, mime_type: str | None, media_id: str) -> dict[str, Any]:
    """An uploaded file as a message: a voice note plays as audio, anything else is a document."""
    if kind == "voice" and (mime_type or "audio/ogg") in AUDIO_TYPES:
        return {"type": "audio", "audio": {"id": media_id}}
    return {"type": "document", "document": {"id": media_id}}


def template_message(spec: WhatsAppTemplate, params: tuple[str, ...]) -> dict[str, Any] | None:
    """An approved template with its body parameters; None when one would be empty or missing."""
    values = [re.sub(r"\s+", " ", p).strip() for p in params]
    if len(values) != len(spec.params) or not all(values):
        return None
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    if values:
        parameters = [{"type": "text", "text": _clip(v, MAX_TEMPLATE_PARAM)} for v in values]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": template}
