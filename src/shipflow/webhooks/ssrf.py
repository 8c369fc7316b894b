"""The SSRF guard: a subscription URL must not reach into our own networks.

A URL is refused when its host is, or resolves to, a private (RFC 1918, unique-local),
loopback, link-local (incl. cloud metadata 169.254.169.254), unspecified, multicast or
reserved address, unless the address lies in one of ``SHIPFLOW_WEBHOOK_ALLOWED_NETWORKS``.
It is checked when a subscription is created or changed, and again before every POST (a
name can be re-pointed after the check). Only ``http`` and ``https`` are accepted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UrlRefused(Exception):
    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def networks(allowed: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(n, strict=False) for n in allowed]


def _host_port(url: str) -> tuple[str, int]:
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


def check_addresses(host: str, addresses: Iterable[str], allowed: list[Network]) -> None:
    found = False
    for a in addresses:
        found = True
        ip = ipaddress.ip_address(a.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        internal = (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
                    or ip.is_multicast or ip.is_reserved or not ip.is_global)
        if internal and not any(ip in n for n in allowed):
            raise UrlRefused("webhook_url_not_public", f"{host} resolves to {ip}, an internal "
                             "address; webhooks go to public addresses only")
    if not found:
        raise UrlRefused("webhook_url_unresolvable", f"{host} does not resolve")


def _resolved(infos: list) -> list[str]:
    return [str(info[4][0]) for info in infos]


def check(url: str, allowed: list[Network]) -> None:
    """Refuse the URL (:class:`UrlRefused`) unless every address it resolves to is allowed."""
    host, port = _host_port(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("webhook_url_unresolvable", f"{host} does not resolve") from None
    check_addresses(host, _resolved(infos), allowed)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def check_async(url: str, allowed: list[Network]) -> None:
    host, port = _host_port(url)
    literal = _literal(host)
    if literal is not None:  # nothing to resolve
        check_addresses(host, [literal], allowed)
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("webhook_url_unresolvable", f"{host} does not resolve") from None
    check_addresses(host, _resolved(infos), allowed)
