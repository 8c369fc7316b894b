"""How the sender behaves: timeout, retry schedule with jitter, Retry-After, disabling."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from shipflow.config import Settings
from shipflow.webhooks.secretbox import SecretBox
from shipflow.webhooks.ssrf import Network, networks

#: Standard Webhooks' recommended schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


@dataclass(frozen=True)
class Policy:
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.2
    timeout_s: float = 15.0
    disable_after_s: float = 5 * 24 * 3600
    max_concurrency: int = 64
    #: Concurrent POSTs to one subscription (its own small connection pool).
    per_subscription: int = 8
    allowed_networks: tuple[Network, ...] = ()
    #: A claim not finished by then (the sender died) is taken up again by any sender.
    lease_margin_s: float = 10.0
    #: An idle sender looks for due deliveries this often (a dispatch wakes it at once).
    poll_s: float = 1.0
    #: Bytes of a response kept in the delivery log.
    excerpt_bytes: int = 1024
    #: Longest Retry-After honoured (a longer one is cut to this).
    max_retry_after_s: float = 24 * 3600
    rng: random.Random = field(default_factory=random.Random, compare=False)
    #: Opens the stored (encrypted) secrets; its keys are resolved when first needed.
    secret_box: SecretBox = field(
        default_factory=lambda: SecretBox.for_settings(Settings()),
        compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> Policy:
        values: dict[str, object] = {
            "schedule": tuple(settings.webhook_retry_schedule_s),
            "jitter": settings.webhook_retry_jitter,
            "timeout_s": settings.webhook_timeout_s,
            "disable_after_s": settings.webhook_disable_after_s,
            "max_concurrency": settings.webhook_max_concurrency,
            "per_subscription": settings.webhook_max_per_subscription,
            "allowed_networks": tuple(networks(settings.webhook_allowed_networks)),
            "secret_box": SecretBox.for_settings(settings),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def attempts(self) -> int:
        return len(self.schedule)

    def delay(self, attempts_made: int) -> float:
        """Seconds to wait before the next attempt, after ``attempts_made`` attempts."""
        base = self.schedule[min(attempts_made, len(self.schedule) - 1)]
        if base <= 0 or self.jitter <= 0:
            return max(base, 0.0)
        return base * (1 + self.rng.uniform(-self.jitter, self.jitter))

    def retry_after(self, header: str | None, now: datetime) -> float | None:
        """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP-date)."""
        if not header:
            return None
        header = header.strip()
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - now).total_seconds()
        return min(max(seconds, 0.0), self.max_retry_after_s)

    def lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.timeout_s + self.lease_margin_s)
