"""The SSRF guard and IPv6 transition addresses that carry an IPv4 address (6to4, NAT64,
Teredo, IPv4-mapped, -compatible, -translated): refused as such, and their embedded IPv4
addresses checked like any other, even when an operator allows the prefix."""

from __future__ import annotations

import socket

import pytest

from shipflow.events.common import DomainError
from shipflow.webhooks import ssrf
from webhook_hub import ADMIN


def refusal(address: str, allowed: list[str] | None = None) -> str | None:
    try:
        ssrf.check_addresses("hooks.example.com", [address], ssrf.networks(allowed or []))
    except ssrf.UrlRefused as e:
        refused = e
    else:
        return None
    assert refused.rule == "webhook_url_not_public"
    return refused.detail


@pytest.mark.parametrize(("address", "named"), [
    ("2002:c0a8:101::1", "192.168.1.1"),          # 6to4 of a private address
    ("2002:7f00:1::1", "127.0.0.1"),              # 6to4 of loopback
    ("2002:a9fe:a9fe::1", "169.254.169.254"),     # 6to4 of cloud metadata
    ("2002:808:808::1", "6to4"),                  # 6to4 even of a public address
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"),    # NAT64 of cloud metadata
    ("64:ff9b::a00:1", "10.0.0.1"),
    ("64:ff9b::808:808", "NAT64"),                # NAT64 as such
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("::ffff:10.0.0.1", "10.0.0.1"),              # IPv4-mapped: it is that IPv4 address
    ("::ffff:127.0.0.1", "127.0.0.1"),
    ("::ffff:169.254.169.254", "169.254.169.254"),
    ("::10.0.0.1", "IPv4-compatible"),
    ("::ffff:0:a00:1", "SIIT"),
    ("fec0::1", "fec0::1"),                       # site-local (deprecated, still routed)
    ("fc00::1", "fc00::1"), ("fe80::1%eth0", "fe80::1"), ("::1", "::1"), ("::", "::"),
])
def test_transition_and_internal_ipv6_addresses_are_refused(address, named):
    detail = refusal(address)
    assert detail is not None and named in detail


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "2a00:1450:4001:82b::200e",
                                     "::ffff:8.8.8.8", "93.184.215.14"])
def test_native_public_addresses_pass(address):
    assert refusal(address) is None


def test_embedded_ipv4_is_checked_even_when_the_prefix_is_allowed():
    nat64 = ["64:ff9b::/96"]  # an IPv6-only egress behind DNS64 allows its NAT64 prefix
    assert refusal("64:ff9b::808:808", nat64) is None
    assert "169.254.169.254" in (refusal("64:ff9b::a9fe:a9fe", nat64) or "")
    assert "10.0.0.1" in (refusal("64:ff9b::a00:1", nat64) or "")
    six_to_four = ["2002::/16"]
    assert refusal("2002:808:808::1", six_to_four) is None
    assert "192.168.1.1" in (refusal("2002:c0a8:101::1", six_to_four) or "")
    teredo = ["2001::/32"]
    assert "10.8.8.8" in (refusal("2001:0:808:808::f5f7:f7f7", teredo) or "")  # the client


def test_an_allowed_ipv4_network_does_not_open_its_6to4_or_nat64_twins():
    loopback = ["127.0.0.0/8"]
    assert refusal("::ffff:127.0.0.1", loopback) is None  # the very same socket address
    assert refusal("2002:7f00:1::1", loopback) is not None
    assert refusal("64:ff9b::7f00:1", loopback) is not None


def test_embedded_ipv4_extraction():
    import ipaddress as ip
    assert ssrf.embedded_ipv4(ip.IPv6Address("2002:c0a8:101::1")) == [ip.IPv4Address(
        "192.168.1.1")]
    assert ssrf.embedded_ipv4(ip.IPv6Address("64:ff9b::a9fe:a9fe")) == [ip.IPv4Address(
        "169.254.169.254")]
    assert ssrf.embedded_ipv4(ip.IPv6Address("2001:0:808:808::f5f7:f7f7")) == [
        ip.IPv4Address("8.8.8.8"), ip.IPv4Address("10.8.8.8")]
    assert ssrf.embedded_ipv4(ip.IPv6Address("2606:4700:4700::1111")) == []


@pytest.mark.parametrize("url", ["http://[2002:c0a8:101::1]/hook",
                                 "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
                                 "http://[::ffff:10.0.0.1]:8080/x"])
def test_literal_transition_urls_are_refused(url):
    with pytest.raises(ssrf.UrlRefused) as refused:
        ssrf.check(url, [])
    assert refused.value.rule == "webhook_url_not_public"


def test_a_name_with_a_6to4_aaaa_record_is_refused_at_subscription(hub, monkeypatch):
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if host == "sneaky.example.test":
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2002:a9fe:a9fe::1", port,
                                                                  0, 0)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(DomainError) as refused:
        hub.hooks.create(ADMIN, "https://sneaky.example.test/hook", "", ["*"], None, True)
    assert (refused.value.rule, refused.value.field) == ("webhook_url_not_public", "url")
    assert "169.254.169.254" in refused.value.detail
