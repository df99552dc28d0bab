"""IP features, compared with the ipaddress module as the reference."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.ingest.pii.network import (
    _IRREGULAR_V4_BLOCKS,
    _IRREGULAR_V6_TOP16,
    INVALID,
    IpFeatures,
    ip_features,
)


def test_ipv4() -> None:
    assert ip_features("8.8.4.4") == IpFeatures(
        True, 4, "8.8.4.0/24", "8.8.0.0/16", is_private=False, is_global=True
    )


def test_ipv6() -> None:
    f = ip_features("2406:3003:2001:ABCD:1:2:3:4")
    assert f == IpFeatures(True, 6, "2406:3003:2001:abcd::/64", "2406:3003:2001::/48", False, True)


@pytest.mark.parametrize(
    ("ip", "version", "private"),
    [
        ("10.0.0.1", 4, True),
        ("192.168.1.1", 4, True),
        ("127.0.0.1", 4, True),
        ("100.64.0.1", 4, False),  # shared address space: neither private nor global
        ("::1", 6, True),
        ("fe80::1%eth0", 6, True),
        ("fd00::1", 6, True),
        ("::ffff:192.168.1.1", 4, True),
    ],
)
def test_special_addresses(ip: str, version: int, private: bool) -> None:
    f = ip_features(ip)
    assert (f.valid, f.version, f.is_private) == (True, version, private)
    assert f.is_global is False


def test_ipv4_mapped_is_the_ipv4_address() -> None:
    assert ip_features("::ffff:203.0.113.9") == ip_features("203.0.113.9")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " ",
        "abc",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.-4",
        "1.2.3.4/24",
        "1..2.3",
        "١.٢.٣.٤",  # Arabic-Indic digits
        "::g",
        "1:2:3:4:5:6:7:8:9",
        "2001:db8::1" * 10,
    ],
)
def test_invalid(bad: str) -> None:
    assert ip_features(bad) == INVALID


@given(st.ip_addresses(v=4))
def test_ipv4_matches_ipaddress(address: ipaddress.IPv4Address) -> None:
    f = ip_features(str(address))
    assert f.valid
    assert f.prefix_narrow == str(ipaddress.ip_network(f"{address}/24", strict=False))
    assert f.prefix_wide == str(ipaddress.ip_network(f"{address}/16", strict=False))
    assert (f.is_private, f.is_global) == (address.is_private, address.is_global)


SPECIAL_V4 = ["192.0.0.0/24", "100.64.0.0/10", "198.18.0.0/15", "255.255.255.0/24", "0.0.0.0/8"]


@given(st.sampled_from(SPECIAL_V4).flatmap(lambda net: st.ip_addresses(network=net)))
def test_ipv4_special_ranges_match_ipaddress(address: ipaddress.IPv4Address) -> None:
    f = ip_features(str(address))
    assert (f.is_private, f.is_global) == (address.is_private, address.is_global)


@given(st.ip_addresses(v=6))
def test_ipv6_matches_ipaddress(address: ipaddress.IPv6Address) -> None:
    f = ip_features(address.exploded)
    if address.ipv4_mapped is not None:
        assert f == ip_features(str(address.ipv4_mapped))
        return
    assert f.valid
    assert f.version == 6
    assert f.prefix_narrow == str(ipaddress.ip_network(f"{address}/64", strict=False))
    assert f.prefix_wide == str(ipaddress.ip_network(f"{address}/48", strict=False))
    assert (f.is_private, f.is_global) == (address.is_private, address.is_global)


SPECIAL_V6 = ["::/96", "2001::/23", "2001:db8::/32", "64:ff9b::/96", "100::/64", "2002::/16"]


@given(st.sampled_from(SPECIAL_V6).flatmap(lambda net: st.ip_addresses(network=net)))
def test_ipv6_special_ranges_match_ipaddress(address: ipaddress.IPv6Address) -> None:
    f = ip_features(str(address))
    if address.ipv4_mapped is None:
        assert (f.is_private, f.is_global) == (address.is_private, address.is_global)


def _special_networks(constants: object) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    # Private API, read only here: the tables ipaddress uses for is_private / is_global.
    names = ("_private_networks", "_private_networks_exceptions", "_public_network")
    found: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for name in names:
        value = getattr(constants, name, [])
        found.extend(value if isinstance(value, list) else [value])
    return found


def test_finer_special_networks_are_in_irregular_blocks() -> None:
    """The per-/24 and per-/64 flag caches are exact only outside the irregular blocks."""
    for net in _special_networks(ipaddress._IPv4Constants):  # type: ignore[attr-defined]
        if net.prefixlen > 24:
            assert int(net.network_address) >> 8 in _IRREGULAR_V4_BLOCKS, net
    for net in _special_networks(ipaddress._IPv6Constants):  # type: ignore[attr-defined]
        if net.prefixlen > 64:
            assert int(net.network_address) >> 112 in _IRREGULAR_V6_TOP16, net


@given(st.text(max_size=80))
def test_never_raises(text: str) -> None:
    f = ip_features(text)
    assert f.valid is (f.version in (4, 6))
