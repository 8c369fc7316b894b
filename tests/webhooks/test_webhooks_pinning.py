"""DNS pinning: the sender resolves a subscription's host once per connection, checks every
address, and connects to a checked address, keeping the name for ``Host``, SNI and the
certificate check. The resolver is scripted (``socket.getaddrinfo``, which asyncio's
resolver calls); connections are recorded by a network backend wrapped around the real one.
Nothing here waits for a deadline: each step happens or fails at once."""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import pytest
from tls_receiver import LocalCA, TlsReceiver

from factories import meta, order
from shipflow.events.shipment.tracking import CustomerNotice
from shipflow.webhooks import pinning, ssrf
from shipflow.webhooks.sender import Sender
from webhook_hub import ADMIN, Hub, loopback

NAME = "hooks.example.test"
PUBLIC = "93.184.215.14"  # a global address, never reached: the connector refuses it
TYPES = ["shipment.booking_requested", "shipment.booking_reviewed",
         "shipment.customer_notified"]


class Resolver:
    """Answers ``NAME`` from a script (the last answer repeats); every lookup recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: deque[str] = deque()
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host  # anyio passes bytes
            if name != NAME:
                return real(host, port, *args, **kwargs)
            answer = self.answers.popleft() if len(self.answers) > 1 else self.answers[0]
            self.lookups.append(answer)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port or 0))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def script(self, *answers: str) -> None:
        self.answers = deque(answers)
        self.lookups = []


class Connector(httpcore.AsyncNetworkBackend):
    """The real backend, recording each connect; addresses in ``refuse`` fail at once
    (as an unreachable host would, without waiting for a timeout)."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.real = httpcore.AnyIOBackend()
        self.refuse = refuse
        self.connects: list[str] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        if host in self.refuse:
            raise httpcore.ConnectError(f"test: no route to {host}")
        return await self.real.connect_tcp(host, port, timeout=timeout,
                                           local_address=local_address,
                                           socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.real.sleep(seconds)


@pytest.fixture
def resolver(monkeypatch) -> Resolver:
    return Resolver(monkeypatch)


def _one_shipment_three_events(hub: Hub) -> None:
    """Three messages for one shipment: sent one after another (per-shipment order)."""
    sid = hub.service.request_booking(order(), meta()).shipment_id
    hub.service.review(sid, [], meta())
    hub.service.notify_customer(sid, CustomerNotice(kind="BOOKING_CONFIRMATION"), meta())


def _subscribe(hub: Hub, url: str) -> None:
    hub.hooks.create(ADMIN, url, "pinned", TYPES, None, True)
    hub.dispatcher.catch_up()


def test_the_connection_goes_to_the_checked_address_and_no_second_lookup(hub, resolver):
    # Any lookup after the checked one would answer 10.9.9.9: refused, and not the receiver.
    resolver.script("127.0.0.1")
    _subscribe(hub, f"http://{NAME}:{hub.receiver.port}/pinned")
    connector = Connector()
    hub.sender = Sender(hub.service.store, hub.engine, hub.policy, hub.clock,
                        connector=connector)
    resolver.script("127.0.0.1", "10.9.9.9")
    _one_shipment_three_events(hub)
    assert hub.pump() == 3
    got = hub.receiver.on("/pinned")
    assert [r.json["type"] for r in got] == TYPES
    assert {r.headers["host"] for r in got} == {f"{NAME}:{hub.receiver.port}"}
    # one connection, kept alive for the three POSTs: one lookup, one connect, by IP
    assert resolver.lookups == ["127.0.0.1"]
    assert connector.connects == ["127.0.0.1"]


def test_dns_rebinding_after_the_check_is_not_followed(migrated, receiver, resolver):
    """The check sees a public address; the name then points at 127.0.0.1, where a
    receiver listens. Connecting by name would reach it; the pinned sender never asks."""
    resolver.script(PUBLIC)
    hub = Hub(migrated, receiver)  # no allowed networks: loopback is refused
    try:
        _subscribe(hub, f"http://{NAME}:{receiver.port}/rebound")
        connector = Connector(refuse=frozenset({PUBLIC}))
        hub.sender = Sender(hub.service.store, hub.engine, hub.policy, hub.clock,
                            connector=connector)
        resolver.script(PUBLIC, "127.0.0.1")  # the rebinding answer, for a second lookup
        hub.service.request_booking(order(), meta())
        assert hub.pump() == 1
        assert receiver.on("/rebound") == []
        assert resolver.lookups == [PUBLIC] and connector.connects == [PUBLIC]
        [attempt] = hub.hooks.delivery(1)["attempt_log"]
        assert attempt["outcome"] == "failure" and "no route" in attempt["error"]
    finally:
        hub.close()


def test_a_name_re_pointed_inside_is_refused_at_the_next_connection(hub, resolver):
    resolver.script("127.0.0.1")
    _subscribe(hub, f"http://{NAME}:{hub.receiver.port}/moved")
    connector = Connector()
    hub.sender = Sender(hub.service.store, hub.engine, hub.policy, hub.clock,
                        connector=connector)
    resolver.script("169.254.169.254")
    hub.service.request_booking(order(), meta())
    assert hub.pump() == 1
    [attempt] = hub.hooks.delivery(1)["attempt_log"]
    assert attempt["outcome"] == "refused" and "169.254.169.254" in attempt["error"]
    assert connector.connects == []  # refused before any connection


@pytest.fixture
def tls() -> Iterator[tuple[LocalCA, TlsReceiver]]:
    ca = LocalCA()
    with TlsReceiver(ca, NAME) as server:
        yield ca, server


def test_https_to_the_pinned_ip_verifies_and_presents_the_name(migrated, receiver, resolver,
                                                               tls):
    ca, server = tls
    resolver.script("127.0.0.1")
    hub = Hub(loopback(migrated), receiver)
    try:
        _subscribe(hub, f"https://{NAME}:{server.port}/tls")
        connector = Connector()
        hub.sender = Sender(hub.service.store, hub.engine, hub.policy, hub.clock,
                            verify=ca.client_context(), connector=connector)
        resolver.script("127.0.0.1", "10.9.9.9")
        _one_shipment_three_events(hub)
        assert hub.pump() == 3
        outcomes = [a["outcome"] for d in (1, 2, 3)
                    for a in hub.hooks.delivery(d)["attempt_log"]]
        assert outcomes == ["success"] * 3
    finally:
        hub.close()
    assert [(sni, host) for sni, host, _ in server.requests] == [
        (NAME, f"{NAME}:{server.port}")] * 3
    assert len({port for *_, port in server.requests}) == 1  # one kept-alive connection
    assert connector.connects == ["127.0.0.1"] and resolver.lookups == ["127.0.0.1"]


def test_the_certificate_is_checked_for_the_urls_name(resolver, tls):
    ca, server = tls
    resolver.script("127.0.0.1")
    allowed = ssrf.networks(["127.0.0.0/8"])

    async def post(url: str) -> int:
        async with pinning.client(allowed, connections=1, timeout_s=5,
                                  verify=ca.client_context()) as client:
            return (await client.post(url)).status_code

    assert asyncio.run(post(f"https://{NAME}:{server.port}/x")) == 200
    # the same server by its IP: the certificate (for NAME) does not match, refused
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(post(f"https://127.0.0.1:{server.port}/x"))
