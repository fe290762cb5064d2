"""Who a request comes from: the client behind trusted proxies, and the networks it counts as.

Every per-address limit (checks, logins, reports, posting) counts a client by `networks_of`:
an IPv4 address alone, an IPv6 address by its /64 (one subscriber's line or host: SLAAC and
privacy extensions hand out addresses across the whole /64, so counting single addresses
limits nothing), and a wider group beside it, the IPv4 /24 or the IPv6 /48 (one site's
allocation), which gets a larger budget of its own so that rotating across many addresses
of one network does not multiply an allowance without end.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ADDRESS_PREFIX = {4: 32, 6: 64}
GROUP_PREFIX = {4: 24, 6: 48}


@dataclass(frozen=True)
class Networks:
    """What a client is counted as: `address` (IPv4 /32 or IPv6 /64) and its wider `group`
    (IPv4 /24 or IPv6 /48), as text. A peer that is not an IP address (a test client, a Unix
    socket) is its own address and group."""

    address: str
    group: str


def networks_of(host: str) -> Networks:
    """The networks a client address is counted in (the one helper every limit uses)."""
    address = parse_address(host)
    if address is None:
        return Networks(address=host, group=host)
    group = ipaddress.ip_network(f"{address}/{GROUP_PREFIX[address.version]}", strict=False)
    if address.version == 4:
        return Networks(address=str(address), group=str(group))
    line = ipaddress.ip_network(f"{address}/{ADDRESS_PREFIX[6]}", strict=False)
    return Networks(address=str(line), group=str(group))


def parse_address(text: str) -> Address | None:
    """An address as a header or a socket gives it (with a port, in brackets, IPv4 mapped
    into IPv6), or None when it is not one."""
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def parse_networks(spec: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks (`10.0.0.1, 10.1.0.0/16, ::1`); ValueError
    names the first entry that is neither."""
    found = []
    for entry in spec.split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or a CIDR network") from None
    return tuple(found)


def is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(
    peer: str,
    trusted: Sequence[Network],
    *,
    forwarded: Iterable[str] = (),
    x_forwarded_for: Iterable[str] = (),
) -> str:
    """The client's address: the socket `peer`, unless the peer is a trusted proxy; then the
    forwarding chain (`Forwarded` if the request has it, else `X-Forwarded-For`, every line of
    the header in order) is walked from the right, past every trusted hop, and the first
    address not trusted is the client. A hop a trusted proxy names but that is no address
    ("unknown", an obfuscated name) stops the walk at that proxy: it is the best we know. A
    chain of trusted proxies only gives its leftmost address."""
    current = parse_address(peer)
    if current is None or not trusted or not is_trusted(current, trusted):
        return str(current) if current is not None else peer
    forwarded = list(forwarded)
    hops = _forwarded_for(forwarded) if forwarded else _x_forwarded_for(x_forwarded_for)
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not is_trusted(current, trusted):
            break
    return str(current)


def _x_forwarded_for(lines: Iterable[str]) -> list[str]:
    return [hop.strip() for line in lines for hop in line.split(",") if hop.strip()]


def _forwarded_for(lines: Iterable[str]) -> list[str]:
    """The `for=` of each element of RFC 7239 `Forwarded` headers, in order ("" when an
    element has none, which stops the walk there)."""
    hops = []
    for line in lines:
        for element in line.split(","):
            value = ""
            for pair in element.split(";"):
                name, _, found = pair.partition("=")
                if name.strip().lower() == "for":
                    value = found.strip()
            hops.append(value)
    return hops
