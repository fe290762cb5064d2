"""CORS by a site's list of origins, for the widget's calls (``/embed/{site}/...``) and the
counts (``/api/v1/counts``): an allowed Origin is echoed with ``Vary: Origin``, a preflight
from any other is refused with 403 in the error shape. Whether a request may do what it asks
(make a discussion, post) is its route's to decide, with `is_allowed_origin`.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rejoinder.core.embed import is_allowed_origin
from rejoinder.core.errors import NotFound
from rejoinder.runtime import Runtime
from rejoinder.web.errors import error_body

EDIT_HEADER = "X-Rejoinder-Edit"  # the writer's edit token, kept by the widget, not a cookie
# The signed proof of the addresses the writer confirmed, kept by the widget likewise.
VERIFIED_HEADER = "X-Rejoinder-Verified"

_SITE_PREFIX = "/embed/"
_COUNTS = "/api/v1/counts"
_ORIGINS_SECONDS = 2.0  # how long a worker trusts its copy of a site's origins


class EmbedCors:
    """The middleware (see the module); a site's origins are read at most every
    `_ORIGINS_SECONDS` per worker."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.rt = runtime
        self._origins: dict[str, tuple[float, tuple[str, ...]]] = {}

    def _site_name(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        if path.startswith(_SITE_PREFIX):
            return path[len(_SITE_PREFIX) :].split("/", 1)[0] or None
        if path == _COUNTS:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            named: list[str] = query.get("site", [])
            if named:
                return named[0]
            host = _header(scope, b"host")
            return self.rt.site_for_host(host).name
        return None

    async def _allowed(self, site_name: str) -> tuple[str, ...]:
        now = time.monotonic()
        known = self._origins.get(site_name)
        if known and now - known[0] < _ORIGINS_SECONDS:
            return known[1]
        try:
            site = await run_in_threadpool(self.rt.site_named, site_name)
        except NotFound:
            origins: tuple[str, ...] = ()
        else:
            origins = site.origins
        if len(self._origins) > 1000:
            self._origins.clear()
        self._origins[site_name] = (now, origins)
        return origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        site_name = self._site_name(scope) if scope["type"] == "http" else None
        if site_name is None:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        allowed = bool(origin) and is_allowed_origin(origin, await self._allowed(site_name))
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await _preflight(send, origin if allowed else None)
            return
        extra = [(b"vary", b"Origin")]
        if allowed and origin:
            extra += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-expose-headers", b"Retry-After"),
            ]

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, with_cors)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _preflight(send: Send, origin: str | None) -> None:
    if origin is None:
        body = orjson.dumps(
            error_body("forbidden", "This site's discussions cannot be embedded on that origin.")
        )
        headers = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    headers = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-methods", b"GET, POST, PATCH, DELETE"),
        (
            b"access-control-allow-headers",
            f"Content-Type, {EDIT_HEADER}, {VERIFIED_HEADER}".encode(),
        ),
        (b"access-control-max-age", b"600"),
        (b"vary", b"Origin"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
