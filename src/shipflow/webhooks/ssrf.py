"""The SSRF guard: a subscription URL must not reach into our own networks.

A URL is refused when its host is, or resolves to, a private (RFC 1918, unique-local),
loopback, link-local (incl. cloud metadata 169.254.169.254), site-local, unspecified,
multicast or reserved address, unless the address lies in one of
``SHIPFLOW_WEBHOOK_ALLOWED_NETWORKS``. Only ``http`` and ``https`` are accepted.

**IPv6 transition addresses.** Some IPv6 prefixes carry an IPv4 address inside them, and a
relay or translator on the path (or the kernel, for an IPv4-mapped address) forwards the
packet to that IPv4 address. So for every IPv6 address we also check each IPv4 address it
embeds (:func:`embedded_ipv4`):

- ``::ffff:0:0/96`` (IPv4-mapped): the socket *is* an IPv4 socket to the embedded address,
  so only that address is judged (``::ffff:8.8.8.8`` is 8.8.8.8).
- ``2002::/16`` (6to4), ``2001::/32`` (Teredo: server and client addresses), ``64:ff9b::/96``
  (NAT64, RFC 6052), ``64:ff9b:1::/48`` (local-use NAT64, RFC 8215), ``::/96``
  (IPv4-compatible, deprecated) and ``::ffff:0:0:0/96`` (SIIT): refused as such, because
  they are a way around the guard and a webhook receiver has a native address; and their
  embedded IPv4 addresses are checked too, so an operator who allows a NAT64 prefix (an
  IPv6-only egress behind DNS64) still cannot reach 169.254.169.254 through it. The
  embedded address of a local-use NAT64 prefix depends on its length, unknown here: that
  prefix can only be allowed whole.

This table is explicit rather than left to :mod:`ipaddress`'s ``is_global``, whose answers
for these ranges differ between Python releases (3.11 calls ``2002::/16`` global).

The guard runs when a subscription is created or changed (:func:`check`), and the sender
connects only through :mod:`shipflow.webhooks.pinning`, which resolves a name once, checks
every address with :func:`resolve_checked` and connects to a checked address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
#: Prefixes refused as such (see the module's docstring), with a name for the message.
TRANSITION: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(n), name) for n, name in (
        ("2002::/16", "6to4"),
        ("2001::/32", "Teredo"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("::/96", "IPv4-compatible"),
        ("::ffff:0:0:0/96", "SIIT IPv4-translated"),
    ))
#: Prefixes whose last 32 bits are the embedded IPv4 address.
_LOW_32 = ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96")


class UrlRefused(Exception):
    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def networks(allowed: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(n, strict=False) for n in allowed]


def host_port(url: str) -> tuple[str, int]:
    """The URL's host and port, after the checks that need no DNS (scheme, credentials)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("webhook_url_scheme", "a webhook URL is http:// or https://")
    if not parts.hostname:
        raise UrlRefused("webhook_url_host", "the webhook URL has no host")
    if parts.username or parts.password:
        raise UrlRefused("webhook_url_credentials", "put no credentials in a webhook URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("webhook_url_port", "the webhook URL's port is invalid") from None
    return parts.hostname, port


def transition_name(ip: ipaddress.IPv6Address) -> str | None:
    return next((name for net, name in TRANSITION if ip in net), None)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a transition address carries (empty for a native one)."""
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if any(ip in ipaddress.IPv6Network(n) for n in _LOW_32):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def _internal(ip: Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and (ip.is_site_local or transition_name(ip)):
        return True
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
            or ip.is_multicast or ip.is_reserved or not ip.is_global)


def _refusal(ip: Address, allowed: list[Network]) -> str | None:
    """Why ``ip`` may not be reached (None: it may)."""
    def ok(a: Address) -> bool:
        return not _internal(a) or any(a in n for n in allowed)

    if isinstance(ip, ipaddress.IPv6Address) and ip in _MAPPED:
        assert ip.ipv4_mapped is not None
        return _refusal(ip.ipv4_mapped, allowed)
    if not ok(ip):
        if isinstance(ip, ipaddress.IPv6Address) and (name := transition_name(ip)):
            inner = ", ".join(str(a) for a in embedded_ipv4(ip))
            return (f"{ip}, a {name} transition address" + (f" (to {inner})" if inner else "")
                    + "; webhooks go to native public addresses only")
        return f"{ip}, an internal address; webhooks go to public addresses only"
    if isinstance(ip, ipaddress.IPv6Address):
        for inner4 in embedded_ipv4(ip):
            if not ok(inner4):
                return (f"{ip}, which carries the internal address {inner4}; webhooks go "
                        "to public addresses only")
    return None


def parse(address: str) -> Address:
    return ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone (fe80::1%eth0)


def check_addresses(host: str, addresses: Iterable[str], allowed: list[Network]) -> None:
    """Refuse unless every address may be reached (one bad answer spoils the name: a
    client may pick any of them)."""
    found = False
    for a in addresses:
        found = True
        why = _refusal(parse(a), allowed)
        if why:
            raise UrlRefused("webhook_url_not_public", f"{host} resolves to {why}")
    if not found:
        raise UrlRefused("webhook_url_unresolvable", f"{host} does not resolve")


def _unique(infos: list) -> list[str]:
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check(url: str, allowed: list[Network]) -> None:
    """Refuse the URL (:class:`UrlRefused`) unless every address it resolves to is allowed."""
    host, port = host_port(url)
    literal = _literal(host)
    if literal is not None:
        check_addresses(host, [literal], allowed)
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("webhook_url_unresolvable", f"{host} does not resolve") from None
    check_addresses(host, _unique(infos), allowed)


async def resolve_checked(host: str, port: int, allowed: list[Network]) -> list[str]:
    """Resolve ``host`` once and return its addresses, all checked (or :class:`UrlRefused`):
    the caller connects to one of these, never to the name."""
    literal = _literal(host)
    if literal is not None:  # nothing to resolve
        check_addresses(host, [literal], allowed)
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("webhook_url_unresolvable", f"{host} does not resolve") from None
    addresses = _unique(infos)
    check_addresses(host, addresses, allowed)
    return addresses
