"""Commenters' addresses, kept only as keyed hashes: of the address and of its network."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from starlette.requests import Request


def address_hashes(secret: str, request: Request) -> tuple[str, str]:
    """(HMAC of the address, HMAC of its /24 for IPv4 or /48 for IPv6). Never the address."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _mac(secret, "addr:" + host), _mac(secret, "group:" + host)
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return _mac(secret, f"addr:{address}"), _mac(secret, f"group:{network}")


def _mac(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
