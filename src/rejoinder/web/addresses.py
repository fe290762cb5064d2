"""The client's address, read in one place, and kept only as keyed hashes of its networks.

`client_host` is the only reader of a request's address: the socket's peer, or, when the
peer is one of `REJOINDER_TRUSTED_PROXIES`, the client the forwarding headers name (see
`rejoinder.core.addresses.client_address`). uvicorn's own proxy-header handling is off
(`rejoinder serve` runs it with `proxy_headers=False`), so a header is believed only here.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from starlette.requests import Request

from rejoinder.core.addresses import Network, client_address, networks_of, parse_networks


@cache
def _trusted(spec: str) -> tuple[Network, ...]:
    return parse_networks(spec)


def client_host(request: Request) -> str:
    """The client's address as this server may believe it."""
    peer = request.client.host if request.client else ""
    trusted = _trusted(request.app.state.runtime.settings.trusted_proxies)
    if not trusted:
        return peer
    return client_address(
        peer,
        trusted,
        forwarded=request.headers.getlist("forwarded"),
        x_forwarded_for=request.headers.getlist("x-forwarded-for"),
    )


def address_hashes(secret: str, request: Request) -> tuple[str, str]:
    """(HMAC of the client's address, HMAC of its group): IPv4 /32 and /24, IPv6 /64 and /48
    (`networks_of`). Never the address. Every per-address limit counts these."""
    networks = networks_of(client_host(request))
    return _mac(secret, f"addr:{networks.address}"), _mac(secret, f"group:{networks.group}")


def _mac(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
