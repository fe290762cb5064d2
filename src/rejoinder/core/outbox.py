"""The outbox's values and rules: a message as a sender holds it, and how long to wait
before the next try."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The first retry waits about this long; each later one twice the one before, up to the cap.
FIRST_RETRY_SECONDS = 5.0
LONGEST_RETRY_SECONDS = 3600.0


@dataclass(frozen=True)
class OutboxMessage:
    """One message to deliver: its stable id, what kind of delivery, to whom, and the values
    the deliverer builds it from."""

    id: int
    message_id: str
    kind: str
    recipient: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class Undeliverable(Exception):
    """Raised by a deliverer when trying again cannot help (a webhook endpoint paused or
    removed): the message fails at once, and a person may retry it from the desk."""


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """The pause after the `attempts`-th failed try (1 for the first): exponential, capped,
    and spread by `jitter` (a number in [0, 1)) over half to the whole of it, so that the
    messages a mail server's outage held up do not all come back at once."""
    base = min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + 0.5 * jitter))
