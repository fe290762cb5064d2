"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, on a port chosen before it
starts, so a test can point Rejoinder at it while it is down and start it later.

Every read is bounded: `wait_for` polls until enough messages arrived or a generous deadline
passes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import free_port

PATIENCE = 60.0  # seconds a test waits for mail: generous, for a busy machine and retries


class _Collector:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(content)))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`, collecting every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self._collector = _Collector()
        self._controller: Controller | None = None

    @property
    def env(self) -> dict[str, str]:
        """The settings that point Rejoinder at this server (plain SMTP on 127.0.0.1)."""
        return {
            "REJOINDER_SMTP_HOST": "127.0.0.1",
            "REJOINDER_SMTP_PORT": str(self.port),
            "REJOINDER_SMTP_SECURITY": "none",
            "REJOINDER_SMTP_FROM": "Rejoinder News <comments@news.example>",
            "REJOINDER_SMTP_TIMEOUT": "5",
        }

    def start(self) -> SmtpServer:
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._collector.lock:
            raw = [content for _, content in self._collector.received]
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(content) for content in raw]

    @property
    def envelopes(self) -> list[list[str]]:
        with self._collector.lock:
            return [rcpt for rcpt, _ in self._collector.received]

    def wait_for(self, count: int, patience: float = PATIENCE) -> list[EmailMessage]:
        """The messages, once at least `count` arrived; fails after `patience` seconds."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            found = self.messages
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{len(self.messages)} messages arrived, not {count}")

    def ids(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(str(message["Message-ID"]) for message in self.messages)


def body_text(message: EmailMessage, subtype: str = "plain") -> str:
    part: Any = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())
