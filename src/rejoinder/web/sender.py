"""The outbox's sender as the app makes it (webhooks, and mail when SMTP is set), and the
process of its own that `rejoinder serve` runs it in: one sender per host, whose deliveries
take no CPU from the workers' requests (`python -m rejoinder.web.sender`, until SIGTERM).

An app run without `rejoinder serve` (the tests' in-process app) keeps a sender of its own,
woken by its own writes. The sender process is woken by anyone's writes: it reads the
runtime's change counter (`changes.py`: SQLite's data_version, or Redis's channel) every
`CHANGES_CHECK_SECONDS`, which costs microseconds, and looks for due messages only when it
moved, or at its poll (a retry's time come). Without such a counter (PostgreSQL without
Redis) the counter moves at every look: the sender reads the outbox every
`ALWAYS_CHANGED_CHECK_SECONDS` instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from rejoinder import metrics
from rejoinder.changes import AlwaysChanged, ChangeCounter
from rejoinder.runtime import Runtime, open_runtime, utcnow
from rejoinder.settings import load_settings
from rejoinder.usecases.mail import MAIL, smtp_deliverer
from rejoinder.usecases.outbox import Deliver, Sender
from rejoinder.usecases.webhooks import WEBHOOK
from rejoinder.usecases.webhooks import deliverer as webhook_deliverer
from rejoinder.web.i18n import Language, load_languages
from rejoinder.web.mail import MailComposer
from rejoinder.web.rendering import Renderer, site_renderer

log = logging.getLogger("rejoinder.outbox")

# How long a message queued by a worker waits, at most, before the sender process looks.
CHANGES_CHECK_SECONDS = 0.1
ALWAYS_CHANGED_CHECK_SECONDS = 0.2
NOTICES_POLL_SECONDS = 15.0
PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Outbox:
    """A sender with its deliverers by kind, and what closes them once it has stopped."""

    sender: Sender
    deliverers: Mapping[str, Deliver]
    close: Callable[[], Awaitable[None]]


def make_outbox(
    rt: Runtime,
    render: Renderer,
    languages: dict[str, Language],
) -> Outbox:
    """The sender the app runs in each worker, and the sender process runs alone: webhooks
    whenever a site has some, mail when SMTP is set."""
    settings = rt.settings
    hooks = webhook_deliverer(
        rt.db,
        settings,
        clock=utcnow,
        site_of=lambda site_id: next((s for s in rt.sites.all() if s.id == site_id), None),
        link=rt.site_url,
        mail=rt.mail,
    )
    deliverers = {WEBHOOK: hooks.deliver}
    if rt.mail is not None:
        compose = MailComposer(rt, render, languages)
        deliverers[MAIL] = smtp_deliverer(settings, compose)
    sender = Sender(
        rt.db,
        deliverers,
        clock=utcnow,
        attempts=settings.outbox_attempts,
        lease_seconds=settings.outbox_lease_seconds,
        settle=[hooks.settle],
        prepare=[hooks.prepare],
    )
    return Outbox(sender, deliverers, hooks.close)


class Elsewhere:
    """What a worker holds for the sender when it runs in a process of its own: nothing to
    wake (the write that queued a message wakes that sender through the change counter)."""

    def wake(self) -> None:
        """Nothing: the sender process sees the write."""


async def _wake_on_writes(changes: ChangeCounter, sender: Sender) -> None:
    """Wake the sender whenever the database was written to, by any process (its own rounds
    too: one read after each, which finds nothing more)."""
    every = (
        ALWAYS_CHANGED_CHECK_SECONDS
        if isinstance(changes, AlwaysChanged)
        else CHANGES_CHECK_SECONDS
    )
    seen = changes.token()
    while True:
        await asyncio.sleep(every)
        token = changes.token()
        if token != seen:
            seen = token
            sender.wake()


async def flush_notices(rt: Runtime, sender: Sender) -> None:
    """Reply notifications and alerts whose digest interval has passed become mail."""
    notifier = rt.notifier
    if notifier is None:
        return
    while True:
        await asyncio.sleep(NOTICES_POLL_SECONDS)
        try:
            added = await run_in_threadpool(notifier.flush_due)
        except Exception:
            log.exception("the notices could not be made into mail")
            continue
        if added:
            sender.wake()


async def _watch_parent(sender: Sender, parent: int) -> None:
    """Stop when the server that started this process is gone (killed without the chance
    to stop it): a sender left behind would deliver for a server nobody runs."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_CHECK_SECONDS)
    log.warning("the server that started the outbox sender is gone: stopping")
    sender.stop()


async def serve_outbox() -> None:
    """Deliver the outbox's messages until SIGTERM or SIGINT (or the parent's end); the
    settings come from the environment, as a worker's do."""
    settings = load_settings(moderation=False)  # the sender judges no comment
    rt = open_runtime(settings, migrate=False)
    languages = load_languages()
    outbox = make_outbox(rt, site_renderer(rt, languages), languages)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, outbox.sender.stop)
    helpers = [
        asyncio.create_task(_wake_on_writes(rt.changes, outbox.sender)),
        asyncio.create_task(flush_notices(rt, outbox.sender)),
        asyncio.create_task(_watch_parent(outbox.sender, os.getppid())),
    ]
    try:
        await outbox.sender.run()
    finally:
        for task in helpers:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await outbox.sender.finish()
        await outbox.close()
        metrics.worker_exited(os.getpid())
        rt.close()


def main() -> None:
    # The event loop the workers run (uvicorn's "auto": uvloop where it is installed, as
    # uvicorn[standard] installs it): each delivery's socket work costs less on it
    # (bench/outbox.py).
    try:
        import uvloop
    except ImportError:  # a platform uvloop is not built for
        asyncio.run(serve_outbox())
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve_outbox())


if __name__ == "__main__":
    main()
