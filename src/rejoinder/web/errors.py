"""The one error shape, {"error", "field", "message"}, built here and nowhere else."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match

from rejoinder.core.errors import (
    Closed,
    Conflict,
    Forbidden,
    Invalid,
    InvalidMany,
    NotFound,
    Refused,
    RejoinderError,
    Unavailable,
)
from rejoinder.core.messages import N_, Message
from rejoinder.web.i18n import SOURCE_LANGUAGE, Language, language_of
from rejoinder.web.schemas import ErrorOut

log = logging.getLogger("rejoinder.web")
NOTHING_HERE = N_("There is nothing at this address.")
WENT_WRONG = N_("Something went wrong on our side; nothing was saved.")

STATUS: dict[type[RejoinderError], int] = {
    Invalid: 422,
    InvalidMany: 422,
    NotFound: 404,
    Closed: 403,
    Forbidden: 403,
    Conflict: 409,
    Unavailable: 503,
}
_HTTP_NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


_MEANINGS = {
    400: "The body is not JSON.",
    401: "No valid API token or desk session.",
    403: "Not allowed: not yours, closed, banned, not an admin, or a wrong CSRF token.",
    404: "No such article, comment, site or queue.",
    409: "The state changed meanwhile, or the thing exists already.",
    413: "The body is over this address's size limit.",
    415: "The body is not sent as application/json.",
    422: "A parameter or a field is invalid; field names it.",
    429: "Too many requests; Retry-After says when to try again.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a group of routes: each status in the one error shape."""
    return {status: {"model": ErrorOut, "description": _MEANINGS[status]} for status in statuses}


# What the public API and the admin API may answer besides success, declared on their routes
# once (tests/unit/test_openapi.py checks that no operation with input lacks 422).
API_ERRORS = error_responses(400, 403, 404, 409, 413, 415, 422, 429)
ADMIN_API_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 415, 422)


class ApiError(Exception):
    """An error the web layer itself finds (wrong content type, bad token, bad JSON)."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(error: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": error, "field": field, "message": message}


def json_error(status: int, error: str, message: str, field: str | None = None) -> Response:
    return Response(
        orjson.dumps(error_body(error, message, field)),
        status_code=status,
        media_type="application/json",
    )


def status_of(error: RejoinderError) -> int:
    if isinstance(error, Refused):
        return 429 if error.retry_after else 403 if error.banned else 422
    return STATUS.get(type(error), 400)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/embed/"))


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path. FastAPI makes one route per method, and
    Starlette's 405 names only the first route's; routes are asked, method by method, since
    an included router answers for the routes inside it."""
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    )


def _language(request: Request) -> Language:
    """The reader's language for an error; English if even that cannot be worked out."""
    try:
        return language_of(request)
    except Exception:
        log.exception("no language for an error page")
        return Language(SOURCE_LANGUAGE)


def _html_error(request: Request, status: int, message: str | Message) -> Response:
    render = request.app.state.render
    language = _language(request)
    body = render("error.html", lang=language.code, status=status, message=language.say(message))
    return HTMLResponse(body, status_code=status, headers={"Vary": "Accept-Language"})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RejoinderError)
    async def _domain(request: Request, exc: RejoinderError) -> Response:
        status = status_of(exc)
        if _wants_json(request):
            # The message in the reader's language (the widget shows it beside its field); the
            # error code and the field stay the same in every language.
            message = _language(request).say(exc.text)
            response = json_error(status, exc.code, message, exc.field)
            response.headers["Vary"] = "Accept-Language"
        else:
            response = _html_error(request, status, exc.text)
        if isinstance(exc, Refused) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        response = json_error(
            exc.status, _HTTP_NAMES.get(exc.status, "error"), exc.message, exc.field
        )
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        kind = str(first.get("type", ""))
        # loc is where, then which field: ("body", "body") is the field called body.
        location = [str(part) for part in first.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header", "cookie"):
            location = location[1:]
        field = location[-1] if location else None
        if kind == "json_invalid":
            return json_error(400, "bad_request", "The request body is not valid JSON.", None)
        if kind == "missing":
            message = f"{field or 'A field'} is required."
        else:
            message = f"{field or 'The request'}: {first.get('msg', 'is invalid')}."
        if not _wants_json(request):
            return _html_error(request, 422, message)
        return json_error(422, "invalid", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message: str | Message = str(exc.detail) if exc.detail else "Error."
        if exc.status_code == 404:
            message = NOTHING_HERE
        elif exc.status_code == 400 and _wants_json(request):
            message = "The request body could not be read: it must be JSON in UTF-8."
        elif exc.status_code == 405:
            message = "This address does not accept that method."
        if _wants_json(request) or exc.status_code == 405:
            response = json_error(
                exc.status_code, _HTTP_NAMES.get(exc.status_code, "error"), str(message)
            )
        else:
            response = _html_error(request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(request) or response.headers.get(
                "Allow", ""
            )
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return json_error(500, "internal", str(WENT_WRONG))
        try:
            return _html_error(request, 500, WENT_WRONG)
        except Exception:  # the page itself failed to render: plain text, still no traceback
            log.exception("the error page failed to render")
            return Response(str(WENT_WRONG), status_code=500, media_type="text/plain")
