"""The one exception tree of the domain; the web layer maps it to one error shape.

RejoinderError
 ├── Invalid(field, message)      bad input, tied to a form field       -> 422 / 400
 ├── NotFound(what)               no such article or comment            -> 404
 ├── Closed(message)              comments closed on this article       -> 403 (field "body")
 ├── Forbidden(message)           not yours, or the edit window passed  -> 403
 └── Conflict(message)            the state changed under you           -> 409
"""

from __future__ import annotations

from rejoinder.core.messages import Message, as_message


class RejoinderError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"
    field: str | None = None

    def __init__(self, message: str | Message) -> None:
        # `message` is the English sentence; `text` the same as a message the web can say in
        # the reader's language.
        self.text = as_message(message)
        self.message = str(self.text)
        super().__init__(self.message)


class Invalid(RejoinderError):
    code = "invalid"

    def __init__(self, field: str, message: str | Message) -> None:
        super().__init__(message)
        self.field = field


class InvalidMany(RejoinderError):
    """Several field errors at once, for a form that shows each beside its field."""

    code = "invalid"

    def __init__(self, errors: list[Invalid]) -> None:
        super().__init__(errors[0].text)
        self.errors = errors
        self.field = errors[0].field


class NotFound(RejoinderError):
    code = "not_found"


class Closed(RejoinderError):
    code = "closed"
    field = "body"


class Forbidden(RejoinderError):
    code = "forbidden"


class Conflict(RejoinderError):
    code = "conflict"


class Unavailable(RejoinderError):
    """The store cannot answer: its tables are missing (a database never migrated)."""

    code = "unavailable"


class Refused(RejoinderError):
    """The moderation pipeline refused a submission; `reasons` name the words or the rule."""

    code = "refused"

    def __init__(
        self,
        message: str | Message,
        *,
        field: str = "body",
        reasons: tuple[dict[str, object], ...] = (),
        retry_after: int | None = None,
        banned: bool = False,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.reasons = reasons
        self.retry_after = retry_after
        self.banned = banned
