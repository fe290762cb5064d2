"""The HTTP client that posts webhook deliveries: one POST and its answer's status, over
connections kept open per origin (HTTP/1.1 keep-alive), answers read with httptools' parser.

Each connection is opened to an address resolved once and, unless private targets are
allowed, checked first (`core.webhooks.is_private_address`): the address connected to is
the address checked, so a name whose DNS answer changes between the check and the connection
(DNS rebinding) cannot point a delivery at this host or a private network. TLS still checks
the certificate against the URL's name (SNI and the Host header carry the name, not the
address). A general client (httpx) spent most of a delivery's time in its pool's bookkeeping
when a round of deliveries went out at once (`docs/WEBHOOKS.md`, "What it costs")."""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

from rejoinder.core import webhooks as rules

# (host, port) -> the addresses it resolves to, in the resolver's order.
Resolve = Callable[[str, int], Awaitable[list[str]]]

IDLE_SECONDS = 30.0  # an idle connection is dropped after this long
PER_ORIGIN = 16  # connections open at once to one origin; more deliveries wait for one
BODY_MAX = 64 * 1024  # bytes of an answer's body read before its connection is dropped


class PrivateTarget(Exception):
    """The endpoint's name resolves to an address a webhook may not reach."""


class BadAnswer(Exception):
    """The endpoint answered with something that is not an HTTP response, or closed the
    connection before answering."""


class _Stale(Exception):
    """A kept connection was closed by the other end before it answered anything: the request
    goes again on a fresh one."""


@dataclass(frozen=True)
class Target:
    """Where a URL's POST goes: the origin, the name checked and sent, and the request line's
    path."""

    scheme: str
    host: str  # the name or literal address, ASCII (IDNA), without brackets
    port: int
    host_header: str
    path: str

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the URL is not an http(s) URL with a host")
        host = parts.hostname.encode("idna").decode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        shown = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            shown = f"{shown}:{parts.port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, host, port, shown, path)


# A sender posts to the same few URLs over and over: each is split once.
_target_of = functools.lru_cache(maxsize=1024)(Target.of)


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for the name, without repeats."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _literal(host: str) -> bool:
    try:
        rules.is_private_address(host)
    except ValueError:
        return False
    return True


class _Connection(asyncio.Protocol):
    """One connection to an origin, answering one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.keep = False
        self.used_at = time.monotonic()
        self._waiter: asyncio.Future[int] | None = None
        self._answered = False  # any byte of the current answer came
        self._headers_done = False
        self._body = 0

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are Transports in all but their class.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for: the connection is no longer trusted
            return
        self._answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(BadAnswer(f"the endpoint's answer is not HTTP ({error})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done:  # an answer without a length ends where the connection does
            self.keep = False
            self._waiter.set_result(self.parser.get_status_code())
        elif not self._answered:
            self._fail(_Stale())
        else:
            self._fail(BadAnswer("the endpoint closed the connection while answering"))

    # httptools' side
    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body += len(body)
        if self._body > BODY_MAX and self._waiter is not None and not self._waiter.done():
            self.keep = False  # the status is all a delivery needs
            self._waiter.set_result(self.parser.get_status_code())
            self.close()

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue): the real one follows
            self._headers_done = False
            return
        if self._waiter is not None and not self._waiter.done():
            self.keep = self.parser.should_keep_alive()
            self._waiter.set_result(status)

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    async def exchange(self, request: bytes) -> int:
        """Send the request; the answer's status once it is read."""
        assert self.transport is not None
        if self.closed:
            raise _Stale()
        self._waiter = asyncio.get_running_loop().create_future()
        self._answered = self._headers_done = False
        self._body = 0
        self.keep = False
        self.transport.write(request)
        try:
            return await self._waiter
        finally:
            self._waiter = None
            self.used_at = time.monotonic()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class WebhookClient:
    """Posts deliveries; made inside the event loop that uses it, closed with `aclose`."""

    def __init__(
        self,
        *,
        timeout: float,
        allow_private: bool,
        resolve: Resolve = system_resolve,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout = timeout
        self._allow_private = allow_private
        self._resolve = resolve
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._slots: dict[tuple[str, str, int], asyncio.Semaphore] = {}

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url` with `headers`; the answer's status. Raises `PrivateTarget`,
        `BadAnswer`, `TimeoutError` (after the client's timeout, connecting included) or the
        connection's own `OSError`. Redirects are not followed."""
        target = _target_of(url)
        request = _request(target, body, headers)
        origin = (target.scheme, target.host, target.port)
        slots = self._slots.setdefault(origin, asyncio.Semaphore(PER_ORIGIN))
        async with asyncio.timeout(self._timeout), slots:
            kept = self._take_idle(origin)
            if kept is not None:
                try:
                    return self._done(origin, kept, await kept.exchange(request))
                except _Stale:
                    pass  # closed by the other end while idle: a fresh connection instead
                except BaseException:
                    kept.close()
                    raise
            fresh = await self._open(target)
            try:
                return self._done(origin, fresh, await fresh.exchange(request))
            except _Stale:
                fresh.close()
                raise BadAnswer("the endpoint closed the connection without answering") from None
            except BaseException:
                fresh.close()
                raise

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            kept = idle.pop()
            if not kept.closed and now - kept.used_at < IDLE_SECONDS:
                return kept
            kept.close()
        return None

    def _done(self, origin: tuple[str, str, int], connection: _Connection, status: int) -> int:
        if connection.keep and not connection.closed:
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection.close()
        return status

    async def _open(self, target: Target) -> _Connection:
        """A connection to the first address of the name that answers, every address having
        been checked (unless private targets are allowed)."""
        if _literal(target.host):
            addresses = [target.host]
        else:
            addresses = await self._resolve(target.host, target.port)
        if not addresses:
            raise OSError(f"the name {target.host} has no address")
        if not self._allow_private:
            refused = [a for a in addresses if rules.is_private_address(a)]
            if refused:
                raise PrivateTarget(
                    f"{target.host} resolves to {refused[0]}, a private or local address"
                )
        loop = asyncio.get_running_loop()
        context = None
        if target.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        failure: OSError | None = None
        for address in addresses:
            try:
                _, connection = await loop.create_connection(
                    _Connection,
                    host=address,
                    port=target.port,
                    ssl=context,
                    server_hostname=target.host if context is not None else None,
                )
            except OSError as error:
                failure = error
                continue
            return connection
        assert failure is not None
        raise failure

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for kept in idle:
                kept.close()
        self._idle.clear()


def _request(target: Target, body: bytes, headers: Mapping[str, str]) -> bytes:
    lines = [f"POST {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    lines.append(f"Content-Length: {len(body)}")
    for name, value in headers.items():
        if any(c in name or c in value for c in "\r\n\0"):
            raise ValueError(f"the header {name!r} has a line break in it")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
