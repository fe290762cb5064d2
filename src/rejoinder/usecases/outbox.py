"""The outbox's sender: one per host under `rejoinder serve` (a process of its own,
`web/sender.py`), else one per app. It claims due messages with a lease (so two senders or
hosts never deliver one message at once), hands each to the deliverer of its kind, then
marks it sent, or due again after a growing, jittered pause, or failed after the last try.
Posting only adds rows; it never waits for a delivery.

A sender killed mid-delivery leaves its message claimed until the lease runs out; another
sender then tries it again with the same message id, so a receiver that already took it can
tell it is the same message.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from rejoinder.core.outbox import OutboxMessage, Undeliverable, retry_delay
from rejoinder.metrics import Delivery, count_delivery
from rejoinder.store import outbox as outbox_store
from rejoinder.store.database import Database

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger("rejoinder.outbox")

Deliver = Callable[[OutboxMessage], Awaitable[None]]
# What a deliverer also writes once a round is over, in the transaction that records it.
Settle = Callable[["Connection"], None]
# What a deliverer reads for a round's messages, in the transaction that claims them.
Prepare = Callable[["Connection", list[OutboxMessage]], None]
Clock = Callable[[], datetime]

T = TypeVar("T")

BATCH = 50  # messages claimed per round
POLL_SECONDS = 1.0  # how often an idle sender looks for due messages
# The least time from one round's start to the next one's, unless a round came back full:
# under a stream of posts each waking the sender, one round then carries what a few dozen
# posts queued, rather than each post paying for a claim and a settling transaction of its
# own. A message posted while the sender is idle goes at once.
GATHER_SECONDS = 0.05
ERROR_MAX = 500  # characters of a failure kept with the message


class Sender:
    """Delivers the outbox's due messages, by kind, until stopped."""

    def __init__(
        self,
        db: Database,
        deliverers: Mapping[str, Deliver],
        *,
        clock: Clock,
        attempts: int,
        lease_seconds: float,
        poll_seconds: float = POLL_SECONDS,
        settle: Sequence[Settle] = (),
        prepare: Sequence[Prepare] = (),
    ) -> None:
        self._db = db
        self._deliverers = dict(deliverers)
        self._clock = clock
        self._attempts = attempts
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._settle_too = tuple(settle)
        self._prepare = tuple(prepare)
        self._wake = asyncio.Event()
        self._stopped = False
        self._claim = secrets.token_hex(16)  # this sender's mark on the rows it holds
        self._writing: set[asyncio.Future[Any]] = set()

    async def _db_call(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work` (a transaction) in a thread. A cancelled sender stops waiting for it,
        but the thread goes on: `finish` waits for it, so that the runtime never closes the
        database under a transaction (a connection left open, collected later)."""
        future = asyncio.ensure_future(asyncio.to_thread(work, *args))
        self._writing.add(future)
        future.add_done_callback(self._writing.discard)
        return await asyncio.shield(future)

    async def finish(self) -> None:
        """After the sender's task is cancelled: wait for the transactions it left running."""
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    def wake(self) -> None:
        """Look for due messages now rather than at the next poll (from the event loop)."""
        self._wake.set()

    def stop(self) -> None:
        """End `run` after its current round, before its task is cancelled: on Python 3.11,
        `asyncio.wait_for` can swallow a cancellation that arrives as what it waits for ends
        (a wake-up, a delivery), and a sender that missed it would keep a server from
        stopping."""
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver what is due, then wait for the next poll or a wake-up; until stopped or
        cancelled."""
        loop = asyncio.get_running_loop()
        while not self._stopped:
            # Cleared before looking, so that a wake-up during a round is not lost.
            self._wake.clear()
            began = loop.time()
            try:
                busy = await self.send_due()
            except Exception:  # the database away for a moment: try again at the next poll
                log.exception("the outbox sender could not read its messages")
                busy = 0
            if busy >= BATCH or self._stopped:
                continue  # a backlog: the next round at once
            if not busy:
                waiting = asyncio.ensure_future(self._wake.wait())
                try:  # asyncio.wait, unlike wait_for, never takes a cancellation for itself
                    await asyncio.wait({waiting}, timeout=self._poll)
                finally:
                    waiting.cancel()
            gather = began + GATHER_SECONDS - loop.time()
            if gather > 0 and not self._stopped:
                await asyncio.sleep(gather)

    async def send_due(self) -> int:
        """Claim one batch of due messages (one transaction, which also reads what the
        deliverers need for them), deliver them at the same time (one slow receiver does not
        hold up the rest), then record every outcome (one transaction); how many were
        claimed."""
        if not await self._db_call(self._anything_due):
            return 0
        messages = await self._db_call(self._take)
        if not messages:
            return 0  # another sender took them
        outcomes = await asyncio.gather(*(self._deliver(message) for message in messages))
        await self._db_call(self._settle, list(zip(messages, outcomes, strict=True)))
        return len(messages)

    def _anything_due(self) -> bool:
        # A read first: a sender woken by a write that queued nothing takes no write lock.
        with self._db.read() as conn:
            return bool(outbox_store.due_ids(conn, self._clock(), 1))

    def _take(self) -> list[OutboxMessage]:
        now = self._clock()
        with self._db.write() as conn:
            taken = outbox_store.claim_due(
                conn, claim=self._claim, now=now, lease_until=now + self._lease, limit=BATCH
            )
            if taken:
                for prepare in self._prepare:
                    prepare(conn, taken)
            return taken

    async def _deliver(self, message: OutboxMessage) -> tuple[str | None, bool]:
        """Hand the message to its deliverer: (None, _) when it was delivered, else (why it
        failed, whether trying again cannot help)."""
        deliver = self._deliverers.get(message.kind)
        try:
            if deliver is None:
                raise LookupError(f"no deliverer for messages of kind {message.kind!r}")
            # (asyncio.timeout, unlike wait_for, makes no task of its own per delivery)
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                await deliver(message)
        except Undeliverable as failure:
            return _described(failure), True
        except Exception as failure:  # (cancelled: the lease runs out, another sender tries)
            return _described(failure), False
        return None, False

    def _settle(self, outcomes: list[tuple[OutboxMessage, tuple[str | None, bool]]]) -> None:
        """Every message of a round marked sent, due again after a pause, or failed."""
        counted: list[tuple[str, Delivery]] = []
        now = self._clock()
        delivered = [message for message, (error, _) in outcomes if error is None]
        with self._db.write() as conn:
            outbox_store.mark_all_sent(
                conn, [message.id for message in delivered], claim=self._claim, now=now
            )
            counted.extend((message.kind, "sent") for message in delivered)
            for message, (error, last) in outcomes:
                if error is None:
                    continue
                elif last or message.attempts >= self._attempts:
                    outbox_store.mark_failed(conn, message.id, claim=self._claim, error=error)
                    # The error stays with the message, not in the log: a mail server's
                    # refusal may quote the recipient's address.
                    log.warning(
                        "outbox message %s failed after %d tries",
                        message.message_id,
                        message.attempts,
                    )
                    counted.append((message.kind, "failed"))
                else:
                    delay = retry_delay(message.attempts, random.random())
                    outbox_store.mark_retry(
                        conn,
                        message.id,
                        claim=self._claim,
                        error=error,
                        next_attempt_at=now + delay,
                    )
                    counted.append((message.kind, "retry"))
            for more in self._settle_too:
                more(conn)
        for kind, result in counted:
            count_delivery(kind, result)


def _described(failure: BaseException) -> str:
    """A failure in a line, for the message's last error (a library's message, never the
    settings it was given)."""
    text = f"{type(failure).__name__}: {failure}".replace("\r", " ").replace("\n", " ")
    return text[:ERROR_MAX]


def outbox_counts(db: Database) -> dict[str, int]:
    """Messages per state."""
    with db.read() as conn:
        return outbox_store.count_by_state(conn)


def outbox_messages(db: Database, recipient: str | None = None) -> list[OutboxMessage]:
    """Every message (to one normalised recipient, when named), oldest first."""
    with db.read() as conn:
        return outbox_store.list_messages(conn, recipient=recipient)
