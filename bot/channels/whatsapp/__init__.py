"""WhatsApp Cloud API: the webhook split, the parser, the renderer and the Graph client."""

from bot.channels.whatsapp.graph import WhatsAppClient, result_of
from bot.channels.whatsapp.parse import parse, receipts
from bot.channels.whatsapp.render import render, template_message
from bot.channels.whatsapp.webhook import CHANNEL, WebhookItem, split, valid_signature

__all__ = [
    "CHANNEL",
    "WebhookItem",
    "WhatsAppClient",
    "parse",
    "receipts",
    "render",
    "result_of",
    "split",
    "template_message",
    "valid_signature",
]
