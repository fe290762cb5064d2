"""Email addresses as Rejoinder compares them: one normal form for every lookup by address
(trust, history, flood and duplicate checks, verification, the outbox)."""

from __future__ import annotations

import unicodedata


def normal_address(address: str) -> str:
    """The address as it is compared and stored for lookups: surrounding space dropped,
    NFC, then case-folded as a whole (so "Ada@Example.org" and "ada@example.org" are one
    writer). Mail is still sent to the address as given."""
    return unicodedata.normalize("NFC", address.strip()).casefold()
