"""Connect only to an address that passed the SSRF check: no second DNS lookup.

Checking a name and then letting the HTTP client connect *by name* resolves it twice, and a
name that answers a public address to the check and ``127.0.0.1`` to the connection (DNS
rebinding) gets past the guard. So the check and the connection share one resolution:

- httpcore, under httpx, opens every connection through a *network backend*'s
  ``connect_tcp(host, port)``. :class:`PinnedBackend` is that backend: it resolves ``host``
  once (:func:`shipflow.webhooks.ssrf.resolve_checked`), refuses the connection
  (:class:`~shipflow.webhooks.ssrf.UrlRefused`) unless **every** address passes, and opens
  the TCP connection to those checked addresses, in order, by IP. It never hands the name
  to anything that could resolve it again.
- httpcore does TLS over that stream with ``server_hostname`` = the URL's host, so SNI and
  certificate verification are for the name, not the IP; httpx sends ``Host`` from the
  URL. The receiver sees an ordinary request to its name.
- :class:`PinnedTransport` is httpx's own ``AsyncHTTPTransport`` (request mapping, error
  mapping, streaming) with its connection pool rebuilt on :class:`PinnedBackend`. The pool
  keeps connections alive per origin as usual (one pool per subscription, see the sender);
  a reused connection is one that was checked when it was opened, so a name re-pointed
  later takes effect with the next new connection, and that one is checked again.

Why this way: the network backend is httpcore's public extension point for exactly "how a
connection is opened", so the pinned IP, SNI, certificate checks, keep-alive and timeouts
all stay the library's. The alternatives are worse: rewriting the URL to the IP breaks
certificate checks and SNI (or needs ``sni_hostname`` juggling per request), and a resolver
patched process-wide (``socket.getaddrinfo``) would leak into every other client. The one
private detail touched is the transport's ``_pool`` attribute, which httpx has kept since
0.18; :class:`PinnedTransport` fails loudly at construction if that ever changes.

No proxy is used (a proxy would connect by name on our behalf): the client is built with
``trust_env=False`` and an explicit transport, so ``HTTPS_PROXY`` is ignored.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from shipflow.webhooks import ssrf


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a checked IP (``inner`` does the
    actual connecting; tests pass a recording one)."""

    def __init__(self, allowed: Sequence[ssrf.Network],
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allowed = list(allowed)
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await ssrf.resolve_checked(host, port, self.allowed)
        error: Exception | None = None
        for ip in addresses:  # every one was checked; try them in the resolver's order
            try:
                return await self.inner.connect_tcp(ip, port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        assert error is not None  # resolve_checked never returns an empty list
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise ssrf.UrlRefused("webhook_url_host", "webhooks are sent over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, connecting through :class:`PinnedBackend`."""

    def __init__(self, allowed: Sequence[ssrf.Network], *, limits: httpx.Limits,
                 verify: ssl.SSLContext | bool = True,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=context, limits=limits, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in _pool; "
                               "webhook DNS pinning needs updating")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(allowed, inner))


def client(allowed: Sequence[ssrf.Network], *, connections: int, timeout_s: float,
           verify: ssl.SSLContext | bool = True,
           inner: httpcore.AsyncNetworkBackend | None = None) -> httpx.AsyncClient:
    """A client whose every connection is pinned to a checked address; no redirects."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        transport=PinnedTransport(allowed, limits=limits, verify=verify, inner=inner),
        follow_redirects=False, timeout=httpx.Timeout(timeout_s), trust_env=False)
