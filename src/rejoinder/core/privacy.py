"""A reader's rights over what is held about their address: the pure rules of erasure and of
the retention period (the store applies them; `usecases/privacy.py` runs them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from rejoinder.core.models import Status

ANONYMOUS = "Anonymous"  # the name an anonymised comment shows


class ErasureMode(enum.StrEnum):
    """What erasing a commenter does to their comments (the `erasure` setting)."""

    REMOVE = "remove"  # the text and the writer go; replies keep "[deleted]" in its place
    ANONYMISE = "anonymise"  # the text stays, without its writer


# The comments whose personal data the retention period bounds: never published, or taken off.
RETAINED = (Status.HELD, Status.REJECTED)


def removed_status(status: Status, has_shown_replies: bool) -> Status:
    """A removed comment's status: with replies on the page it keeps its place (as "[deleted]",
    or as the moderator's placeholder for a rejected one); otherwise it leaves the thread."""
    if not has_shown_replies:
        return Status.WITHDRAWN
    return Status.REJECTED if status is Status.REJECTED else Status.DELETED


def purged_status(status: Status) -> Status:
    """A held comment past the retention period leaves the desk's queue: nothing is left to
    judge. A rejected one stays rejected (its placeholder may hold a thread's shape)."""
    return Status.WITHDRAWN if status is Status.HELD else status


@dataclass(frozen=True)
class Erased:
    """What an erasure changed, by kind (no personal value among them: this goes in the
    audit log)."""

    comments: int = 0
    tables: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"comments": self.comments, **self.tables}
