"""What the routes need, declared once: the runtime, the site, the reader's cookies, and the
checks made before a handler reads its body.

Handlers name these in their signatures (``rt: RuntimeDep``, ``site: SiteDep``). FastAPI
resolves them in the order they are declared (a decorator's ``dependencies`` first), before
the handler runs and before the route's own parameters are validated. (A route with a JSON
body model parses that body first: text that is not JSON is a 400 even then.) Each is
``async def``, since a plain function would run in the thread pool on every request; those
that read only the Request add nothing to the OpenAPI schema.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from rejoinder.core.models import Site
from rejoinder.runtime import Runtime
from rejoinder.web.cookies import Identity
from rejoinder.web.errors import ApiError


async def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_site(request: Request, rt: RuntimeDep) -> Site:
    """The site the request's Host belongs to; the default site for any other host."""
    return rt.site_for_host(request.headers.get("host"))


SiteDep = Annotated[Site, Depends(get_site)]


async def get_identity(request: Request) -> Identity:
    """The signer of the reader's cookies: the comments they may still edit, their name."""
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


# Before the body.


async def require_json(request: Request) -> None:
    """A body we cannot read as JSON is refused before anything else looks at it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")


JsonBody = Depends(require_json)


async def require_admin_token(request: Request, rt: RuntimeDep) -> None:
    """The admin token of the settings: checked before the body is read or validated, so a
    caller without it learns nothing about what the body should hold."""
    expected = rt.settings.admin_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not given or not secrets.compare_digest(given, expected):
        raise ApiError(401, "An admin token is required: Authorization: Bearer <token>.")


AdminToken = Depends(require_admin_token)
