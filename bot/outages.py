"""Run-time outages (the network to Telegram, the database): retried with growing waits, and
reported in the log once when they start and once when they end, not at every try. Nothing is
lost meanwhile: what is due stays in the database, and updates stay with Telegram."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("relais.outages")


class Outage:
    """One thing that can be away (`what`: "database", "Telegram")."""

    FIRST_WAIT, LONGEST_WAIT = 1.0, 60.0

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None
        self.failures = 0
        self.next_try = 0.0
        self.on_failure: Callable[[], None] = lambda: None  # counts every failure (GET /metrics)

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def may_try(self) -> bool:
        """False while waiting before the next try (the waits grow: 1 s, 2 s, 4 s... 60 s)."""
        return time.monotonic() >= self.next_try

    def failed(self, error: BaseException) -> None:
        self.on_failure()
        now = time.monotonic()
        if self.since is None:
            self.since = now
            log.warning(
                "%s unreachable (%s): retrying with growing waits; nothing is lost",
                self.what,
                error.__class__.__name__,
            )
        self.failures += 1
        self.next_try = now + min(self.LONGEST_WAIT, self.FIRST_WAIT * 2 ** (self.failures - 1))

    def recovered(self) -> None:
        if self.since is not None:
            log.warning(
                "%s back after %.0f s and %s failed tries", self.what, time.monotonic() - self.since, self.failures
            )
        self.since, self.failures, self.next_try = None, 0, 0.0
