"""Verified addresses: the signed, expiring link that confirms an address."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

from rejoinder.core.emails import normal_address
from rejoinder.core.errors import Invalid
from rejoinder.core.messages import N_

# How long a confirmation link works, counted from when its mail was made.
LINK_DAYS = 7
_SALT = "rejoinder.confirm-address"


def confirmation_token(secret: str, address: str, site_id: int) -> str:
    """The signed token of a confirmation link: the normalised address and the site."""
    signer = URLSafeTimedSerializer(secret, salt=_SALT)
    return signer.dumps({"a": normal_address(address), "s": site_id})


def read_confirmation_token(secret: str, token: str) -> tuple[str, int]:
    """(normalised address, site id) of a valid, unexpired token; Invalid otherwise."""
    signer = URLSafeTimedSerializer(secret, salt=_SALT)
    try:
        data = signer.loads(token, max_age=LINK_DAYS * 24 * 3600)
    except BadSignature:
        raise Invalid(
            "token",
            N_("This confirmation link is not valid or has expired; post again to get a new one."),
        ) from None
    return str(data["a"]), int(data["s"])
