"""ASGI middleware that bounds what a request may cost and what a response lets a browser do.

`BodyLimit` refuses a request body larger than its route allows while it is read, before
anything parses it: a declared Content-Length over the limit is refused before a byte is
read, and a body sent without one is cut off at the limit. The refusal is an HTTP 413 that
the error handlers turn into the one error shape (JSON under /api/, a page elsewhere).

`SecurityHeaders` adds the headers every response should carry: a Content-Security-Policy
that runs only the site's own scripts (no inline script, no other origin), forbids framing
the desk and the API (`frame-ancestors 'none'`) and lets the public pages be framed only by
the site itself and the origins its site allows to embed it (`Site.origins`, for the site
the request's Host names), `nosniff` and a Referrer-Policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: bytes a form or JSON body may take per character of text: a character is up to 4 bytes
#: of UTF-8, percent-encoded in a form (12) or escaped in JSON ("\\ud83d\\ude00": 12 for 2)
BYTES_PER_CHARACTER = 12
#: room for the other fields of a comment or an article (names, addresses, flags)
COMMENT_OVERHEAD = 16 * 1024
ARTICLE_OVERHEAD = 64 * 1024
#: everything else: the desk's forms (a policy with its word lists), bulk actions, logins
DEFAULT_LIMIT = 256 * 1024

_ARTICLES = re.compile(r"^/api/v1/articles/?(?:[^/]+/?)?$")
_COMMENTS = re.compile(r"/comments(?:/|$)|^/api/v1/moderation/check/?$|/edit/?$")
_WITH_BODY = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def body_limits(comment_chars: int, article_chars: int) -> Callable[[str], int]:
    """The body limit of a path, from the longest comment and article allowed."""
    comments = comment_chars * BYTES_PER_CHARACTER + COMMENT_OVERHEAD
    articles = article_chars * BYTES_PER_CHARACTER + ARTICLE_OVERHEAD

    def limit(path: str) -> int:
        if _ARTICLES.match(path):
            return articles
        if _COMMENTS.search(path):
            return comments
        return DEFAULT_LIMIT

    return limit


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"The request is too large: this address takes at most {limit:,} bytes.",
        headers={"Connection": "close"},
    )


class BodyLimit:
    """Refuse bodies over their route's limit while reading them (see the module)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return None


_COMMON_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
_DESK_HEADERS = [
    (b"content-security-policy", f"{_COMMON_POLICY}; frame-ancestors 'none'".encode()),
    (b"x-frame-options", b"DENY"),
]
_EVERY_RESPONSE = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
#: an origin as a CSP source may name it: scheme, host, optional port, nothing else (a stored
#: origin with a space or a semicolon would add directives of its own, so it is left out)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?$")


def is_never_framed(path: str) -> bool:
    """The desk and the API are never shown in a frame, whatever a site allows."""
    return path.startswith(("/admin", "/api/"))


def page_headers(origins: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """The CSP of a public page: framed by the site itself and by the origins it allows."""
    allowed = " ".join(["'self'", *(o for o in origins if _ORIGIN.match(o))])
    return [(b"content-security-policy", f"{_COMMON_POLICY}; frame-ancestors {allowed}".encode())]


class SecurityHeaders:
    """Add the security headers to every response that does not set its own. `origins_for`
    gives the embedding origins of the site a Host header names."""

    def __init__(
        self, app: ASGIApp, origins_for: Callable[[str | None], Sequence[str]] = lambda _: ()
    ) -> None:
        self.app = app
        self.origins_for = origins_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if is_never_framed(scope["path"]):
            extra = _DESK_HEADERS + _EVERY_RESPONSE
        else:
            extra = page_headers(self.origins_for(_host(scope))) + _EVERY_RESPONSE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _host(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return str(value.decode("latin-1"))
    return None
