"""Who wrote what, without accounts: signed cookies the commenter's browser keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

OWN_COOKIE = "rj_own"
AUTHOR_COOKIE = "rj_author"
_MAX_OWNED = 40  # the newest comments a browser can still edit; older ones are past the window


@dataclass(frozen=True)
class Author:
    """What the form remembers for next time, as WordPress does."""

    name: str = ""
    email: str = ""
    website: str = ""


class Identity:
    def __init__(self, secret: str, *, window_seconds: int, secure: bool) -> None:
        self._form = URLSafeTimedSerializer(secret, salt="rejoinder.form")
        self._own = URLSafeTimedSerializer(secret, salt="rejoinder.own")
        self._author = URLSafeTimedSerializer(secret, salt="rejoinder.author")
        self._window = window_seconds
        self._secure = secure

    def form_token(self, now: datetime) -> str:
        """A signed timestamp for the comment form: a form posted seconds after it was made
        was filled in by a program. Works without JavaScript."""
        return self._form.dumps(int(now.timestamp()))

    def form_issued_at(self, token: str) -> datetime | None:
        """When the form was made, or None if the token is missing or forged."""
        if not token:
            return None
        try:
            seconds = self._form.loads(token)
        except BadSignature:
            return None
        if not isinstance(seconds, int):
            return None
        return datetime.fromtimestamp(seconds, UTC)

    def owned(self, request: Request) -> frozenset[int]:
        """Comment ids this browser wrote within the edit window (a bad cookie owns nothing)."""
        raw = request.cookies.get(OWN_COOKIE)
        if not raw:
            return frozenset()
        try:
            ids = self._own.loads(raw, max_age=self._window + 60)
        except BadSignature:
            return frozenset()
        return frozenset(i for i in ids if isinstance(i, int))

    def add_owned(self, request: Request, response: Response, comment_id: int) -> None:
        ids = sorted(self.owned(request) | {comment_id})[-_MAX_OWNED:]
        response.set_cookie(
            OWN_COOKIE,
            self._own.dumps(ids),
            max_age=self._window + 60,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )

    def author(self, request: Request) -> Author:
        raw = request.cookies.get(AUTHOR_COOKIE)
        if not raw:
            return Author()
        try:
            values = self._author.loads(raw, max_age=365 * 86400)
        except BadSignature:
            return Author()
        if not isinstance(values, dict):
            return Author()
        return Author(**{k: str(values.get(k, "")) for k in ("name", "email", "website")})

    def remember_author(self, response: Response, author: Author) -> None:
        response.set_cookie(
            AUTHOR_COOKIE,
            self._author.dumps(
                {"name": author.name, "email": author.email, "website": author.website}
            ),
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
