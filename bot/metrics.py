"""What `GET /metrics` gives Prometheus (prometheus-client), one registry per running process:
updates handled by kind and how long they took, sends by Telegram's answer, database errors, and
at each scrape the backlog read from the database (the same for every process: a scraper may
read any one). No label carries a person or a chat: kinds and outcomes only."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.outbox.backlog import Backlog

CONTENT_TYPE = CONTENT_TYPE_LATEST
# From a tap's answer (tens of ms) to an update that waited for a slow database.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTCOMES = ("ok", "429", "403", "error")


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.updates = Counter("relais_updates", "Telegram updates handled, by kind", ["kind"], registry=registry)
        self.handler_seconds = Histogram(
            "relais_handler_seconds",
            "Time to handle an update, its transaction included, by kind",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sends = Counter(
            "relais_sends",
            "Requests to Telegram that send or edit a message, by answer",
            ["outcome"],
            registry=registry,
        )
        for outcome in OUTCOMES:  # every outcome shows, at 0 until it happens
            self.sends.labels(outcome)
        self.database_errors = Counter(
            "relais_database_errors", "Database errors met at run time (updates and jobs)", registry=registry
        )
        self.last_send = Gauge(
            "relais_last_send_timestamp_seconds", "When this process last had a send accepted", registry=registry
        )
        self.backlog = Gauge(
            "relais_outbox_backlog",
            "Waiting to go out: planned messages, notices of a change, scheduled events due",
            ["what"],
            registry=registry,
        )
        self.oldest_due = Gauge(
            "relais_outbox_oldest_due_seconds",
            "Age of the oldest message or event due and not yet out",
            registry=registry,
        )
        self.dialogues = Gauge("relais_dialogues", "Guided dialogues open", registry=registry)
        self.sms_sent = Counter(
            "relais_sms_sent", "SMS the gateway took, or refused (by answer)", ["outcome"], registry=registry
        )
        self.sms_received = Counter(
            "relais_sms_received", "SMS members sent back, by what they did", ["outcome"], registry=registry
        )
        for outcome in ("ok", "refused"):
            self.sms_sent.labels(outcome)

    def count_send(self, outcome: str) -> None:
        self.sends.labels(outcome).inc()
        if outcome == "ok":
            self.last_send.set(time.time())

    def exposition(self, backlog: Backlog, oldest_due_seconds: float) -> bytes:
        """The text a scrape gets, with the backlog just read."""
        self.backlog.labels("deliveries").set(backlog.deliveries)
        self.backlog.labels("notices").set(backlog.notices)
        self.backlog.labels("events_due").set(backlog.events_due)
        self.oldest_due.set(oldest_due_seconds)
        self.dialogues.set(backlog.dialogues)
        return generate_latest(self.registry)
