"""Telegram: Update JSON → Inbound through python-telegram-bot, and Reply → Bot API calls."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.base import CheckFailed, MediaFile, MediaUnavailable, SendResult, Traits
from bot.messages import Address, Inbound, Media, Reply

CHANNEL = "telegram"
# The Bot API serves files up to 20 MB; a report photo is far smaller.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
log = logging.getLogger("sinergi.telegram")
# Telegram's limit is 4096 characters; leave room for the numbered choices.
MAX_TEXT = 4000
MAX_CAPTION = 1024
# A keyboard button shares the user's own contact (request_contact), so linking by number works.
TRAITS = Traits(max_text=MAX_TEXT, shares_contact=True)
# What sendVoice plays as a voice message; anything else would be refused there.
VOICE_TYPES = {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/m4a", "audio/x-m4a"}


def chat_key(data: Any) -> str:
    """The inbox ordering key, read from the raw dict so even a broken update gets one."""
    if not isinstance(data, dict):
        return "telegram:?"
    for field in ("message", "edited_message", "callback_query"):
        part = data.get(field)
        if isinstance(part, dict):
            sender = part.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return f"telegram:{sender['id']}"
    return f"telegram:?{data.get('update_id')}"


def parse(raw: str) -> list[Inbound]:
    """The neutral messages in one stored update; raises on an update PTB cannot read."""
    update = _read(json.loads(raw))
    if update.callback_query is not None:
        return _from_callback(update)
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        return []  # edits, channel posts, groups: nothing for a household chat to answer
    user = message.from_user
    base: dict[str, Any] = dict(
        address=Address(CHANNEL, _user_key(user.id)),
        sent_at=message.date.astimezone(UTC),
        message_id=str(update.update_id),
        language=user.language_code,
        shares_contact=TRAITS.shares_contact,
    )
    if message.text is not None:
        return [Inbound(kind="text", text=message.text, **base)]
    if message.contact is not None:
        own = message.contact.user_id == user.id
        return [
            Inbound(
                kind="contact",
                contact_phone=message.contact.phone_number,
                contact_is_own=own,
                **base,
            )
        ]
    media = _media_of(message)
    if media is not None:
        return [Inbound(kind="media", media=media, text=message.caption or "", **base)]
    if message.location is not None:
        return [Inbound(kind="location", **base)]
    return [Inbound(kind="unsupported", **base)]


def _user_key(user_id: Any) -> str:
    """A Telegram user id is an integer; PTB passes anything else through, so refuse it here."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValueError("sender id is not an integer")
    return str(user_id)


def _read(data: Any) -> Update:
    """PTB's strict parser, and when it refuses an optional field left out, a lenient second go."""
    try:
        return Update.de_json(data, None)
    except (TypeError, KeyError, ValueError):
        # Old clients and hand-made examples leave out `is_bot` or `file_unique_id`.
        return Update.de_json(_with_defaults(data), None)


def _with_defaults(value: Any) -> Any:
    """The update with `is_bot` on every user and `file_unique_id` on every file filled in."""
    if isinstance(value, list):
        return [_with_defaults(item) for item in value]
    if not isinstance(value, dict):
        return value
    filled = {key: _with_defaults(item) for key, item in value.items()}
    if "first_name" in filled and "id" in filled and "type" not in filled:
        filled.setdefault("is_bot", False)  # a user, not a chat (a chat has a type)
    if "file_id" in filled:
        filled.setdefault("file_unique_id", str(filled["file_id"]))
    return filled


def _from_callback(update: Update) -> list[Inbound]:
    """A button press: its data is the choice's key; the query id must be answered."""
    query = update.callback_query
    assert query is not None
    sent = query.message.date if query.message is not None else datetime.now(UTC)
    return [
        Inbound(
            address=Address(CHANNEL, _user_key(query.from_user.id)),
            kind="choice",
            sent_at=sent.astimezone(UTC),
            message_id=str(update.update_id),
            choice=query.data or "",
            callback_id=query.id,
            language=query.from_user.language_code,
            shares_contact=TRAITS.shares_contact,
        )
    ]


def _media_of(message: Any) -> Media | None:
    """The largest photo, or a document or voice note, as a media reference."""
    if message.photo:
        return Media("photo", message.photo[-1].file_id, "image/jpeg")
    if message.document is not None:
        return Media("document", message.document.file_id, message.document.mime_type)
    if message.voice is not None:
        return Media("audio", message.voice.file_id, message.voice.mime_type)
    return None


