"""What the routes need, declared once: the runtime, the site, the reader's language and
cookies, who is at the desk, and the checks made before a handler reads its body.

Handlers name these in their signatures (``rt: RuntimeDep``, ``staff: DeskStaffDep``).
FastAPI resolves them in the order they are declared (a decorator's ``dependencies`` first),
before the handler runs and before the route's own parameters are validated: a request
without a session is sent to log in, or answered 401, whatever else is wrong with it. (A
route with a JSON body model parses that body first: text that is not JSON is a 400 even
then.) Each is ``async def``, since a plain function would run in the thread pool on every
request; those that read only the Request add nothing to the OpenAPI schema.

Desk pages want a session and redirect to /admin/login without one; the admin API takes a
bearer token (scripts) or a session, and answers 401 without either. A state-changing desk
request made with a session must carry the session's CSRF token (the form field ``csrf``,
see `check_csrf`, or the ``X-CSRF-Token`` header in the admin API), or it is refused with
403 and changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from rejoinder.core.errors import Forbidden
from rejoinder.core.models import Site, User
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import accounts
from rejoinder.web.cookies import Identity
from rejoinder.web.errors import ApiError
from rejoinder.web.i18n import Language, language_of

SESSION_COOKIE = "rj_desk"


async def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_site(request: Request, rt: RuntimeDep) -> Site:
    """The site the request's Host belongs to; the default site for any other host."""
    return rt.site_for_host(request.headers.get("host"))


SiteDep = Annotated[Site, Depends(get_site)]


async def get_language(request: Request, site: SiteDep) -> Language:
    """The reader's language, for pages, fragments and the messages beside form fields."""
    return language_of(request, site)


LanguageDep = Annotated[Language, Depends(get_language)]


async def named_site(rt: Runtime, name: str | None) -> Site:
    """The site the desk is about: the default one when no name (or its name) is given, else
    the site of that name (NotFound, 404, when there is none)."""
    if not name or name == rt.default_site.name:
        return rt.default_site
    return await run_in_threadpool(rt.site_named, name)


async def get_desk_site(rt: RuntimeDep, site: str | None = None) -> Site:
    """The site an admin call is about, named by the optional ``site`` query parameter."""
    return await named_site(rt, site)


DeskSiteDep = Annotated[Site, Depends(get_desk_site)]


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


async def read_json(request: Request) -> Any:
    """The body as JSON, for the calls that check its content themselves (415 for another
    content type, 400 for text that is not JSON)."""
    await require_json(request)
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "The request body is not valid JSON.") from error


JsonDep = Annotated[Any, Depends(read_json)]


async def require_admin_token(request: Request, rt: RuntimeDep) -> None:
    """The admin token of the settings: checked before the body is read or validated, so a
    caller without it learns nothing about what the body should hold."""
    expected = rt.settings.admin_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not given or not secrets.compare_digest(given, expected):
        raise ApiError(401, "An admin token is required: Authorization: Bearer <token>.")


AdminToken = Depends(require_admin_token)


# Who is at the desk.


class LoginRequired(Exception):
    """A desk page was asked for without a live session: the app redirects to login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Staff:
    """The person (or script) at the desk, and the CSRF token their forms must carry."""

    user: User
    csrf: str
    via_token: bool = False

    @property
    def actor_kind(self) -> str:
        return "token" if self.via_token else "user"


async def _from_session(request: Request, rt: Runtime) -> Staff | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    found = await run_in_threadpool(accounts.session_user, rt.db, token, utcnow())
    return Staff(user=found[0], csrf=found[1]) if found else None


async def get_desk_staff(request: Request, rt: RuntimeDep) -> Staff:
    """For desk pages: the logged-in person, or a redirect to the login page and back."""
    staff = await _from_session(request, rt)
    if staff is None:
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return staff


DeskStaffDep = Annotated[Staff, Depends(get_desk_staff)]


async def get_api_staff(request: Request, rt: RuntimeDep) -> Staff:
    """For /api/v1/admin: a bearer token, or a desk session (then CSRF applies to writes)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = await run_in_threadpool(accounts.token_user, rt.db, header[7:].strip(), utcnow())
        if user is None:
            raise ApiError(
                401, "That API token is not valid.", headers={"WWW-Authenticate": "Bearer"}
            )
        return Staff(user=user, csrf="", via_token=True)
    staff = await _from_session(request, rt)
    if staff is None:
        raise ApiError(
            401,
            "Log in at /admin/login or send an API token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
        request.headers.get("x-csrf-token", ""), staff.csrf
    ):
        raise ApiError(403, "The X-CSRF-Token header is missing or wrong.")
    return staff


ApiStaffDep = Annotated[Staff, Depends(get_api_staff)]


def require_admin(staff: Staff) -> None:
    if not staff.user.is_admin:
        raise Forbidden("Only an admin can do that.")


async def get_api_admin(staff: ApiStaffDep) -> Staff:
    """For the admin calls only admins may make: as `get_api_staff`, then 403 for others."""
    require_admin(staff)
    return staff


ApiAdminDep = Annotated[Staff, Depends(get_api_admin)]


def check_csrf(staff: Staff, submitted: str) -> None:
    """A desk form's token must be the session's; otherwise nothing happens (403)."""
    if staff.via_token:
        return
    if not submitted or not secrets.compare_digest(submitted, staff.csrf):
        raise Forbidden(
            "This form has expired or did not come from the desk; reload and try again."
        )
