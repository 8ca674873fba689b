"""Prometheus metrics, one registry per app so tests and several apps never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """The counters an operator watches: updates in, duplicates, time to answer, sends."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "sinergi_updates_received",
            "Webhook updates stored",
            ["channel"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "sinergi_updates_duplicate",
            "Redelivered updates ignored",
            ["channel"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "sinergi_webhook_rejected",
            "Webhook calls refused",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.quarantined = Counter(
            "sinergi_updates_quarantined",
            "Updates set aside: they did not parse or could not be prepared",
            ["channel"],
            registry=self.registry,
        )
        self.media_failures = Counter(
            "sinergi_media_failures",
            "Photos and files the platform did not hand over (the person is asked again)",
            ["channel"],
            registry=self.registry,
        )
        self.paused = Counter(
            "sinergi_channel_pauses",
            "Times a platform's retry_after paused a whole channel",
            ["channel"],
            registry=self.registry,
        )
        self.processing = Histogram(
            "sinergi_processing_seconds",
            "Time to answer one update",
            ["channel"],
            registry=self.registry,
        )
        self.sent = Counter(
            "sinergi_messages_sent",
            "Messages accepted by a platform",
            ["channel"],
            registry=self.registry,
        )
        self.missed_slots = Counter(
            "sinergi_sends_missed_slot",
            "Sends that would have gone later than their booked slot allows (a busy machine): "
            "given back unsent, to go in a later slot",
            ["channel"],
            registry=self.registry,
        )
        self.send_failures = Counter(
            "sinergi_send_failures",
            "Failed send attempts",
            ["channel", "kind"],
            registry=self.registry,
        )
        self.dead = Counter(
            "sinergi_messages_dead",
            "Messages given up after their last attempt",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.held = Counter(
            "sinergi_messages_held",
            "WhatsApp messages held for a closed 24-hour window",
            ["channel"],
            registry=self.registry,
        )
        self.templates_refused = Counter(
            "sinergi_templates_refused",
            "Templates Meta refused (paused, rejected)",
            ["template"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "sinergi_outbox_depth", "Messages waiting to be sent", registry=self.registry
        )
        self.inbox_pending = Gauge(
            "sinergi_inbox_pending", "Updates waiting to be processed", registry=self.registry
        )
        self.sla_breached = Gauge(
            "sinergi_escalations_breached",
            "Open escalations past their SLA day (all regions)",
            registry=self.registry,
        )
