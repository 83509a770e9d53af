"""Where a webhook may go: endpoints are registered by organisations, so by default no request
goes to an address inside our network (loopback, private, link-local, cloud metadata), and the
connection goes to the very address that was checked."""

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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


def is_public_address(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def refuse_internal_url(url: str) -> None:
    """At registration: refuse a URL that names an internal address outright (a loopback,
    private or link-local IP, or `localhost`), so the caller learns it now rather than from
    failed deliveries. Names that resolve inward are refused at each delivery attempt; no
    lookup is made here, inside a request."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        internal = not is_public_address(host)
    except ValueError:  # a name, not an address
        internal = host == "localhost" or host.endswith(".localhost")
    if internal:
        raise TargetRefused(REFUSED_ADDRESS)


def pin_public_target(url: str) -> Target:
    """Resolve the host once, check every address, and connect to the checked one.

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
    refuse_internal_url(url)
    try:
        ipaddress.ip_address(host.strip("[]"))
        return Target(url)  # a public address already: nothing to look up, nothing to rebind
    except ValueError:
        pass  # a name
    try:
        infos = socket.getaddrinfo(
            host, parsed.port or (443 if parsed.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"host could not be resolved: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise TargetRefused(REFUSED_ADDRESS)
    address = addresses[0].split("%", 1)[0]
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    headers, extensions = {"host": host_header}, {}
    if parsed.scheme == "https":
        # Connections are pooled per address; one verified for another name must not be reused.
        headers["connection"] = "close"
        extensions["sni_hostname"] = host
    return Target(str(parsed.copy_with(host=address)), headers, extensions)
