"""SSRF guard for webhook URLs.

A webhook URL is chosen by an integrator, so without a guard it could make Safeguard call its own
database, a cloud metadata service (169.254.169.254) or anything else on the internal network. By default
every address that is not globally routable is refused: private (10/8, 172.16/12, 192.168/16, fc00::/7),
loopback, link-local, carrier-grade NAT (100.64/10), multicast, reserved and unspecified, IPv4 mapped into
IPv6 included. ``SAFEGUARD_WEBHOOK_ALLOW_NETWORKS`` lists CIDRs to allow anyway (an on-premises receiver;
tests allow ``127.0.0.0/8``).

The check runs when the endpoint is saved and again on every delivery, against the addresses the name
resolves to at that moment; the delivery then connects to the checked address itself (``resolve``), so a
DNS answer that changes between the check and the connection (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from safeguard.actions.errors import UnsafeWebhookUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
CGNAT = ipaddress.ip_network("100.64.0.0/10")
# IPv6 forms that carry an IPv4 address a gateway or the kernel may translate and connect to: NAT64 (RFC 6052
# well-known and local-use prefixes), 6to4 (RFC 3056), IPv4-compatible (::a.b.c.d, deprecated but still
# routed by some stacks) and IPv4-translated (::ffff:0:a.b.c.d, RFC 2765). The embedded IPv4 address is
# checked as if it were the target.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"),)
# The local-use NAT64 prefix (RFC 8215) embeds IPv4 at an operator-chosen length: refuse it whole.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    address: IPAddress


def parse_networks(cidrs: Sequence[str]) -> list[IPNetwork]:
    try:
        return [ipaddress.ip_network(c, strict=False) for c in cidrs]
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"bad network in SAFEGUARD_WEBHOOK_ALLOW_NETWORKS: {exc}") from exc


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for when a translator or tunnel would reach it, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in NAT64):
        return low32
    if address in IPV4_TRANSLATED:
        return low32
    # :: and ::1 are the IPv6 unspecified and loopback addresses, not IPv4-compatible ones.
    if address in IPV4_COMPATIBLE and int(address) > 1:
        return low32
    return None


def is_denied(address: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            # The packet ends at the embedded IPv4 address, so that is the one to judge.
            address = inner
        elif address in LOCAL_NAT64:
            return not any(address in net for net in allowed if net.version == 6)
    if any(address in net for net in allowed if net.version == address.version):
        return False
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return True
    return not address.is_global or address.is_multicast


def check_url_shape(url: str, *, allow_http: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"not a valid URL: {exc}", field="url") from exc
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes:
        hint = "" if allow_http else " (allow http:// with SAFEGUARD_WEBHOOK_ALLOW_HTTP=true)"
        raise UnsafeWebhookUrl(f"the URL must use {' or '.join(sorted(schemes))}{hint}", field="url")
    if not parts.hostname:
        raise UnsafeWebhookUrl("the URL has no host", field="url")
    if parts.username or parts.password:
        raise UnsafeWebhookUrl("the URL must not carry credentials", field="url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str, *, allow_http: bool, allow_networks: Sequence[str]) -> Target:
    """Resolve the URL's host and return an address that passes the guard; refuse if any does not."""
    scheme, host, port = check_url_shape(url, allow_http=allow_http)
    allowed = parse_networks(allow_networks)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeWebhookUrl(f"cannot resolve {host}", field="url") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeWebhookUrl(f"{host} has no address", field="url")
    denied = [a for a in addresses if is_denied(a, allowed)]
    if denied:
        raise UnsafeWebhookUrl(
            # The resolved address is not echoed: it would let an integrator map internal DNS.
            f"{host} resolves to a private, loopback, link-local or otherwise internal address; "
            "allow it with SAFEGUARD_WEBHOOK_ALLOW_NETWORKS if it is meant",
            field="url",
        )
    return Target(scheme, host, port, addresses[0])