class TelegramClient:
    """Sends replies through python-telegram-bot's Bot, pointed at `{api_url}/bot{token}`."""

    name = CHANNEL
    traits = TRAITS

    def __init__(
        self,
        token: str,
        api_url: str,
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
    ) -> None:
        root = api_url.rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=request or HTTPXRequest(connection_pool_size=8),
            # PTB keeps long polling on its own connection so it never starves the sends.
            get_updates_request=updates_request or HTTPXRequest(read_timeout=40),
        )

    async def send(self, recipient: str, reply: Reply) -> SendResult:
        """One message with its buttons; errors become retry, permanent or unreachable."""
        try:
            if reply.extra.get("callback_id"):
                await self._answer_callback(reply.extra["callback_id"])
            if reply.media is not None and reply.media.data is not None:
                message = await self._send_file(int(recipient), reply, reply.media.data)
            else:
                message = await self.bot.send_message(
                    chat_id=int(recipient), text=reply.text[:MAX_TEXT], reply_markup=_markup(reply)
                )
        except RetryAfter as exc:
            delay = (
                exc.retry_after.total_seconds()
                if hasattr(exc.retry_after, "total_seconds")
                else exc.retry_after
            )
            return SendResult(ok=False, retry_after=float(delay), error="429")
        except Forbidden as exc:
            return SendResult(ok=False, unreachable=True, error=_short(exc))
        except BadRequest as exc:
            return SendResult(ok=False, permanent=True, error=_short(exc))
        except (TimedOut, NetworkError, TelegramError) as exc:
            return SendResult(ok=False, error=_short(exc))
        return SendResult(ok=True, message_id=str(message.message_id))

    async def _send_file(self, chat_id: int, reply: Reply, data: bytes) -> Message:
        """A voice note plays in the chat (sendVoice: OGG/Opus, MP3, M4A); other files go as a
        document. The text, if any, is the caption, with the buttons."""
        media = reply.media
        assert media is not None
        caption = reply.text[:MAX_CAPTION] or None
        markup = _markup(reply)
        if media.kind == "voice" and (media.mime_type or "audio/ogg") in VOICE_TYPES:
            return await self.bot.send_voice(
                chat_id=chat_id, voice=data, caption=caption, reply_markup=markup
            )
        return await self.bot.send_document(
            chat_id=chat_id, document=data, caption=caption, reply_markup=markup
        )

    async def _answer_callback(self, callback_id: str) -> None:
        """Stop the button's spinner; a stale query is not worth failing the message for."""
        with contextlib.suppress(BadRequest):
            await self.bot.answer_callback_query(callback_id)

    def as_template(self, reply: Reply) -> Reply | None:
        """Telegram has no window to stay within, hence no templates."""
        return None

    async def download_media(self, media: Media) -> MediaFile:
        """The file's bytes, fetched at once; MediaUnavailable when Telegram will not give them."""
        try:
            file = await self.bot.get_file(media.file_id)
            if (file.file_size or 0) > MAX_MEDIA_BYTES:
                raise ValueError("file too large")
            data = bytes(await file.download_as_bytearray())
        except (TelegramError, ValueError) as exc:
            raise MediaUnavailable(type(exc).__name__) from exc
        return MediaFile(data[:MAX_MEDIA_BYTES], media.mime_type)

    async def register_webhook(self, public_url: str, secret: str) -> None:
        """Tell Telegram where to post updates, with the secret it must send back."""
        await self.bot.set_webhook(
            url=public_url.rstrip("/") + "/webhook/telegram",
            secret_token=secret,
            allowed_updates=["message", "callback_query"],
        )

    async def bot_name(self) -> str:
        """`getMe`: the bot's @username; CheckFailed when Telegram refuses the token."""
        try:
            me = await self.bot.get_me()
        except TelegramError as exc:
            raise CheckFailed(_short(exc)) from None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CheckFailed(f"unreadable answer: {type(exc).__name__}") from None
        return me.username or str(me.id)

    async def webhook_info(self) -> WebhookInfo:
        """`getWebhookInfo`: where Telegram posts, how much waits, and its last error."""
        try:
            info = await self.bot.get_webhook_info()
        except TelegramError as exc:
            raise CheckFailed(_short(exc)) from None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # Whatever answers at SINERGI_TELEGRAM_API_URL did not answer as Telegram does.
            raise CheckFailed(f"unreadable answer: {type(exc).__name__}") from None
        return WebhookInfo(
            url=info.url or "",
            pending=info.pending_update_count or 0,
            last_error=info.last_error_message,
            last_error_at=info.last_error_date,
        )

    async def close(self) -> None:
        """Close the HTTP pool."""
        await self.bot.shutdown()


@dataclass(frozen=True)
class WebhookInfo:
    """What Telegram says of the webhook (it never reads the secret back)."""

    url: str
    pending: int
    last_error: str | None
    last_error_at: datetime | None


def _markup(reply: Reply) -> Any:
    """Numbered inline buttons, a contact button, or the contact keyboard taken away."""
    if reply.ask_contact:
        button = KeyboardButton(reply.extra.get("contact_label") or "📱", request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if reply.choices:
        rows = [
            [InlineKeyboardButton(f"{i}. {c.label}"[:64], callback_data=c.key[:64])]
            for i, c in enumerate(reply.choices, start=1)
        ]
        return InlineKeyboardMarkup(rows)
    if reply.extra.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def _short(exc: Exception) -> str:
    """An error for the outbox row: the class and the platform's message, never a payload."""
    return f"{type(exc).__name__}: {exc}"[:200]
