"""Who wrote what, without accounts: cookies the commenter's browser keeps.

The comment ids a browser may edit and the form's timestamp are signed (itsdangerous): they
say nothing about the writer. The name, email and website the form remembers are personal,
so that cookie is encrypted (Fernet, with a key derived from the secret key): the browser
keeps it but cannot read it, and neither can anyone who copies it off the disk.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

OWN_COOKIE = "rj_own"
AUTHOR_COOKIE = "rj_author"
VERIFIED_COOKIE = "rj_verified"
_MAX_PROVEN = 5  # addresses one browser proves at once; the newest confirmed are kept
_PROOF_SECONDS = 365 * 86400
_MAX_OWNED = 40  # the newest comments a browser can still edit; older ones are past the window
_AUTHOR_SECONDS = 365 * 86400

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


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
        self._edit = URLSafeTimedSerializer(secret, salt="rejoinder.edit")
        self._proof = URLSafeTimedSerializer(secret, salt="rejoinder.verified")
        self._secret = secret
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

    def edit_token(self, comment_id: int) -> str:
        """What the widget keeps instead of a cookie (a third-party cookie would not be kept):
        a signed comment id, sent back in a header to edit or delete within the window."""
        return self._edit.dumps(comment_id)

    def edit_owned(self, token: str | None) -> frozenset[int]:
        """The comment an edit token is for, within the window (a bad token owns nothing)."""
        if not token:
            return frozenset()
        try:
            comment_id = self._edit.loads(token, max_age=self._window + 60)
        except BadSignature:
            return frozenset()
        return frozenset((comment_id,)) if isinstance(comment_id, int) else frozenset()

    def proof_token(self, addresses: list[str]) -> str:
        """The signed list of the addresses (normal forms) a browser confirmed: the cookie's
        value, and what the widget keeps and sends back in a header."""
        return self._proof.dumps(addresses[-_MAX_PROVEN:])

    def _proof_of(self, token: str | None) -> list[str]:
        if not token:
            return []
        try:
            addresses = self._proof.loads(token, max_age=_PROOF_SECONDS)
        except BadSignature:
            return []
        if not isinstance(addresses, list):
            return []
        return [a for a in addresses if isinstance(a, str)]

    def proven(self, request: Request, header: str | None = None) -> frozenset[str]:
        """The addresses this browser proves it confirmed: from its cookie, and from the
        widget's header (named by the caller); a bad proof proves nothing."""
        found = self._proof_of(request.cookies.get(VERIFIED_COOKIE))
        if header:
            found += self._proof_of(request.headers.get(header))
        return frozenset(found)

    def proof_with(self, request: Request, address: str) -> str:
        """The browser's proof (its cookie's) with a just-confirmed address added."""
        kept = [a for a in self._proof_of(request.cookies.get(VERIFIED_COOKIE)) if a != address]
        return self.proof_token([*kept, address])

    def keep_proof(self, response: Response, token: str) -> None:
        """Give the browser its proof as a cookie (the article pages send it back)."""
        response.set_cookie(
            VERIFIED_COOKIE,
            token,
            max_age=_PROOF_SECONDS,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )

    @cached_property
    def _author(self) -> Fernet:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives.hashes import SHA256
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        derive = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"rejoinder.author")
        return Fernet(base64.urlsafe_b64encode(derive.derive(self._secret.encode())))

    def author(self, request: Request) -> Author:
        from cryptography.fernet import InvalidToken

        raw = request.cookies.get(AUTHOR_COOKIE)
        if not raw:
            return Author()
        try:
            values = json.loads(self._author.decrypt(raw.encode("ascii"), ttl=_AUTHOR_SECONDS))
        except (InvalidToken, UnicodeError, ValueError):
            return Author()  # forged, expired, or from before the cookie was encrypted
        if not isinstance(values, dict):
            return Author()
        return Author(**{k: str(values.get(k, "")) for k in ("name", "email", "website")})

    def remember_author(self, response: Response, author: Author) -> None:
        values = {"name": author.name, "email": author.email, "website": author.website}
        response.set_cookie(
            AUTHOR_COOKIE,
            self._author.encrypt(json.dumps(values).encode()).decode("ascii"),
            max_age=_AUTHOR_SECONDS,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
