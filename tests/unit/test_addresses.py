"""Which client a request comes from, and which networks a limit counts it in."""

from __future__ import annotations

import pytest

from rejoinder.core.addresses import client_address, networks_of, parse_address, parse_networks

PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8, fd00::/8")


def test_ipv6_addresses_of_one_64_are_one_address_and_ipv4_stays_single() -> None:
    one = networks_of("2001:db8:1:2::1")
    other = networks_of("2001:db8:1:2:ffff:ffff:ffff:fffe")
    assert one == other
    assert one.address == "2001:db8:1:2::/64" and one.group == "2001:db8:1::/48"
    assert networks_of("2001:db8:1:3::1").address != one.address  # the next /64: another line
    assert networks_of("2001:db8:1:3::1").group == one.group  # ... of the same /48
    assert networks_of("192.0.2.7").address == "192.0.2.7"
    assert networks_of("192.0.2.8").address == "192.0.2.8"
    assert networks_of("192.0.2.7").group == networks_of("192.0.2.200").group == "192.0.2.0/24"


def test_ipv4_mapped_ipv6_and_ports_are_the_ipv4_address() -> None:
    assert networks_of("::ffff:192.0.2.7") == networks_of("192.0.2.7")
    assert str(parse_address("192.0.2.7:4711")) == "192.0.2.7"
    assert str(parse_address('"[2001:db8::17]:4711"')) == "2001:db8::17"
    assert parse_address("unknown") is None and parse_address("_hidden") is None


def test_a_peer_that_is_no_address_is_its_own_network() -> None:
    assert networks_of("testclient").address == networks_of("testclient").group == "testclient"


def test_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    spoof = {"x_forwarded_for": ["198.51.100.9"], "forwarded": ["for=198.51.100.9"]}
    assert client_address("203.0.113.5", PROXIES, **spoof) == "203.0.113.5"
    assert client_address("127.0.0.1", (), **spoof) == "127.0.0.1"  # nothing trusted
    assert client_address("127.0.0.1", PROXIES, x_forwarded_for=["198.51.100.9"]) == (
        "198.51.100.9"
    )


def test_the_chain_is_walked_from_the_right_past_trusted_hops_only() -> None:
    # The client put a forged address first; our two proxies appended what they saw.
    chain = ["6.6.6.6, 198.51.100.9, 10.1.2.3"]
    assert client_address("127.0.0.1", PROXIES, x_forwarded_for=chain) == "198.51.100.9"
    # Two header lines are one list, in order.
    lines = ["6.6.6.6", "198.51.100.9, 10.1.2.3"]
    assert client_address("127.0.0.1", PROXIES, x_forwarded_for=lines) == "198.51.100.9"
    # Only trusted hops: the leftmost is the best we know.
    assert client_address("127.0.0.1", PROXIES, x_forwarded_for=["10.9.9.9"]) == "10.9.9.9"
    # A trusted proxy passing on garbage: we stop at that proxy.
    assert client_address("127.0.0.1", PROXIES, x_forwarded_for=["unknown"]) == "127.0.0.1"


def test_forwarded_is_read_before_x_forwarded_for() -> None:
    forwarded = ['for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2']
    found = client_address(
        "fd00::1", PROXIES, forwarded=forwarded, x_forwarded_for=["198.51.100.1"]
    )
    assert found == "2001:db8:cafe::17"
    assert client_address("127.0.0.1", PROXIES, forwarded=["proto=https"]) == "127.0.0.1"


def test_trusted_proxies_setting_refuses_what_is_not_a_network() -> None:
    from pydantic import ValidationError

    from rejoinder.settings import Settings

    assert Settings(trusted_proxies="10.0.0.1, 192.168.0.0/16, ::1").trusted_proxies
    with pytest.raises(ValidationError, match=r"proxy\.example"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")
