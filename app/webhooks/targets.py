"""Where a webhook may go: endpoints are registered by organisations, so by default no request
goes to an address inside our network (loopback, private, link-local, cloud metadata), and the
connection goes to the very address that was checked. Where private targets are allowed (the
demo, development), link-local addresses and cloud metadata services stay refused: they hold
the host's credentials, and no receiver of ours lives there."""

import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

REFUSED_ADDRESS = "target address not allowed (not a public internet address)"


class TargetRefused(Exception):
    """The URL may not be called; the message is the reason recorded for the attempt."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where an attempt connects: the URL, plus the Host header and TLS name when pinned."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


# IPv6 ranges that are never a public receiver, whatever they embed: IPv4-compatible (::/96,
# deprecated, still routed by some stacks), Teredo (its client address is obfuscated), NAT64's
# local-use prefix (translated by a gateway inside the network, RFC 8215), and site-local.
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(n) for n in ("::/96", "2001::/32", "64:ff9b:1::/48", "fec0::/10")
)
# IPv6 ranges that carry an IPv4 address in their last 32 bits and reach it by translation:
# IPv4-mapped, IPv4-translated (SIIT) and NAT64's well-known prefix (RFC 6052). Such an address
# is as public as the IPv4 address it carries (DNS64 answers these on IPv6-only networks).
_TRANSLATED_V6 = tuple(
    ipaddress.IPv6Network(n) for n in ("::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# Cloud metadata services outside link-local: AWS's IPv6 endpoint (a unique-local address).
_METADATA = (ipaddress.IPv6Address("fd00:ec2::254"),)
_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address, with what IPv6 embeds or translates to judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _REFUSED_V6):
            return False
        if any(address in network for network in _TRANSLATED_V6):
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:  # 2002::/16 routes to the IPv4 address it carries
            return is_public(address.sixtofour)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def is_never_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Refused even where private targets are allowed: link-local (169.254.0.0/16 holds the
    cloud metadata services, fe80::/10), a known metadata address, or the unspecified address,
    also when an IPv6 form carries or translates to such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _TRANSLATED_V6 + _REFUSED_V6[:1]):
            return is_never_allowed(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            return is_never_allowed(address.sixtofour)
        if address.teredo is not None:
            return is_never_allowed(address.teredo[1])
    return address.is_link_local or address.is_unspecified or address in _METADATA


def is_allowed(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool = False
) -> bool:
    """Whether a request may go to `address`: a public one, or with `allow_private` any but
    those `is_never_allowed` names."""
    return not is_never_allowed(address) if allow_private else is_public(address)


def is_public_address(address: str, allow_private: bool = False) -> bool:
    """`is_allowed` for an address as a resolver returns it (an IPv6 zone is ignored)."""
    return is_allowed(ipaddress.ip_address(address.split("%", 1)[0]), allow_private)


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host written as numbers means, the way inet_aton and the WHATWG URL
    standard read it: one to four parts, each decimal, octal (leading 0) or hex (0x), the last
    filling the remaining bytes (`127.1`, `0x7f.1`, `0177.0.0.1`, `2130706433`). None when the
    host does not end in a number (a name); TargetRefused when it does but is no address."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot
    if not _NUMBER.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMBER.match(p) for p in parts):
        raise TargetRefused("not a valid address")
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise TargetRefused("not a valid address")
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise TargetRefused("not a valid address")
    value = last
    for position, number in enumerate(leading):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def canonical_host(url: str) -> str:
    """The URL's host as a resolver would see it: percent-decoded, NFKC-normalised (full-width
    digits become digits), other dots as dots, lower case, without a trailing dot or an IPv6
    zone."""
    host = urlsplit(url).hostname or ""
    host = unicodedata.normalize("NFKC", unquote(host)).translate(_DOTS).lower()
    return host.split("%", 1)[0].rstrip(".")


def refuse_internal_url(url: str, allow_private: bool = False) -> None:
    """At registration (and before each attempt): refuse a URL whose host is an internal
    address in any notation (IPv4 in integer, octal, hex or short form, IPv6 that maps or
    translates to internal IPv4, Teredo, ...) or `localhost`, so the caller learns it now
    rather than from failed deliveries. With `allow_private` only link-local and metadata
    addresses are refused (`is_never_allowed`). Names that resolve inward are refused at each
    delivery attempt; no lookup is made here, inside a request."""
    host = canonical_host(url)
    if not host:
        raise TargetRefused("the URL has no host")
    if ":" in host:
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
            address = ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise TargetRefused("not a valid address") from exc
    else:
        address = parse_ipv4(host)
    if address is not None:
        if not is_allowed(address, allow_private):
            raise TargetRefused(REFUSED_ADDRESS)
    elif not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise TargetRefused(REFUSED_ADDRESS)


def pin_public_target(url: str, allow_private: bool = False) -> Target:
    """Resolve the host once, check every address (`is_allowed`), and connect to the checked
    one.

    The URL's host is replaced by that address while the Host header and the TLS server name
    (certificate check included) keep the original name. A resolver that answers differently
    between the check and the connection (DNS rebinding) therefore cannot send the request
    inward: there is no second lookup.
    """
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise TargetRefused(f"invalid URL: {exc}") from exc
    if not host:
        raise TargetRefused("the URL has no host")
    refuse_internal_url(url, allow_private)
    try:
        ipaddress.ip_address(host.strip("[]"))
        return Target(url)  # a public address already: nothing to look up, nothing to rebind
    except ValueError:
        pass  # a name, or an address in a form only the resolver reads: look it up and check
    try:
        infos = socket.getaddrinfo(
            host, parsed.port or (443 if parsed.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"host could not be resolved: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public_address(a, allow_private) for a in addresses):
        raise TargetRefused(REFUSED_ADDRESS)
    address = addresses[0].split("%", 1)[0]
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    headers, extensions = {"host": host_header}, {}
    if parsed.scheme == "https":
        # Connections are pooled per address; one verified for another name must not be reused.
        headers["connection"] = "close"
        extensions["sni_hostname"] = host
    return Target(str(parsed.copy_with(host=address)), headers, extensions)
