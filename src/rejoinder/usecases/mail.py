"""Mail: what is put in the outbox (always inside the transaction of the write that causes
it), and the SMTP delivery the outbox's sender calls. The message itself is composed at
delivery time by the web layer (`web/mail.py`), which holds the templates and catalogues."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from rejoinder.core.emails import normal_address
from rejoinder.core.outbox import OutboxMessage
from rejoinder.settings import Settings
from rejoinder.store import outbox as outbox_store
from rejoinder.store import verification as verification_store

if TYPE_CHECKING:
    from sqlalchemy import Connection

MAIL = "mail"  # the outbox kind of every mail
CONFIRM = "confirm"  # the address confirmation mail's template and topic
# An address that has not confirmed is sent its confirmation at most this often.
CONFIRM_AGAIN_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Mail:
    """What a write needs to put mail in the outbox: the domain of the sender's address,
    which every Message-ID ends with."""

    domain: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Mail | None:
        """None when no SMTP host is set: then nothing is offered or sent."""
        if not settings.mail_enabled:
            return None
        address = parseaddr(settings.smtp_from)[1]
        return cls(domain=address.rpartition("@")[2] or "localhost")

    def new_message_id(self) -> str:
        return f"<{secrets.token_hex(16)}@{self.domain}>"

    def enqueue(
        self,
        conn: Connection,
        *,
        to: str,
        template: str,
        topic: str,
        site_id: int,
        values: dict[str, Any],
        now: datetime,
    ) -> None:
        """A mail to `to`, built from `template` with `values` when it is delivered."""
        outbox_store.add(
            conn,
            message_id=self.new_message_id(),
            kind=MAIL,
            recipient=normal_address(to),
            payload={
                "to": to.strip(),
                "template": template,
                "topic": topic,
                "site_id": site_id,
                "values": values,
            },
            now=now,
        )

    def ask_confirmation(
        self,
        conn: Connection,
        *,
        address: str,
        name: str,
        site_id: int,
        article_id: int | None,
        now: datetime,
        again: bool = False,
    ) -> bool:
        """Put the address confirmation mail in the outbox, unless the address is verified
        (and not asked `again`, for a browser that lacks the proof) or one went to it within
        `CONFIRM_AGAIN_AFTER`; whether it did."""
        if not again and verification_store.is_verified(conn, address):
            return False
        if outbox_store.sent_recently(
            conn,
            kind=MAIL,
            recipient=normal_address(address),
            topic=CONFIRM,
            since=now - CONFIRM_AGAIN_AFTER,
        ):
            return False
        self.enqueue(
            conn,
            to=address,
            template=CONFIRM,
            topic=CONFIRM,
            site_id=site_id,
            values={"name": name, "article_id": article_id},
            now=now,
        )
        return True


Compose = Callable[[OutboxMessage], EmailMessage]


def smtp_deliverer(
    settings: Settings, compose: Compose
) -> Callable[[OutboxMessage], Awaitable[None]]:
    """The outbox's deliverer of mail: compose the message, hand it to the SMTP server.
    Returns once the server has accepted it; raises otherwise."""
    import aiosmtplib  # made only where mail is set up: a server without it never loads it

    host = (settings.smtp_host or "").strip()
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    sender = parseaddr(settings.smtp_from)[1]

    async def deliver(message: OutboxMessage) -> None:
        mail = compose(message)
        await aiosmtplib.send(
            mail,
            sender=sender,
            recipients=[str(message.payload["to"])],
            hostname=host,
            port=settings.smtp_port,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            username=settings.smtp_user or None,
            password=password,
            timeout=settings.smtp_timeout,
        )

    return deliver
