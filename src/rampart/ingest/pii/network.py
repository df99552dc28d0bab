"""Non-identifying features of a client IP address.

The full address is PII and is stored only as a pseudonym (``Pseudonymizer.token("ip", ...)``).
Its network prefixes are kept in clear: DESIGN.md lists IP /24 and /16 prefixes as derived
features, because a /24 is shared by up to 256 hosts (an office, a mobile carrier's NAT pool, a
hosting block) and says which network, not which person; subnet rotation and datacenter blocks
are only visible at that level.

- ``prefix_narrow``: IPv4 /24, IPv6 /64 (one LAN or one subscriber line);
- ``prefix_wide``: IPv4 /16, IPv6 /48 (one organisation or provider block).

IPv4-mapped IPv6 (``::ffff:a.b.c.d``) is treated as the IPv4 address it carries.

>>> ip_features("203.0.113.7")
IpFeatures(valid=True, version=4, prefix_narrow='203.0.113.0/24', prefix_wide='203.0.0.0/16', \
is_private=True, is_global=False)
>>> ip_features("2001:db8:1:2:3::4").prefix_narrow, ip_features("2001:db8:1:2:3::4").prefix_wide
('2001:db8:1:2::/64', '2001:db8:1::/48')
>>> ip_features("999.1.1.1").valid, ip_features("8.8.8.8").is_global
(False, True)
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Final

import msgspec

CACHE_SIZE: Final = 1 << 16
MAX_INPUT_CHARS: Final = 64  # longest IPv6 text with a zone id is well under this


class IpFeatures(msgspec.Struct, frozen=True):
    """What Rampart keeps of an IP besides its pseudonym. ``version`` is 0 when invalid.

    ``is_private`` and ``is_global`` follow :mod:`ipaddress` (documentation ranges such as
    203.0.113.0/24 count as private there).
    """

    valid: bool
    version: int
    prefix_narrow: str | None
    prefix_wide: str | None
    is_private: bool
    is_global: bool


INVALID: Final = IpFeatures(False, 0, None, None, False, False)


@lru_cache(maxsize=CACHE_SIZE)
def ip_features(ip: str) -> IpFeatures:
    """Features of ``ip`` (surrounding whitespace ignored). Never raises: garbage is invalid.

    >>> ip_features(" 10.1.2.3 ").is_private, ip_features("::ffff:10.1.2.3").version
    (True, 4)
    """
    text = ip.strip()
    if len(text) > MAX_INPUT_CHARS:
        return INVALID
    if ":" not in text:
        return _ipv4(text)
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return INVALID
    if address.ipv4_mapped is not None:
        return _ipv4(str(address.ipv4_mapped))
    value = int(address)
    if value >> 112 in _IRREGULAR_V6_TOP16:
        return _ipv6_block(value >> 64, address.is_private, address.is_global)
    return _ipv6_regular_block(value >> 64)


# Features depend only on the /24 (/64), except for the address flags in the few blocks where
# ipaddress's special-purpose lists go finer than that: there the flags are computed per
# address. (Checked against ipaddress's own lists by the tests.) This makes a miss of the
# per-address cache cost one /24 or /64 cache hit instead of ~2 (IPv4) to ~20 µs (IPv6).
_IRREGULAR_V4_BLOCKS: Final = frozenset({0xC00000, 0xFFFFFF})  # 192.0.0.0/24, 255.255.255.0/24
# ::/16 holds ::1, ::ffff:0:0/96...; 2001::/16 the IETF /23 with /32 and /128 entries.
_IRREGULAR_V6_TOP16: Final = frozenset({0x0000, 0x0064, 0x0100, 0x2001, 0x2002})


def _ipv4(text: str) -> IpFeatures:
    # Splitting the string is ~4x cheaper than parsing it with ipaddress; the checks are the
    # ones ipaddress makes (four decimal octets <= 255, no leading zeros, which some libcs
    # would read as octal).
    parts = text.split(".")
    if len(parts) != 4:
        return INVALID
    value = 0
    for part in parts:
        if not (0 < len(part) <= 3 and part.isascii() and part.isdigit()):
            return INVALID
        if part[0] == "0" and len(part) > 1:
            return INVALID
        octet = int(part)
        if octet > 255:
            return INVALID
        value = value << 8 | octet
    if value >> 8 in _IRREGULAR_V4_BLOCKS:
        address = ipaddress.IPv4Address(value)
        return _ipv4_block(value >> 8, address.is_private, address.is_global)
    return _ipv4_regular_block(value >> 8)


@lru_cache(maxsize=CACHE_SIZE)
def _ipv4_regular_block(block: int) -> IpFeatures:
    address = ipaddress.IPv4Address(block << 8)
    return _ipv4_block(block, address.is_private, address.is_global)


def _ipv4_block(block: int, is_private: bool, is_global: bool) -> IpFeatures:
    a, b, c = block >> 16, block >> 8 & 0xFF, block & 0xFF
    return IpFeatures(True, 4, f"{a}.{b}.{c}.0/24", f"{a}.{b}.0.0/16", is_private, is_global)


@lru_cache(maxsize=CACHE_SIZE)
def _ipv6_regular_block(block: int) -> IpFeatures:
    address = ipaddress.IPv6Address(block << 64)
    return _ipv6_block(block, address.is_private, address.is_global)


def _ipv6_block(block: int, is_private: bool, is_global: bool) -> IpFeatures:
    narrow = ipaddress.IPv6Address(block << 64).compressed
    wide = ipaddress.IPv6Address(block >> 16 << 80).compressed
    return IpFeatures(True, 6, f"{narrow}/64", f"{wide}/48", is_private, is_global)
